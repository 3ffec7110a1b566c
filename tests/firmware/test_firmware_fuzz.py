"""Fuzzing the protocol engine: the host port built with AddressSanitizer and UBSan (every report
fatal) is fed well over 100,000 random and mutated commands on stdin (`--stdio`).

What is fed: mutations of every real command (bytes flipped, inserted, deleted, duplicated; NULs
and spaces inserted; cut short), random binary, over-long commands, hex chunks of every length and
parity with bad digits, `db load` sizes around and far beyond every limit (negative, 0, 2^31 and
more digits than any integer), empty and blank commands, and an unterminated tail. `infer` counts
are kept small so the run stays quick (the engine's loop over N is not what is fuzzed).

What must hold: the process ends cleanly with no sanitizer report; every `%` is answered by exactly
one `m-ready` line, always the last line of its answer, and nothing follows the last one; the
output is printable ASCII and line ends only, whatever came in; and the commands the engine must
refuse whole (over-long, holding a NUL, empty) get exactly their error line.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import time

import pytest

from harness.virtual.dut import atoi
from helpers.firmware import build

SEED = int(os.environ.get("FIRMWARE_FUZZ_SEED", "20240611"))
CMD_SIZE = 80
HANG_S = 60  # each run takes about a second, even under the sanitizers
READY = b"m-ready"
SANITIZER_REPORT = re.compile(rb"AddressSanitizer|UndefinedBehaviorSanitizer|runtime error|LeakSanitizer|SUMMARY:")

SEEDS = [
    b"name", b"profile", b"help", b"timestamp", b"results", b"db", b"db print", b"db print 8 4",
    b"db load", b"db load 0", b"db load -1", b"db load 16", b"db load 490", b"db load 491",
    b"db load 2147483648", b"db load 99999999999999999999", b"db load +7", b"db load \t12",
    b"db 00ff10", b"db 0A0b0C", b"db 0", b"db zz", b"db " + bytes(range(48, 58)) * 7 + b"01",
    b"infer", b"infer 1", b"infer 1 0", b"infer 3 2", b"infer 0", b"infer -1", b"infer 1 -1", b"infer x y",
]


def _safe(command: bytes, cmd_size: int) -> bool:
    """False for an `infer` whose N or W the engine would take as large (slow, not interesting)."""
    if len(command) > cmd_size or b"\0" in command:
        return True  # refused whole, never run
    tokens = [t for t in command.split(b" ") if t]
    if not tokens or tokens[0] != b"infer":
        return True
    n = atoi(tokens[1].decode("latin-1")) if len(tokens) > 1 else 1
    w = atoi(tokens[2].decode("latin-1")) if len(tokens) > 2 else 10
    return n <= 64 and w <= 64


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        at = rng.randint(0, len(out))
        if op == 0 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 1:
            out[at:at] = bytes([rng.randrange(256)])
        elif op == 2 and out:
            del out[min(at, len(out) - 1)]
        elif op == 3 and out:
            start = rng.randrange(len(out))
            out[at:at] = out[start:start + rng.randint(1, 40)]
        elif op == 4:
            out[at:at] = b"\0"
        elif op == 5:
            out[at:at] = b" " * rng.randint(1, 3)
        elif op == 6:
            del out[at:]
        else:
            out[at:at] = str(rng.choice([0, -1, 10**rng.randint(1, 25), rng.randrange(-600, 30000)])).encode()
    return bytes(out)


def _hex_chunk(rng: random.Random) -> bytes:
    digits = rng.randint(0, 90)
    alphabet = b"0123456789abcdefABCDEF" if rng.random() < 0.8 else b"0123456789abcdefxyzG!~\x00\xff-"
    return b"db " + bytes(rng.choice(alphabet) for _ in range(digits))


def commands(rng: random.Random, count: int, cmd_size: int) -> list[bytes]:
    out = []
    while len(out) < count:
        kind = rng.random()
        if kind < 0.35:
            command = _mutate(rng, rng.choice(SEEDS))
        elif kind < 0.50:
            command = bytes(rng.randrange(256) for _ in range(rng.randint(0, 120)))
        elif kind < 0.58:  # over-long: printable, a real command's start, or a hex chunk
            head = rng.choice([b"", b"db ", b"name ", b"infer 1 "])
            command = head + bytes(rng.randrange(0x21, 0x7f) for _ in range(rng.randint(cmd_size - len(head) + 1, cmd_size + 600)))
        elif kind < 0.72:
            command = _hex_chunk(rng)
        elif kind < 0.80:
            size = rng.choice([0, 1, -1, 7, 16, 489, 490, 491, 2560, 5120, 27648, 27649, 2**31 - 1, 2**31, -(2**31),
                               2**32 + 5, 10**30, rng.randrange(-10**6, 10**6)])
            command = b"db load " + str(size).encode()
        elif kind < 0.85:
            command = b" " * rng.randint(0, 5)
        elif kind < 0.95:
            command = rng.choice(SEEDS)
        else:
            command = b"infer %d %d" % (rng.randint(-3, 40), rng.randint(-3, 40))
        command = command.replace(b"%", b"")
        if _safe(command, cmd_size):
            out.append(command)
    return out


def _answers(output: bytes) -> tuple[list[list[bytes]], list[bytes]]:
    """The output cut into answers, each ending with its m-ready line, and what follows the last."""
    answers, current = [], []
    lines = output.split(b"\n")
    tail = lines.pop()  # after the last line end: must be empty
    for line in lines:
        line = line.removesuffix(b"\r")
        current.append(line)
        if line == READY:
            answers.append(current)
            current = []
    return answers, current + ([tail] if tail else [])


@pytest.fixture(scope="module")
def sanitized_firmware(tmp_path_factory):
    return build(tmp_path_factory.mktemp("fw-asan"), SANITIZE="1") / "host-firmware"


# (model, options, commands): the small and the large input buffer, the reference command buffer
# and the SWW reference's; the simulated clock (the model runs once per input) and the real one.
RUNS = [
    ("kws01", ["--sim-clock"], CMD_SIZE, 100_000),
    ("ad01", [], CMD_SIZE, 15_000),
    ("vww01", ["--sim-clock", "--energy"], 1028, 15_000),
]


@pytest.mark.parametrize(("model_id", "options", "cmd_size", "count"), RUNS, ids=[r[0] for r in RUNS])
def test_fuzzed_commands_are_all_answered_without_sanitizer_reports(sanitized_firmware, model_id, options,
                                                                    cmd_size, count):
    rng = random.Random(f"{SEED}-{model_id}")
    fed = commands(rng, count, cmd_size)
    tail = bytes(rng.randrange(256) for _ in range(50)).replace(b"%", b"")  # unterminated: no answer
    stream = b"".join(c + b"%" for c in fed) + tail
    env = {**os.environ, "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=0:abort_on_error=0",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    started = time.monotonic()
    try:
        done = subprocess.run([str(sanitized_firmware), "--stdio", "--model", model_id, "--cmd-size", str(cmd_size),
                               *options], input=stream, capture_output=True, timeout=HANG_S, env=env, check=False)
    except subprocess.TimeoutExpired as exc:  # the run takes about a second: this is a hang
        pytest.fail(f"the firmware did not finish {len(fed)} commands in {HANG_S} s (a loop that never ends?); "
                    f"last output: {(exc.stdout or b'')[-300:]!r}")
    seconds = time.monotonic() - started
    print(f"\nfuzz {model_id}: {len(fed)} commands, {len(stream)} bytes in, {len(done.stdout)} bytes out, "
          f"{seconds:.1f} s (seed {SEED})")

    assert not SANITIZER_REPORT.search(done.stderr), done.stderr.decode(errors="replace")[-3000:]
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    assert re.fullmatch(rb"[\x20-\x7e\r\n]*", done.stdout), "a byte that is not printable ASCII was printed"
    answers, after = _answers(done.stdout)
    assert after == [], f"output after the last m-ready: {after[:3]}"
    boot, answers = answers[0], answers[1:]
    assert boot[0].startswith(b"m-timestamp-mode-") and boot[-2:] == [b"m-init-done", READY]
    assert len(answers) == len(fed)  # every % got exactly one m-ready, in order
    refused = {"too long": 0, "nul": 0, "empty": 0}
    for command, answer in zip(fed, answers):
        assert answer.count(READY) == 1
        if len(command) > cmd_size:
            assert answer == [b"e-[Command longer than %d characters]" % cmd_size, READY], command[:60]
            refused["too long"] += 1
        elif b"\0" in command:
            assert answer == [b"e-[Command contains a NUL byte]", READY], command
            refused["nul"] += 1
        elif not command.strip(b" "):
            assert answer == [b"e-[Empty command]", READY]
            refused["empty"] += 1
    assert all(n > count // 100 for n in refused.values()), refused  # each refusal was exercised
    # the stream reached the parts that take input: loads completed and inferences ran
    text = done.stdout
    assert text.count(b"m-load-done") > 10 and text.count(b"m-infer-done") > 10
    assert text.count(b"e-[Invalid hex digit") > 10 and text.count(b"exceeds maximum of") > 10
