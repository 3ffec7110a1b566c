"""`caps` and the binary download `db bin N CRC` (docs/binary_download.md) in the C engine, through
the host port: every answer of the spec, raw bytes that would be protocol characters in command
mode, acknowledgements at exact counts, the CRC-32 check, and inferences on a binary download
giving what the same input downloaded in hex gives. Then the same conversations, step by step over
a pty, against the virtual DUT with firmware="submit", byte for byte.
"""

from __future__ import annotations

import re
import subprocess
import time
import zlib

import pytest

from harness.virtual.clock import SimClock
from harness.virtual.dut import HELP_LINES, MAX_DB_INPUT_SIZE, VirtualDut
from harness.virtual.models import BuiltinModel
from harness.virtual.pty import PtyDevice
from helpers.firmware import BAUD, REPO, HostFirmware, build, require_toolchain, sim_args

# ad01 inputs made of arbitrary bytes hold float32 NaNs and infinities, on which BuiltinModel's numpy
# casts warn; the scores are still defined (NaN counts as 0), in C as in Python
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

INFER_US = 30_000
READY = b"m-ready"
# every byte command mode gives a meaning to: the terminator, line ends, NUL, and a non-ASCII byte
AWKWARD = b"%\r\n\0\xff"
REFUSED_ARGS = b"e-[Command 'db bin' requires the # of bytes and the CRC-32]"
REFUSED_HEX = b"e-[Command 'db bin' requires the CRC-32 as 8 hex digits]"
DISABLED = b"e-[Binary download is disabled]"


def _refused_size(db_size: int) -> bytes:
    return b"e-[Command 'db bin' takes 1 to %d bytes]" % db_size


def _data(size: int, seed: int = 1) -> bytes:
    """`size` bytes with every awkward byte in them, at chunk boundaries too."""
    body = bytes((i * 53 + seed * 17 + 3) % 256 for i in range(size))
    return bytes(AWKWARD[i % len(AWKWARD)] if i % 3 == 0 else b for i, b in enumerate(body))


def _header(data: bytes, crc: int | None = None, upper: bool = False) -> bytes:
    text = b"%08X" if upper else b"%08x"
    return b"db bin %d " % len(data) + text % (zlib.crc32(data) if crc is None else crc) + b"%"


def _hex_load(data: bytes) -> bytes:
    return b"db load %d%%" % len(data) + b"".join(b"db " + data[i:i + 38].hex().encode() + b"%"
                                                  for i in range(0, len(data), 38))


def _stdio(binary, stream: bytes, *args: str, model: str = "kws01") -> list[bytes]:
    """The lines the firmware (--stdio, simulated clock) prints for `stream`, boot banner removed."""
    done = subprocess.run([str(binary), "--stdio", "--sim-clock", "--model", model, *args], input=stream,
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr.decode(errors="replace")
    lines = done.stdout.split(b"\n")
    assert lines.pop() == b""  # the output ends with a line end
    lines = [line.removesuffix(b"\r") for line in lines]
    boot = lines.index(READY)
    assert lines[boot - 1] == b"m-init-done"
    return lines[boot + 1:]


def _expected_download(size: int, chunk: int, last: bytes = b"m-load-done") -> list[bytes]:
    acks = [b"m-ack-%d" % k for k in range(chunk, size, chunk)]
    return [b"m-[Expecting %d bytes]" % size, *acks, last, READY]


def _results(lines: list[bytes]) -> list[bytes]:
    return [line for line in lines if line.startswith(b"m-results-[")]


# --- caps -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "args", "line"), [
    ("kws01", [], b"m-caps-[cmd=80,db=490,bin=512]"),  # the defaults
    ("vww01", ["--cmd-size", "1028", "--bin-chunk", "0"], b"m-caps-[cmd=1028,db=27648,bin=0]"),
    ("ad01", ["--cmd-size", "4", "--bin-chunk", "1048576"], b"m-caps-[cmd=4,db=5120,bin=1048576]"),
])
def test_caps_reports_the_command_buffer_the_db_buffer_and_the_chunk(host_firmware, model, args, line):
    assert _stdio(host_firmware, b"caps%", *args, model=model) == [line, READY]


def test_help_does_not_list_the_new_commands(host_firmware):
    lines = _stdio(host_firmware, b"help%")
    assert not any(b"caps" in line or b"bin" in line for line in lines)
    assert len(lines) == 1 + len(HELP_LINES) + 1 and lines[-1] == READY


