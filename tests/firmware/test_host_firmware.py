"""The C firmware (firmware/api + firmware/ports/host) against the harness's virtual DUT.

The host port started with `--pty --sim-clock` runs the virtual DUT's built-in models on the
virtual DUT's simulated clock, so for the same inputs the harness must produce byte-identical
results: the same results.json (lap stamps, elapsed times, throughputs, result vectors) and the
same results.txt once the wall-clock stamps are taken out. Each mode is run twice through the
harness's own API (`harness.run.run`), once against the firmware's pty, once against `port:
virtual` with firmware "submit" (the host port's `caps`, so the same transfer: `db bin` unless the
run asks for hex). Then every command of protocol.md 1.3, including each error, and `caps` and
`db bin` are sent to both and the raw answer bytes compared, in performance and in energy mode
(tests/firmware/test_firmware_binary.py compares whole binary conversations).
"""

from __future__ import annotations

import io
import json
import random
import re
import signal
import subprocess
import time
import zlib

import pytest

from harness.config import load_config
from harness.progress import Progress
from harness.run import run
from harness.virtual.clock import SimClock
from harness.virtual.dut import MAX_DB_INPUT_SIZE, VirtualDut
from harness.virtual.models import BuiltinModel, synthetic_dataset
from harness.virtual.pty import PtyDevice
from helpers.firmware import BAUD, HostFirmware, exchange, sim_args

# Simulated cost of one inference: large enough that a 10 s performance window takes a few hundred
# inferences (quick to run), small enough that calibration takes several passes.
INFER_US = 30_000
STAMP = re.compile(r"^\d{4}\.\d{6} ulp-mlperf: ?")  # the runner's MMDD.HHMMSS prefix: wall time

# (model, mode, inputs, transfer): every model, both modes that talk to the DUT directly; ad01's
# accuracy run sends every sliding window (10 per file) and prints float scores, not probabilities.
# `auto` downloads with `db bin` (both DUTs offer it), `hex` with `db load` and hex chunks.
RUNS = [
    ("kws01", "performance", 5, "auto"),
    ("kws01", "accuracy", 24, "auto"),
    ("kws01", "accuracy", 24, "hex"),
    ("ic01", "performance", 5, "auto"),
    ("ic01", "accuracy", 10, "hex"),
    ("vww01", "accuracy", 4, "auto"),
    ("ad01", "performance", 5, "auto"),
    ("ad01", "accuracy", 3, "auto"),
]
# the host port's defaults, also the virtual DUT's; spelled out so that a change to either shows here
CMD_SIZE, BIN_CHUNK = 80, 512


