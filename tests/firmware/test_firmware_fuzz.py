"""Fuzzing the protocol engine: the host port built with AddressSanitizer and UBSan (every report
fatal) is fed well over 100,000 random and mutated commands on stdin (`--stdio`).

What is fed: mutations of every real command (bytes flipped, inserted, deleted, duplicated; NULs
and spaces inserted; cut short), random binary, over-long commands, hex chunks of every length and
parity with bad digits, `db load` sizes around and far beyond every limit (negative, 0, 2^31 and
more digits than any integer), empty and blank commands, and an unterminated tail. `infer` counts
are kept small so the run stays quick (the engine's loop over N is not what is fuzzed). Then the
binary download (docs/binary_download.md): `caps`, `db bin N CRC` headers valid and not (sizes,
CRCs, missing words, mutated), each followed by a run of raw bytes holding `%`, CR, LF and NUL, of
the right length with the right or a wrong CRC, or too short (the following commands are taken as
data) or too long (the rest is parsed as commands).

The oracle follows the engine's framing (`Framing`): commands end at `%` in command mode; after an
accepted `db bin` the next N bytes are data whatever they are. What must hold: the process ends
cleanly with no sanitizer report; every command is answered by exactly one `m-ready` line, always
the last line of its answer (an accepted `db bin` only once its N bytes are in, after its exact
acknowledgements and its CRC verdict), and nothing but a download still waiting for its bytes
follows the last one; the output is printable ASCII and line ends only, whatever came in; and the
commands the engine must refuse whole (over-long, holding a NUL, empty), `caps` and every `db bin`
get exactly their lines.

Last, random `caps` / `db bin` streams free of what the engine refuses by design (over-long
commands, NULs) go to the plain build and to VirtualDut(firmware="submit"): the same lines.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import time
import zlib
from dataclasses import dataclass, field

import pytest

from harness.virtual.dut import MAX_DB_INPUT_SIZE, atoi
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


# --- the binary download -----------------------------------------------------------------------

CRC_DIGITS = re.compile(rb"[0-9a-fA-F]{8}")


def db_bin_verdict(command: bytes, cmd_size: int, db: int, chunk: int) -> tuple | None:
    """What the engine makes of `command` if it is a `db bin` (docs/binary_download.md): None when
    it is not one (or is refused whole: over-long, a NUL), ("refused", error line) or
    ("accepted", N, CRC)."""
    if len(command) > cmd_size or b"\0" in command:
        return None
    tokens = [t for t in command.split(b" ") if t]
    if tokens[:2] != [b"db", b"bin"]:
        return None
    if not chunk:
        return ("refused", b"e-[Binary download is disabled]")
    if len(tokens) < 4:
        return ("refused", b"e-[Command 'db bin' requires the # of bytes and the CRC-32]")
    size = atoi(tokens[2].decode("latin-1"))
    if not 1 <= size <= db:
        return ("refused", b"e-[Command 'db bin' takes 1 to %d bytes]" % db)
    if not CRC_DIGITS.fullmatch(tokens[3]):
        return ("refused", b"e-[Command 'db bin' requires the CRC-32 as 8 hex digits]")
    return ("accepted", size, int(tokens[3], 16))


def download_lines(size: int, received: bytes, crc: int, chunk: int) -> list[bytes]:
    """The lines an accepted `db bin` prints for the bytes `received` so far (all N: the verdict)."""
    lines = [b"m-[Expecting %d bytes]" % size]
    lines += [b"m-ack-%d" % k for k in range(chunk, min(len(received) + 1, size), chunk)]
    if len(received) == size:
        found = zlib.crc32(received)
        lines += [b"m-load-done" if found == crc else
                  b"e-[CRC-32 mismatch: received %08x, expected %08x]" % (found, crc), READY]
    return lines


@dataclass
class Framing:
    """The engine's ee_rx framing, as a model: the commands a byte stream makes, and after each
    accepted `db bin` the N bytes that are its data. `feed` returns the commands completed, each
    as (command, verdict, data): data is None for a plain command, the N bytes for an accepted
    `db bin` once they are all in (and the command is only returned then)."""

    cmd_size: int
    db: int
    chunk: int
    pending: bytes = b""  # the command being received (command mode)
    download: tuple | None = None  # (command, verdict) of the `db bin` receiving its data
    received: list = field(default_factory=list)
    left: int = 0

    def copy(self) -> Framing:
        return Framing(self.cmd_size, self.db, self.chunk, self.pending, self.download, list(self.received),
                       self.left)

    def feed(self, data: bytes) -> list[tuple]:
        done, at = [], 0
        while at < len(data):
            if self.left:
                piece = data[at:at + self.left]
                at += len(piece)
                self.received.append(piece)
                self.left -= len(piece)
                if not self.left:
                    command, verdict = self.download
                    done.append((command, verdict, b"".join(self.received)))
                    self.download, self.received = None, []
                continue
            end = data.find(b"%", at)
            if end < 0:
                self.pending += data[at:]
                break
            command, self.pending, at = self.pending + data[at:end], b"", end + 1
            verdict = db_bin_verdict(command, self.cmd_size, self.db, self.chunk)
            if verdict is not None and verdict[0] == "accepted":
                self.download, self.left = (command, verdict), verdict[1]
            else:
                done.append((command, verdict, None))
        return done


def _bin_size(rng: random.Random, db: int, chunk: int) -> int:
    step = chunk or 64
    size = rng.choice([rng.randint(1, 16), rng.randint(1, 3 * step), db, step, 2 * step, step - 1, step + 1,
                       rng.randint(1, min(db, 4096))])
    return max(1, min(db, size))


def _raw(rng: random.Random, size: int) -> bytes:
    """Raw data: random bytes, some `%`, CR, LF and NUL among them."""
    data = bytearray(rng.randbytes(size))
    for _ in range(rng.randint(0, 1 + size // 8)):
        data[rng.randrange(size)] = rng.choice(b"%\r\n\0%")
    return bytes(data)


def binary_item(rng: random.Random, db: int, chunk: int) -> bytes:
    """`caps`, or a `db bin` header (valid or not) and a raw run of the right or a wrong length."""
    kind = rng.random()
    if kind < 0.12:
        return _mutate(rng, b"caps") + b"%" if rng.random() < 0.3 else b"caps%"
    size = _bin_size(rng, db, chunk)
    data = _raw(rng, size)
    crc = zlib.crc32(data) if rng.random() < 0.7 else rng.getrandbits(32)
    header = b"db bin %d %08x" % (size, crc) if rng.random() < 0.7 else b"db bin %d %08X" % (size, crc)
    if kind < 0.30:  # a header that is refused, or damaged on its way
        header = rng.choice([
            b"db bin", b"db bin %d" % size, b"db bin %d %07x" % (size, crc & 0xfffffff),
            b"db bin %d %08xa" % (size, crc), b"db bin %d 0x%06x" % (size, crc & 0xffffff),
            b"db bin %d %08x" % (rng.choice([0, -1, db + 1, 2**31, 10**12, rng.randint(db, 10**6)]), crc),
            b"db bin x%d %08x" % (size, crc), b"db bin %d %08x extra" % (size, crc),
            b"db  bin  %d  %08x" % (size, crc), b"db bin +%d %08x" % (size, crc),
        ])
        header = _mutate(rng, header).replace(b"%", b"") if rng.random() < 0.5 else header
    if rng.random() < 0.25:  # too short (what follows is data) or too long (the rest is commands)
        data = data[:rng.randrange(size)] if rng.random() < 0.5 else data + _raw(rng, rng.randint(1, 40))
    return header + b"%" + data


def fuzz_stream(rng: random.Random, count: int, cmd_size: int, db: int, chunk: int,
                binary_share: float = 0.12) -> tuple[bytes, Framing, list[tuple]]:
    """`count` items (commands, `caps`, downloads), the framing state after them, and the commands
    they make, in order. An item that would make an `infer` with a large N or W is not used."""
    framing, items, done = Framing(cmd_size, db, chunk), [], []
    plain = iter(commands(rng, count, cmd_size))
    while len(items) < count:
        if rng.random() < binary_share:
            item = binary_item(rng, db, chunk)
        else:
            item = next(plain, None)
            item = b"name%" if item is None else item + b"%"
        trial = framing.copy()
        completed = trial.feed(item)
        if all(_safe(command, cmd_size) for command, verdict, _ in completed if verdict is None):
            framing = trial
            items.append(item)
            done += completed
    return b"".join(items), framing, done


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


# (model, options, command buffer, binary chunk, items): the small and the large input buffer, the
# reference command buffer and the SWW reference's, an odd chunk (many acknowledgements), the
# default one and binary download switched off; the simulated clock (the model runs once per
# input) and the real one.
RUNS = [
    ("kws01", ["--sim-clock"], CMD_SIZE, 7, 100_000),
    ("ad01", [], CMD_SIZE, 0, 15_000),
    ("vww01", ["--sim-clock", "--energy"], 1028, 512, 15_000),
]


@pytest.mark.parametrize(("model_id", "options", "cmd_size", "chunk", "count"), RUNS, ids=[r[0] for r in RUNS])
def test_fuzzed_commands_are_all_answered_without_sanitizer_reports(sanitized_firmware, model_id, options,
                                                                    cmd_size, chunk, count):
    rng = random.Random(f"{SEED}-{model_id}")
    db = MAX_DB_INPUT_SIZE[model_id]
    stream, framing, fed = fuzz_stream(rng, count, cmd_size, db, chunk)
    tail = bytes(rng.randrange(256) for _ in range(50)).replace(b"%", b"")  # unterminated: no answer
    fed += framing.feed(tail)  # in command mode it is a command cut short; in a download, data
    stream += tail
    env = {**os.environ, "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=0:abort_on_error=0",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"}
    started = time.monotonic()
    try:
        done = subprocess.run([str(sanitized_firmware), "--stdio", "--model", model_id, "--cmd-size", str(cmd_size),
                               "--bin-chunk", str(chunk), *options], input=stream, capture_output=True,
                              timeout=HANG_S, env=env, check=False)
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
    waiting = []  # a download the stream ended in: its lines so far, no m-ready
    if framing.download is not None:
        waiting = download_lines(framing.download[1][1], b"".join(framing.received), framing.download[1][2], chunk)
    assert after == waiting, f"output after the last m-ready: {after[:3]}"
    boot, answers = answers[0], answers[1:]
    assert boot[0].startswith(b"m-timestamp-mode-") and boot[-2:] == [b"m-init-done", READY]
    assert len(answers) == len(fed)  # every command got exactly one m-ready, in order
    refused = {"too long": 0, "nul": 0, "empty": 0}
    binary = {"caps": 0, "refused": 0, "load-done": 0, "crc mismatch": 0, "acks": 0}
    refusals: dict[bytes, int] = {}
    caps = b"m-caps-[cmd=%d,db=%d,bin=%d]" % (cmd_size, db, chunk)
    for (command, verdict, data), answer in zip(fed, answers):
        assert answer.count(READY) == 1
        if verdict is not None and verdict[0] == "accepted":
            assert answer == download_lines(verdict[1], data, verdict[2], chunk), command
            binary["load-done" if answer[-2] == b"m-load-done" else "crc mismatch"] += 1
            binary["acks"] += len(answer) - 3
        elif verdict is not None:
            assert answer == [verdict[1], READY], command
            binary["refused"] += 1
            refusals[verdict[1]] = refusals.get(verdict[1], 0) + 1
        elif len(command) <= cmd_size and b"\0" not in command and [t for t in command.split(b" ") if t] == [b"caps"]:
            assert answer == [caps, READY], command
            binary["caps"] += 1
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
    print(f"binary download: {binary}")
    assert binary["caps"] > count // 200 and binary["refused"] > count // 200
    assert len(refusals) == (3 if chunk else 1) and min(refusals.values()) > count // 2000, refusals
    if chunk:
        assert min(binary["load-done"], binary["crc mismatch"]) > count // 200 and binary["acks"] > count // 100
    else:
        assert binary["load-done"] == binary["crc mismatch"] == 0
    # the stream reached the parts that take input: loads completed and inferences ran
    text = done.stdout
    assert text.count(b"m-load-done") > 10 and text.count(b"m-infer-done") > 10
    assert text.count(b"e-[Invalid hex digit") > 10 and text.count(b"exceeds maximum of") > 10


# --- the binary download against the virtual DUT ------------------------------------------------

CLEAN = re.compile(rb"[\x20-\x7e]{1,80}")  # where the engine and the virtual DUT agree by design


def clean_binary_stream(rng: random.Random, count: int, db: int, chunk: int) -> bytes:
    """`caps` and `db bin` headers (valid, refused, mutated), each accepted one followed by exactly
    its N raw bytes: no over-long command, NUL or unprintable byte reaches the command parser, the
    inputs on which the engine answers differently from the reference (and the virtual DUT)."""
    items = []
    while len(items) < count:
        size = _bin_size(rng, db, chunk)
        data = _raw(rng, size)
        crc = zlib.crc32(data) if rng.random() < 0.7 else rng.getrandbits(32)
        words = [b"db", b"bin", b"%d" % size, b"%08x" % crc if rng.random() < 0.7 else b"%08X" % crc]
        if rng.random() < 0.3:
            words = words[:rng.randint(0, 4)] + [b"x"] * rng.randint(0, 2)
            words = [rng.choice([w, _mutate(rng, w).replace(b"%", b"")]) for w in words]
        head = b" ".join(words)
        if rng.random() < 0.1:
            head = rng.choice([b"caps", b"caps x", b"Caps", b"db print", b"infer 1 0", b"db 00", b"db load 4"])
        if not CLEAN.fullmatch(head):
            continue
        verdict = db_bin_verdict(head, CMD_SIZE, db, chunk)
        if verdict is not None and verdict[0] == "accepted":
            items.append(head + b"%" + (data if verdict[1] == size else _raw(rng, verdict[1])))
        else:
            items.append(head + b"%")
    return b"".join(items)


@pytest.mark.parametrize(("model_id", "chunk"), [("kws01", 7), ("ic01", 512), ("ad01", 0)])
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # ad01: raw NaNs
def test_fuzzed_binary_downloads_answer_as_the_virtual_dut(host_firmware, model_id, chunk):
    """The same random `caps` / `db bin` stream to the engine and to VirtualDut(firmware="submit"):
    the same lines (lap values aside: the virtual DUT is fed without a carrier's UART time)."""
    from harness.virtual.clock import SimClock
    from harness.virtual.dut import VirtualDut
    from harness.virtual.models import BuiltinModel

    db = MAX_DB_INPUT_SIZE[model_id]
    stream = clean_binary_stream(random.Random(f"{SEED}-diff-{model_id}"), 1500, db, chunk)
    done = subprocess.run([str(host_firmware), "--stdio", "--sim-clock", "--model", model_id, "--bin-chunk",
                           str(chunk)], input=stream, capture_output=True, timeout=HANG_S, check=False)
    assert done.returncode == 0, done.stderr
    emitted: list[bytes] = []
    dut = VirtualDut(BuiltinModel(model_id), SimClock(), firmware="submit", binary_chunk=chunk,
                     command_buffer=CMD_SIZE)
    dut.attach(emitted.append)
    dut.boot()
    for at in range(0, len(stream), 256):  # in pieces, as a carrier delivers them
        dut.receive(stream[at:at + 256])
    ours, theirs = (re.sub(rb"m-lap-us-\d+", b"m-lap-us-T", text).split(b"\n")
                    for text in (done.stdout, b"".join(emitted)))
    assert len(ours) == len(theirs)
    differing = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    assert not differing, differing[:5]
    if chunk:
        assert min(done.stdout.count(b"m-load-done"), done.stdout.count(b"e-[CRC-32 mismatch")) > 100
        assert done.stdout.count(b"e-[Command 'db bin'") > 20
    else:
        assert done.stdout.count(b"e-[Binary download is disabled]") > 1000