def test_caps_and_db_bin_take_exact_words(host_firmware):
    lines = _stdio(host_firmware, b"Caps%caps extra words%bin 1 00000000%db Bin 1 00000000%")
    assert lines == [b"e-[Unknown command: Caps]", READY, b"m-caps-[cmd=80,db=490,bin=512]", READY,
                     b"e-[Unknown command: bin]", READY, b"e-[Insufficent number of hex digits]", READY]


# --- refusals ---------------------------------------------------------------------------------

def _refusals(db: int) -> list[tuple[bytes, bytes]]:
    """(command, its error line) for a db buffer of `db` bytes: every way `db bin` is refused."""
    return [
        (b"db bin", REFUSED_ARGS),
        (b"db bin 4", REFUSED_ARGS),
        (b"db   bin    4  ", REFUSED_ARGS),
        (b"db bin 0 0123abcd", _refused_size(db)),
        (b"db bin %d 0123abcd" % (db + 1), _refused_size(db)),
        (b"db bin -1 0123abcd", _refused_size(db)),
        (b"db bin x 0123abcd", _refused_size(db)),  # atoi: 0
        (b"db bin 99999999999 0123abcd", _refused_size(db)),  # saturates, then too big
        (b"db bin 4 0123abc", REFUSED_HEX),
        (b"db bin 4 0123abcde", REFUSED_HEX),
        (b"db bin 4 0123abcg", REFUSED_HEX),
        (b"db bin 4 0x123abc", REFUSED_HEX),
        (b"db bin 4 -0123abc", REFUSED_HEX),
        (b"db bin 0 x", _refused_size(db)),  # the size is checked before the CRC
    ]


REFUSALS = _refusals(490)


def test_each_refusal_has_its_line_and_leaves_the_buffer_as_it_was(host_firmware):
    load, after = _hex_load(_data(490)), b"db print%infer 1 0%db 00%"
    loaded = _stdio(host_firmware, load)
    assert loaded[-2:] == [b"m-load-done", READY]
    refusals = [line for _, error in REFUSALS for line in (error, READY)]
    lines = _stdio(host_firmware, load + b"".join(c + b"%" for c, _ in REFUSALS) + after)
    assert lines[:len(loaded)] == loaded
    assert lines[len(loaded):len(loaded) + len(refusals)] == refusals
    # the buffer, and so the inference, is the hex download's (the clocks differ: laps left out)
    rest = lines[len(loaded) + len(refusals):]
    without = _stdio(host_firmware, load + after)[len(loaded):]
    assert [x for x in rest if not x.startswith(b"m-lap-us-")] == [x for x in without if not x.startswith(b"m-lap-us-")]
    assert sum(x.startswith(b"m-buffer-") for x in rest) == 62 and len(_results(rest)) == 1
    assert rest[-2:] == [b"e-[No room in the db buffer: send 'db load N' first]", READY]


def test_a_disabled_binary_download_is_refused_before_its_arguments_are_read(host_firmware):
    commands = [b"db bin", b"db bin 4 0123abcd", b"db bin 0 x"]
    lines = _stdio(host_firmware, b"".join(c + b"%" for c in commands) + b"caps%", "--bin-chunk", "0")
    assert lines == [DISABLED, READY] * 3 + [b"m-caps-[cmd=80,db=490,bin=0]", READY]


# --- accepted downloads -----------------------------------------------------------------------

# (model, size, chunk): one byte, exact multiples of the chunk, not multiples, a chunk of one
# byte, a chunk larger than the input, the whole db buffer (ad01: two windows, vww01: 27 KB)
SIZES = [
    ("kws01", 1, 512),
    ("kws01", 2, 1),
    ("kws01", 490, 49),
    ("kws01", 490, 64),
    ("kws01", 490, 490),
    ("kws01", 490, 512),
    ("kws01", 489, 163),
    ("ic01", 3072, 512),
    ("ic01", 3072, 500),
    ("ad01", 5120, 512),
    ("ad01", 2560, 1000),
    ("vww01", 27648, 4096),
]