def _config(path, model_id: str, dataset, device: str, transfer: str = "auto") -> object:
    lines = [f"benchmark: {model_id}", f"dataset: {dataset}", "devices:",
             f"  dut: {{port: {device}, transfer: {transfer}}}"]
    if device == "virtual":
        lines.append(f"virtual: {{model: builtin, pace: false, infer_us: {INFER_US}, firmware: submit, "
                     f"binary_chunk: {BIN_CHUNK}, command_buffer: {CMD_SIZE}}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)


def _session(config, mode: str, out):
    outcome = run(config, mode, out=out, progress=Progress(io.StringIO()))
    assert outcome.status == "complete", outcome
    return outcome


def _unstamped(path) -> list[str]:
    return [STAMP.sub("", line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(("model_id", "mode", "count", "transfer"), RUNS,
                         ids=[f"{m}-{mode}-{t}" for m, mode, _, t in RUNS])
def test_harness_sessions_are_byte_identical(host_firmware, tmp_path, model_id, mode, count, transfer):
    dataset = synthetic_dataset(model_id, tmp_path / "dataset", count)
    with HostFirmware(host_firmware, *sim_args(model_id, INFER_US), "--cmd-size", str(CMD_SIZE),
                      "--bin-chunk", str(BIN_CHUNK)) as firmware:
        config = _config(tmp_path / "firmware.yaml", model_id, dataset, firmware.port, transfer)
        measured = _session(config, mode, tmp_path / "firmware-sessions")
    # the firmware noticed the harness closing its port and ended by itself, cleanly
    assert firmware.returncode == 0, firmware.stderr.decode(errors="replace")
    virtual = _session(_config(tmp_path / "virtual.yaml", model_id, dataset, "virtual", transfer), mode,
                       tmp_path / "virtual-sessions")
    # the download went the way the run asked, on both (the session log has every line sent)
    for outcome in (measured, virtual):
        log = (outcome.session_dir / "log.txt").read_text(encoding="utf-8")
        assert ("db bin " in log) == (transfer == "auto") and ("db load " in log) == (transfer == "hex")

    ours = (measured.session_dir / "results.json").read_bytes()
    theirs = (virtual.session_dir / "results.json").read_bytes()
    assert ours == theirs
    records = json.loads(ours)
    windows = 10 * count if model_id == "ad01" and mode == "accuracy" else count
    assert len(records) == windows  # the comparison covered every window, not an empty file
    if mode == "performance":
        # the simulated clock, not the host's speed, timed the windows: N inferences of INFER_US
        # plus the first lap line's UART time, as on a board whose printf blocks
        for record in records:
            infer = record["infer"]
            lap_line_us = len(f"m-lap-us-{infer['start_time']}\r\n") * 10e6 / BAUD
            assert abs(infer["elapsed_time"] - infer["iterations"] * INFER_US - lap_line_us) <= 1
    assert _unstamped(measured.session_dir / "results.txt") == _unstamped(virtual.session_dir / "results.txt")
    assert measured.results_txt and not measured.invalid
    ours_manifest = json.loads((measured.session_dir / "manifest.json").read_text())
    theirs_manifest = json.loads((virtual.session_dir / "manifest.json").read_text())
    assert ours_manifest["dut"] == theirs_manifest["dut"] == {
        "name": "virtual", "profile": "ULPMark for tinyML Firmware V0.0.1", "model": model_id}


def _binary(data: bytes, crc: int | None = None) -> bytes:
    """`db bin` and its data as one "command" for exchange(): the `%` it appends is the last byte."""
    assert data.endswith(b"%")
    return b"db bin %d %08x%%" % (len(data), zlib.crc32(data) if crc is None else crc) + data[:-1]


def _commands(model_id: str) -> list[bytes]:
    """Every command and error of protocol.md 1.3, around one real download and inference; then
    `caps` and `db bin` (docs/binary_download.md): refused, accepted and with a CRC mismatch."""
    size = BuiltinModel(model_id).input_size
    data = bytes((i * 37 + 11) % 256 for i in range(size))
    chunks = [b"db " + data[i:i + 38].hex().encode() for i in range(0, size, 38)]
    too_big = MAX_DB_INPUT_SIZE[model_id] + 1
    raw = bytes(b"%\r\n\0\xff"[i % 5] if i % 2 else (i * 29 + 7) % 256 for i in range(size - 1)) + b"%"
    return [
        b"name", b"profile", b"help", b"timestamp",
        b"results",                          # before any inference: the zeroed output tensor
        b"infer",                            # defaults N=1, W=10; too few bytes loaded
        b"db", b"db load", b"db load 0", b"db load x", b"db load %d" % too_big, b"db load -1",
        b"db load 99999999999999999999", b"db load -99999999999999999999",  # atoi saturates at int32
        b"db 00",                            # no room: no accepted `db load`
        b"db load %d" % size, *chunks,       # the last chunk answers m-load-done
        b"db 00",                            # no room: the load is complete
        b"db print", b"db print 4 2",        # the whole buffer; arguments are ignored
        b"infer 3 2", b"results", b"infer 1 0",
        b"infer 0", b"infer -4", b"infer 1 -1", b"infer x", b"infer 2 x",
        b"db load 11", b"db 0", b"db 012", b"db 0102zz0304", b"db 0A0b", b"db 0c0d0e0f1011121314",
        b"db print",                         # 11 bytes: a short last row and the stray empty line
        b"infer 1 1",                        # 11 bytes loaded: the previous tensor stays
        b"db   load   8", b"db 0102030405060708",  # repeated spaces separate words
        b"caps", b"caps now",
        b"db bin", b"db bin %d" % size, b"db bin 0 00000000", b"db bin %d 00000000" % too_big,
        b"db bin 4 0000000", b"db bin 4 0000000g",
        _binary(raw), b"db print", b"infer 1 0", b"db 00",  # CR, LF, NUL and % are data
        _binary(raw, zlib.crc32(raw) ^ 0xff), b"db print", b"infer 1 0", b"db 00",  # emptied
        b"name extra words", b"Name", b"bogus", b"", b"   ", b"timestamp",
    ]


def _virtual_answers(model_id: str, commands: list[bytes], energy: bool) -> list[bytes]:
    clock = SimClock()
    dut = VirtualDut(BuiltinModel(model_id), clock, energy_mode=energy, infer_cost_us=INFER_US, uart_baud=BAUD,
                     firmware="submit", binary_chunk=BIN_CHUNK, command_buffer=CMD_SIZE)
    with PtyDevice(dut, clock=clock, baud=BAUD, pace=False) as device:
        assert device.drain()
        return exchange(device.port, commands)


@pytest.mark.parametrize("model_id", ["kws01", "ic01", "ad01"])
@pytest.mark.parametrize("energy", [False, True], ids=["performance", "energy"])
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")  # ad01: raw NaNs
def test_every_command_answers_as_the_virtual_dut(host_firmware, model_id, energy):
    commands = _commands(model_id)
    expected = _virtual_answers(model_id, commands, energy)
    with HostFirmware(host_firmware, *sim_args(model_id, INFER_US), *(["--energy"] if energy else [])) as fw:
        answers = exchange(fw.port, commands)
    assert fw.returncode == 0
    assert len(answers) == len(commands)
    for command, ours, theirs in zip(commands, answers, expected):
        assert ours == theirs, command
    # the comparison saw the answers that matter, not a run of identical errors
    text = b"".join(answers)
    assert b"m-load-done\r\n" in text and b"m-results-[" in text and b"e-[Empty command]" in text
    assert (b"m-lap-us-" in text) != energy
    assert text.count(b"m-caps-[cmd=80,db=%d,bin=512]" % MAX_DB_INPUT_SIZE[model_id]) == 2
    assert b"e-[CRC-32 mismatch: received " in text and b"Input db has 0 elemented" in text
    assert (b"m-ack-512\r\n" in text) == (BuiltinModel(model_id).input_size > 512)
    assert text.count(b"m-ready\r\n") == len(commands)


def test_numbers_parse_as_the_virtual_dut_parses_them(host_firmware):
    """`db load <token>` for tokens made of blanks, signs, digits and junk, up to far beyond 32 bits:
    the engine's atoi (saturating, like the virtual DUT's) must take the same size from each."""
    rng = random.Random(3)
    parts = ["", "+", "-", "0", "00", "7", "490", "491", "2147483647", "2147483648", "4294967296", "9" * 25,
             "x", "\t", "\x0b", "12a", "-0", "+-1", "1e3"]
    tokens = sorted({"".join(rng.choice(parts) for _ in range(rng.randint(1, 3))) for _ in range(400)} - {""})
    commands = [f"db load {token}".encode("latin-1") for token in tokens]
    expected = _virtual_answers("kws01", commands, energy=False)
    with HostFirmware(host_firmware, *sim_args("kws01", INFER_US)) as fw:
        answers = exchange(fw.port, commands)
    assert answers == expected
    assert len(set(answers)) > 5  # refused, too big, negative, accepted at several sizes


def test_default_clock_is_real_and_results_do_not_depend_on_it(host_firmware):
    """Without --sim-clock, m-lap-us is the host's monotonic clock: it moves while the model runs,
    and the results are still the virtual DUT's."""
    model_id = "kws01"
    size = BuiltinModel(model_id).input_size
    data = bytes((i * 91 + 5) % 256 for i in range(size))
    commands = [b"db load %d" % size, *(b"db " + data[i:i + 38].hex().encode() for i in range(0, size, 38)),
                b"infer 2000 1"]
    expected = _virtual_answers(model_id, commands, energy=False)[-1]
    with HostFirmware(host_firmware, "--model", model_id) as fw:
        answer = exchange(fw.port, commands)[-1]
    assert fw.returncode == 0
    laps = [int(v) for v in re.findall(rb"m-lap-us-(\d+)", answer)]
    assert len(laps) == 2 and laps[1] > laps[0]  # 2000 inferences of 5880 MACs take some microseconds
    results = re.search(rb"m-results-\[[^]]*\]", answer).group(0)
    assert results == re.search(rb"m-results-\[[^]]*\]", expected).group(0)


def test_sigterm_ends_a_firmware_nobody_connected_to(host_firmware):
    fw = HostFirmware(host_firmware, "--model", "ad01")
    time.sleep(0.05)
    fw.process.send_signal(signal.SIGTERM)
    try:
        assert fw.process.wait(timeout=5) == 0
    finally:
        fw.close()


def test_bad_arguments_are_refused(host_firmware):
    for args in (["--model", "kws01"], ["--stdio", "--model", "nope"], ["--stdio", "--baud", "0"],
                 ["--stdio", "--cmd-size", "99999"], ["--stdio", "--infer-us"]):
        done = subprocess.run([str(host_firmware), *args], capture_output=True, text=True, timeout=10, check=False)
        assert done.returncode == 2, args
        assert "usage: host-firmware" in done.stderr or "needs a value" in done.stderr