@pytest.mark.parametrize(("model", "size", "chunk"), SIZES, ids=[f"{m}-{n}-by-{c}" for m, n, c in SIZES])
def test_download_acknowledges_each_chunk_and_infers_as_the_hex_path(host_firmware, model, size, chunk):
    data = _data(size, seed=size + chunk)
    stream = _header(data) + data + b"db print%infer 1 0%db 00%"
    lines = _stdio(host_firmware, stream, "--bin-chunk", str(chunk), model=model)
    download = _expected_download(size, chunk)
    assert lines[:len(download)] == download
    rows = lines[len(download):]
    printed = bytearray()
    for row in rows:
        if row.startswith(b"m-buffer-"):
            printed += bytes.fromhex(row.removeprefix(b"m-buffer-").replace(b"-", b"").decode())
    assert bytes(printed) == data
    assert rows[-2:] == [b"e-[No room in the db buffer: send 'db load N' first]", READY]  # the load is complete
    by_hex = _stdio(host_firmware, _hex_load(data) + b"infer 1 0%", model=model)
    results = _results(rows)
    assert len(results) == 1 and results == _results(by_hex)
    if size >= BuiltinModel(model).input_size:  # the model's own answer for this input
        values = BuiltinModel(model).run(data[:BuiltinModel(model).input_size])
        assert results[0] == b"m-results-[" + ",".join(f"{float(v):0.3f}" for v in values).encode() + b"]"
    else:
        assert any(line.startswith(b"Input db has") for line in rows)


def test_crc_in_upper_case_is_accepted_and_extra_words_ignored(host_firmware):
    data = _data(100)
    lines = _stdio(host_firmware, _header(data, upper=True) + data
                   + b"db bin 100 %08x more words%%" % zlib.crc32(data) + data)
    assert lines == _expected_download(100, 512) * 2


def test_a_crc_mismatch_empties_the_buffer(host_firmware):
    data = _data(490)
    good = zlib.crc32(data)
    stream = (_hex_load(_data(490, seed=9)) + _header(data, crc=good ^ 0x80000001) + data
              + b"db print%infer 1 0%db 00%" + _header(data) + data + b"infer 1 0%")
    lines = _stdio(host_firmware, stream, "--bin-chunk", "100")
    lines = lines[lines.index(b"m-load-done") + 2:]  # after the hex download
    mismatch = b"e-[CRC-32 mismatch: received %08x, expected %08x]" % (good, good ^ 0x80000001)
    download = _expected_download(490, 100, last=mismatch)
    assert lines[:len(download)] == download
    assert re.fullmatch(rb"e-\[CRC-32 mismatch: received [0-9a-f]{8}, expected [0-9a-f]{8}\]", mismatch)
    rest = lines[len(download):]
    # db print shows nothing (0 bytes loaded); infer runs on the previous tensor and says why
    assert rest[0] == READY
    assert rest[1] == b"Input db has 0 elemented, expected 490"
    infer_end = rest.index(READY, 1)
    assert rest[infer_end + 1:infer_end + 3] == [b"e-[No room in the db buffer: send 'db load N' first]", READY]
    # the same input sent again with its right CRC loads and runs
    again = rest[infer_end + 3:]
    assert again[:len(_expected_download(490, 100))] == _expected_download(490, 100)
    assert _results(again) == _results(_stdio(host_firmware, _hex_load(data) + b"infer 1 0%"))


def test_ad01_mismatch_counts_float32_elements(host_firmware):
    data = _data(2560)
    lines = _stdio(host_firmware, _header(data, crc=0) + data + b"infer 1 0%", model="ad01")
    assert lines[lines.index(READY) + 1] == b"Input db has 0 elemented, expected 640"


def test_the_spec_recovery_from_a_lost_transfer(host_firmware):
    """A host that lost the acknowledgement after the first chunk sends N - acked spaces and `%`:
    the download ends (its CRC check fails on the spaces) and the `%` is an empty command."""
    data = _data(300)
    first = data[:128]
    lines = _stdio(host_firmware, _header(data) + first + b" " * (300 - 128) + b"%name%", "--bin-chunk", "128")
    received = first + b" " * (300 - 128)
    mismatch = b"e-[CRC-32 mismatch: received %08x, expected %08x]" % (zlib.crc32(received), zlib.crc32(data))
    assert lines == [b"m-[Expecting 300 bytes]", b"m-ack-128", b"m-ack-256", mismatch, READY,
                     b"e-[Empty command]", READY, b"m-name-dut-[host]", READY]


def test_a_download_spans_any_number_of_reads(host_firmware):
    """Bytes fed one at a time through a pipe, with pauses, give the same answer as all at once."""
    data = _data(200)
    process = subprocess.Popen([str(host_firmware), "--stdio", "--bin-chunk", "64"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for i, byte in enumerate(_header(data) + data):
            process.stdin.write(bytes([byte]))
            process.stdin.flush()
            if i % 50 == 0:
                time.sleep(0.002)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0 and not err
    assert out.endswith(b"\r\n".join(_expected_download(200, 64)) + b"\r\n")


# --- byte for byte with the virtual DUT -------------------------------------------------------

def _step(data: bytes, until: bytes = rb"m-ready") -> tuple[bytes, re.Pattern]:
    return data, re.compile(rb"(?:^|\n)(?:" + until + rb")\r\n\Z")


HEADER_END = rb"m-ready|m-\[Expecting \d+ bytes\]"
CHUNK_END = rb"m-ready|m-ack-\d+"


def _download_steps(data: bytes, chunk: int, crc: int | None = None, upper: bool = False) -> list:
    """A host's conversation: the header, then one chunk per acknowledgement (no data after a
    header that `bin=0` refuses)."""
    steps = [_step(_header(data, crc, upper), HEADER_END)]
    if chunk:
        steps += [_step(data[i:i + chunk], CHUNK_END) for i in range(0, len(data), chunk)]
    return steps


def _script(model: str, chunk: int) -> list:
    db = MAX_DB_INPUT_SIZE[model]
    size = BuiltinModel(model).input_size
    data, other = _data(size, 4), _data(size, 5)
    steps = [_step(b"caps%"), _step(b"help%")]
    steps += [_step(command + b"%") for command, _ in _refusals(db)]
    steps += [_step(b"db bin 5x 0123abcd more%", HEADER_END)]
    if chunk:
        steps += [_step(b"\x01\x02%\r\x00", CHUNK_END)]  # the 5 bytes of `db bin 5x`
    steps += [_step(c) for c in re.findall(rb"[^%]*%", _hex_load(other))]  # a hex download to keep
    steps += [_step(b"db bin 3 0123abc%"), _step(b"infer 1 0%")]
    steps += _download_steps(data, chunk)  # the special bytes, chunk by chunk
    steps += [_step(b"db print%"), _step(b"infer 2 1%"), _step(b"results%"), _step(b"db 00%")]
    steps += _download_steps(other, chunk, crc=zlib.crc32(other) ^ 1)  # a mismatch
    steps += [_step(b"db print%"), _step(b"infer 1 0%"), _step(b"db 00%")]
    steps += _download_steps(other, chunk, upper=True)
    steps += [_step(b"infer 1 0%"), _step(b"db bin 1 %08x%%" % zlib.crc32(b"%"), HEADER_END),
              _step(b"%", CHUNK_END), _step(b"db print%")]
    steps += _download_steps(_data(db, 6), chunk)  # the whole buffer
    if chunk:  # all at once, then a lost transfer recovered as the spec says
        whole = _data(db, 7)
        steps += [_step(_header(whole) + whole)]
        steps += _download_steps(whole, chunk)[:2]
        if chunk < db:  # the spaces end the transfer: with m-ready, after any acknowledgements
            steps += [_step(b" " * (db - chunk)), _step(b"%")]
    return steps + [_step(b"timestamp%")]


def _converse(port: str, steps: list, timeout_s: float = 10.0) -> list[bytes]:
    """Each step's bytes, then the answer up to the line its pattern ends with."""
    import serial

    answers = []
    link = serial.serial_for_url(port, baudrate=BAUD, timeout=0.05)
    try:
        for data, until in steps:
            link.write(data)
            answer = b""
            deadline = time.monotonic() + timeout_s
            while not until.search(answer):
                if time.monotonic() > deadline:
                    raise AssertionError(f"no answer to {data[:40]!r}; got {answer[-200:]!r}")
                answer += link.read(max(1, link.in_waiting))
            answers.append(answer)
        time.sleep(0.05)
        assert link.read(link.in_waiting or 1) == b"", "output after the last answer"
    finally:
        link.close()
    return answers


CONFIGS = [("kws01", 80, 512), ("kws01", 80, 64), ("ic01", 1028, 100), ("ad01", 80, 0), ("vww01", 80, 4096)]


@pytest.mark.parametrize(("model", "cmd_size", "chunk"), CONFIGS, ids=[f"{m}-cmd{c}-bin{b}" for m, c, b in CONFIGS])
def test_binary_conversations_are_byte_identical_to_the_virtual_dut(host_firmware, model, cmd_size, chunk):
    steps = _script(model, chunk)
    clock = SimClock()
    dut = VirtualDut(BuiltinModel(model), clock, infer_cost_us=INFER_US, uart_baud=BAUD, firmware="submit",
                     binary_chunk=chunk, command_buffer=cmd_size)
    with PtyDevice(dut, clock=clock, baud=BAUD, pace=False) as device:
        assert device.drain()
        expected = _converse(device.port, steps)
    with HostFirmware(host_firmware, *sim_args(model, INFER_US), "--cmd-size", str(cmd_size),
                      "--bin-chunk", str(chunk)) as fw:
        answers = _converse(fw.port, steps)
    assert fw.returncode == 0
    assert len(answers) == len(expected) == len(steps)
    for (data, _), ours, theirs in zip(steps, answers, expected):
        assert ours == theirs, data[:60]
    # the comparison covered what matters, not a run of identical refusals
    text = b"".join(answers)
    assert text.count(b"m-caps-[") == 1 and b"m-results-[" in text
    if chunk:
        db = MAX_DB_INPUT_SIZE[model]
        assert text.count(b"e-[CRC-32 mismatch") == 2 + (chunk < db) and text.count(b"m-load-done") >= 5
        assert (b"m-ack-" in text) == (chunk < MAX_DB_INPUT_SIZE[model])
    else:
        assert text.count(DISABLED) > 10 and b"m-ack-" not in text


# --- configurations written before bin_chunk --------------------------------------------------

OLD_PORT = r"""
#include <stdio.h>
#include "ee_engine.h"
#include "ee_hooks.h"

void th_serial_write(const char *data, size_t len) { fwrite(data, 1, len, stdout); }
uint32_t th_timestamp_us(void) { return 0; }
void th_timestamp_pulse(void) {}
void th_load_tensor(const uint8_t *db, size_t loaded) { (void)db; (void)loaded; }
void th_infer(void) {}
int th_result(size_t index, double *value) { (void)index; (void)value; return 0; }

static char cmd[80 + 1];
static uint8_t db[490];
static const uint8_t input[] = "caps%db bin 4 00000000%name%";

int main(void)
{
    /* the header's example before bin_chunk: eight initialisers, the ninth field is zero */
    ee_config_t cfg = {cmd, sizeof cmd - 1, db, sizeof db, "vendor", "kws01", NULL, 0};

    if (ee_init(&cfg) != 0)
        return 1;
    ee_boot();
    ee_rx(input, sizeof input - 1);
    return 0;
}
"""


def test_a_configuration_written_before_bin_chunk_has_binary_download_off(tmp_path):
    cc, _ = require_toolchain()
    api = REPO / "firmware" / "api"
    (tmp_path / "old_port.c").write_text(OLD_PORT, encoding="ascii")
    # -Wextra would flag the missing initialiser (-Wmissing-field-initializers): the point here is
    # that such a port, built with its own flags, still runs
    built = subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-pedantic", "-O2", f"-I{api}",
                            str(tmp_path / "old_port.c"), str(api / "ee_engine.c"), str(api / "ee_format.c"),
                            "-o", str(tmp_path / "old_port")], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    done = subprocess.run([str(tmp_path / "old_port")], capture_output=True, timeout=10, check=False)
    assert done.returncode == 0
    assert done.stdout.split(b"m-init-done\r\nm-ready\r\n", 1)[1] == (
        b"m-caps-[cmd=80,db=490,bin=0]\r\nm-ready\r\n" + DISABLED + b"\r\nm-ready\r\n"
        b"m-name-dut-[vendor]\r\nm-ready\r\n")


def test_built_without_the_binary_download_it_answers_as_the_reference(tmp_path):
    """-DEE_BINARY_DOWNLOAD=0 (a port short of flash): `caps` and `db bin` are unknown input, as for
    the reference firmware, so the harness asks, hears no capabilities and downloads in hex."""
    binary = build(tmp_path / "fw", CFLAGS="-DEE_BINARY_DOWNLOAD=0") / "host-firmware"
    data = _data(490)
    lines = _stdio(binary, b"caps%" + _header(data) + _hex_load(data) + b"db print%")
    assert lines[:4] == [b"e-[Unknown command: caps]", READY, b"e-[Insufficent number of hex digits]", READY]
    assert b"m-load-done" in lines
    printed = b"".join(line[len(b"m-buffer-"):].replace(b"-", b"") for line in lines if line.startswith(b"m-buffer-"))
    assert bytes.fromhex(printed.decode()) == data
