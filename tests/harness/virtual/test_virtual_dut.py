"""The virtual DUT engine (harness/virtual/dut.py) driven byte by byte, against the exact strings
of protocol.md section 1: boot, every command and error of table 1.3, truncation, the oversize
`db load` guard, energy-mode edges, the lap counter's wrap, and the streaming-wakeword firmware."""

from __future__ import annotations

import itertools

import pytest

from harness.virtual.clock import SimClock
from harness.virtual.dut import FIRMWARE_VERSION, VirtualDut, atoi
from harness.virtual.models import BuiltinModel, synthetic_dataset
from submission_tools.scoring.sww import score_detections


class Recorder:
    """DutSignals that remembers every call in order."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def activity(self, t_us, state):
        self.events.append(("activity", t_us, state))

    def timestamp_edge(self, t_us):
        self.events.append(("edge", t_us))

    def wakeword(self, t_us):
        self.events.append(("wakeword", t_us))

    def processing(self, t_us, high):
        self.events.append(("processing", t_us, high))

    def of(self, kind: str) -> list[tuple]:
        return [e for e in self.events if e[0] == kind]


class Bench:
    """A DUT on a simulated clock, fed one byte at a time, its output collected as raw bytes."""

    def __init__(self, model_id: str = "kws01", *, start_us: int = 0, **options) -> None:
        self.clock = SimClock(start_us)
        self.signals = Recorder()
        self.dut = VirtualDut(BuiltinModel(model_id), self.clock, signals=self.signals, **options)
        self.out = bytearray()
        self.dut.attach(self.out.extend)

    def boot(self) -> list[str]:
        self.dut.boot()
        return self.take()

    def raw(self, command: str | bytes) -> bytes:
        data = command.encode("latin-1") if isinstance(command, str) else command
        for byte in data + b"%":
            self.dut.receive(bytes([byte]))
        raw = bytes(self.out)
        self.out.clear()
        return raw

    def send(self, command: str | bytes) -> list[str]:
        """The lines one command prints; asserts the m-ready framing of protocol.md 1.1."""
        raw = self.raw(command)
        assert raw.endswith(b"m-ready\r\n")
        assert raw.count(b"m-ready") == 1  # exactly one, and nothing after it
        return raw.decode("latin-1").split("\r\n")[:-1]

    def take(self) -> list[str]:
        lines = bytes(self.out).decode("latin-1").split("\r\n")[:-1]
        self.out.clear()
        return lines

    def load(self, data: bytes) -> None:
        assert self.send(f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]", "m-ready"]
        for i in range(0, len(data), 31):
            chunk = data[i:i + 31]
            lines = self.send("db " + chunk.hex())
            assert lines == (["m-load-done", "m-ready"] if i + 31 >= len(data) else ["m-ready"])


@pytest.fixture
def bench() -> Bench:
    b = Bench()
    b.boot()
    return b


def test_boot_in_performance_mode():
    b = Bench(start_us=1234)
    assert b.boot() == ["m-timestamp-mode-performance", "m-lap-us-1234", "m-init-done", "m-ready"]
    assert b.signals.of("edge") == []


def test_boot_in_energy_mode_pulses_instead_of_printing_a_lap():
    b = Bench(energy_mode=True, start_us=50)
    assert b.boot() == ["m-timestamp-mode-energy", "m-init-done", "m-ready"]
    assert b.signals.of("edge") == [("edge", 50)]


def test_a_command_finished_before_boot_is_dropped():
    b = Bench()
    assert b.raw("name") == b""
    assert b.boot()[-1] == "m-ready"
    assert b.send("name") == ["m-name-dut-[virtual]", "m-ready"]


def test_name_profile_and_help(bench):
    assert bench.send("name") == ["m-name-dut-[virtual]", "m-ready"]
    assert bench.send("name extra args") == ["m-name-dut-[virtual]", "m-ready"]
    assert bench.send("profile") == [f"m-profile-[{FIRMWARE_VERSION}]", "m-model-[kws01]", "m-ready"]
    assert bench.send("help") == [
        "ULPMark for tinyML Firmware V0.0.1", "",
        "help         : Print this information",
        "name         : Print the name of the device",
        "timestsamp   : Generate a timetsamp",
        "db SUBCMD    : Manipulate a generic byte buffer",
        "  load N     : Allocate N bytes and set load counter",
        "  db HH[HH]* : Load 8-bit hex byte(s) until N bytes",
        "  print [N=16] [offset=0]",
        "             : Print N bytes at offset as hex",
        "infer N [W=0]: Load input, execute N inferences after W warmup loops",
        "results      : Return the result fp32 vector",
        "m-ready",
    ]
    named = Bench("ic01", name="STMicroelectronics")
    named.boot()
    assert named.send("name") == ["m-name-dut-[STMicroelectronics]", "m-ready"]
    assert named.send("profile")[1] == "m-model-[ic01]"


def test_lines_end_in_crlf_and_tokens_are_exact(bench):
    assert bench.raw("name") == b"m-name-dut-[virtual]\r\nm-ready\r\n"
    assert bench.send("NAME") == ["e-[Unknown command: NAME]", "m-ready"]
    assert bench.send("   name   ") == ["m-name-dut-[virtual]", "m-ready"]  # strtok skips spaces
    assert bench.raw("name\r\n") == b"e-[Unknown command: name\r\n]\r\nm-ready\r\n"  # CR/LF are not


def test_unknown_and_empty_commands(bench):
    assert bench.send("bogus 1 2") == ["e-[Unknown command: bogus]", "m-ready"]
    assert bench.send("") == ["e-[Empty command]", "m-ready"]
    assert bench.send("    ") == ["e-[Empty command]", "m-ready"]


def test_timestamp_in_both_modes():
    b = Bench(start_us=777)
    b.boot()
    assert b.send("timestamp") == ["m-lap-us-777", "m-ready"]
    e = Bench(energy_mode=True, start_us=10)
    e.boot()
    e.clock.advance_us(90)
    assert e.send("timestamp") == ["m-ready"]
    assert e.signals.of("edge") == [("edge", 10), ("edge", 100)]


def test_lap_counter_wraps_at_2_to_the_32():
    b = Bench(start_us=2**32 - 5)
    assert b.boot()[1] == "m-lap-us-4294967291"
    b.clock.advance_us(10)
    assert b.send("timestamp") == ["m-lap-us-5", "m-ready"]


def test_commands_are_truncated_to_80_characters(bench):
    long = "x" * 79 + "ABCDEFGHIJ"  # the 81st character on overwrites slot 80, then NUL does
    assert bench.send(long) == [f"e-[Unknown command: {'x' * 79}A]", "m-ready"]
    # The arguments past the 80th character are lost: infer falls back to its defaults.
    lines = bench.send("infer" + " " * 75 + "3 2")
    assert lines[:3] == ["Input db has 0 elemented, expected 490\nm-warmup-start-10", "m-warmup-done",
                         "m-infer-start-1"]
    assert bench.send("name") == ["m-name-dut-[virtual]", "m-ready"]  # the buffer starts afresh


def test_a_nul_byte_ends_the_command_early(bench):
    assert bench.send(b"name\x00garbage") == ["m-name-dut-[virtual]", "m-ready"]


def test_db_load_and_its_errors(bench):
    assert bench.send("db") == ["e-[Command 'db' requires a subcommand]", "m-ready"]
    assert bench.send("db load") == ["e-[Command 'db load' requires the # of bytes]", "m-ready"]
    assert bench.send("db load 0") == ["e-[Command 'db load' must be >0 bytes]", "m-ready"]
    assert bench.send("db load abc") == ["e-[Command 'db load' must be >0 bytes]", "m-ready"]
    assert bench.send("db load 490") == ["m-[Expecting 490 bytes]", "m-ready"]
    assert bench.send("db load 12xyz") == ["m-[Expecting 12 bytes]", "m-ready"]  # atoi


def test_oversize_db_load_prints_the_reference_message_but_is_not_accepted(bench):
    raw = bench.raw("db load 491")
    assert raw == b"Supplied buffer size 491 exceeds maximum of 490\nm-ready\r\n"
    # The reference would now write past its buffer; here the data is refused.
    assert bench.send("db 0102") == ["e-[No room in the db buffer: send 'db load N' first]", "m-ready"]
    assert bench.send("db print") == ["m-ready"]
    assert bench.raw("db load -5") == b"Supplied buffer size -5 exceeds maximum of 490\nm-ready\r\n"
    ad = Bench("ad01")
    ad.boot()
    assert ad.send("db load 5120") == ["m-[Expecting 5120 bytes]", "m-ready"]  # MAX_DB_INPUT_SIZE
    assert ad.raw("db load 5121") == b"Supplied buffer size 5121 exceeds maximum of 5120\nm-ready\r\n"
    small = Bench("kws01", max_input=16)
    small.boot()
    assert small.raw("db load 17").startswith(b"Supplied buffer size 17 exceeds maximum of 16\n")


def test_db_hex_loading(bench):
    assert bench.send("db 00") == ["e-[No room in the db buffer: send 'db load N' first]", "m-ready"]
    assert bench.send("db load 10") == ["m-[Expecting 10 bytes]", "m-ready"]
    assert bench.send("db 0a0B") == ["m-ready"]  # either case
    assert bench.send("db 123") == ["e-[Insufficent number of hex digits]", "m-ready"]
    assert bench.send("db 01zz02") == ["e-[Invalid hex digit 'zz']", "m-ready"]  # 01 is kept
    assert bench.send("db 0203040506070809ffff") == ["m-load-done", "m-ready"]  # extra ignored
    assert bench.send("db 11") == ["e-[No room in the db buffer: send 'db load N' first]", "m-ready"]
    assert bench.send("db print 4 2") == [  # arguments ignored, 8 bytes a row, the stray empty line
        "m-buffer-0a-0b-01-02-03-04-05-06", "m-buffer-07-08", "", "m-ready"]
    assert bench.send("db load 8") == ["m-[Expecting 8 bytes]", "m-ready"]
    assert bench.send("db print") == ["m-buffer-0a-0b-01-02-03-04-05-06", "m-ready"]  # no stray line


def test_infer_runs_the_model_on_the_loaded_input(bench, tmp_path):
    synthetic_dataset("kws01", tmp_path, 3)
    data = (tmp_path / "kws_0002.bin").read_bytes()
    bench.load(data)
    t_start = bench.clock.now_us()
    lines = bench.send("infer 20 3")
    expected = BuiltinModel("kws01").run(data)
    t0, t1 = int(lines[3][len("m-lap-us-"):]), int(lines[4][len("m-lap-us-"):])
    assert lines == ["m-warmup-start-3", "m-warmup-done", "m-infer-start-20", f"m-lap-us-{t0}",
                     f"m-lap-us-{t1}", "m-infer-done",
                     "m-results-[" + ",".join(f"{v:0.3f}" for v in expected) + "]", "m-ready"]
    cost = bench.dut.infer_cost_us
    assert t0 - t_start == 3 * cost  # nobody advanced the clock for UART bytes here
    assert t1 - t0 == 20 * cost
    states = [e[2] for e in bench.signals.of("activity")]
    assert states[-6:] == ["uart", "infer", "uart", "infer", "uart", "idle"]
    assert bench.send("results") == [lines[6], "m-ready"]
    assert bench.dut.last_results == expected


def test_infer_defaults_and_errors(bench):
    assert bench.send("results") == ["m-results-[" + ",".join(["0.000"] * 12) + "]", "m-ready"]
    lines = bench.send("infer")
    assert lines[0] == "Input db has 0 elemented, expected 490\nm-warmup-start-10"  # bare \n
    assert lines[2] == "m-infer-start-1"
    assert bench.send("infer 5")[0].endswith("m-warmup-start-10")
    assert bench.send("infer 0") == ["e-[Inference iterations must be >0]", "m-ready"]
    assert bench.send("infer -3 1") == ["e-[Inference iterations must be >0]", "m-ready"]
    assert bench.send("infer x") == ["e-[Inference iterations must be >0]", "m-ready"]
    assert bench.send("infer 2 -1") == ["e-[Inference warmup must be >=0]", "m-ready"]
    assert bench.send("infer 2 0")[0].endswith("m-warmup-start-0")


def test_a_short_load_keeps_the_previous_input_tensor(bench, tmp_path):
    synthetic_dataset("kws01", tmp_path, 2)
    first = (tmp_path / "kws_0000.bin").read_bytes()
    bench.load(first)
    good = bench.send("infer 1 0")[-2]
    bench.send("db load 490")
    bench.send("db " + "11" * 31)  # only 31 of 490 bytes
    lines = bench.send("infer 1 0")
    assert lines[0] == "Input db has 31 elemented, expected 490\nm-warmup-start-0"
    assert lines[-2] == good


def test_ad_counts_float_elements_and_prints_one_score(tmp_path):
    b = Bench("ad01")
    b.boot()
    synthetic_dataset("ad01", tmp_path, 2)
    window = (tmp_path / "ad_0001.bin").read_bytes()[512:512 + 2560]
    b.send("db load 2560")
    b.send("db " + window[:31].hex())
    assert b.send("infer 1 0")[0].startswith("Input db has 7 elemented, expected 640\n")
    b.load(window)
    [score] = BuiltinModel("ad01").run(window)
    assert b.send("infer 1 0")[-2] == f"m-results-[{score:0.3f}]"


def test_energy_mode_infer_gives_two_edges_and_no_lap_lines():
    b = Bench("ic01", energy_mode=True, infer_cost_us=1000)
    b.boot()
    b.signals.events.clear()
    lines = b.send("infer 7 2")
    assert lines[:4] == ["Input db has 0 elemented, expected 3072\nm-warmup-start-2", "m-warmup-done",
                         "m-infer-start-7", "m-infer-done"]
    assert not any("lap" in line for line in lines)
    (_, t0), (_, t1) = b.signals.of("edge")
    assert t1 - t0 == 7000
    infer_spans = [e for e in b.signals.of("activity") if e[2] == "infer"]
    assert [e[1] for e in infer_spans] == [t0 - 2000, t0]  # warmup, then the timed run


def test_reset_loses_state_and_prints_the_banner_again(bench):
    bench.send("db load 4")
    bench.send("db 0102")
    bench.raw("partial comm")  # ... and no terminator before the reset
    bench.out.clear()
    bench.dut.receive(b"nam")
    bench.dut.reset()
    assert bench.take() == ["m-timestamp-mode-performance", f"m-lap-us-{bench.clock.now_us()}",
                            "m-init-done", "m-ready"]
    assert bench.send("db print") == ["m-ready"]
    assert bench.send("name") == ["m-name-dut-[virtual]", "m-ready"]


def test_atoi_is_c_atoi():
    assert [atoi(s) for s in ("12", " 7x", "+3", "-4", "x1", "", "99999999999")] == [12, 7, 3, -4, 0, 0, 2**31 - 1]


# --- streaming wakeword ---------------------------------------------------------------------------


@pytest.fixture
def sww() -> Bench:
    b = Bench("sww01")
    b.boot()
    b.signals.events.clear()
    return b


def test_sww_echoes_every_command_and_has_a_1028_byte_buffer(sww):
    assert sww.dut.command_buffer == 1028
    assert sww.send("name") == ["Received command: name", "m-name-dut-[virtual]", "m-ready"]
    assert sww.send("profile")[1:3] == [f"m-profile-[{FIRMWARE_VERSION}]", "m-model-[sww01]"]
    assert sww.send("") == ["Received command: ", "Empty command (only a % read).  Type 'help%' for help",
                            "m-ready"]
    long = "y" * 200
    assert sww.send(long) == [f"Received command: {long}", f"e-[Unknown command: {long}]", "m-ready"]


def test_sww_start_stop(sww):
    assert sww.send("stop") == ["Received command: stop", "I2S is already idle.  Ignoring stop request",
                                "m-ready"]
    t_start = sww.clock.now_us()
    assert sww.send("start") == ["Received command: start", "m-ready"]
    assert sww.dut.streaming
    assert sww.send("start") == ["Received command: start", "I2S Rx currently in progress. Ignoring request",
                                 "m-ready"]
    sww.clock.advance_us(5000)
    assert sww.send("stop") == ["Received command: stop", "Streaming stopped.", "target activations: ",
                                "[]", "m-ready"]
    assert sww.signals.of("edge") == [("edge", t_start), ("edge", t_start + 5000)]
    assert not sww.dut.streaming


def test_sww_play_audio_is_an_oracle_on_the_truth_windows(sww):
    assert sww.dut.play_audio(10.0, [(1.0, 1.6)]) == []  # not streaming: nothing happens
    sww.send("start")
    start = sww.clock.now_us()
    windows = [(1.0, 1.6476), (4.0, 4.76), (7.0, 7.36), (12.5, 12.9)]
    pulses = sww.dut.play_audio(14.0, windows, miss_every=2, false_every=5.5)
    assert sww.clock.now_us() == start + 14_000_000
    frame, proc = 32_000, 11_600
    ends = [start + (k + 1) * frame + proc for k in range(14_000_000 // frame)]
    # sync pulse at the end of the first frame; windows 2 and 4 missed; 0.3 s after the others;
    # a false detection at 11 s (the one at 5.5 s falls near the 4.0-4.76 window: skipped)
    detection_frames = [-(-round((w1 + 0.3) * 1e6) // frame) - 1 for w1 in (1.6476, 7.36)]
    false_frame = -(-11_000_000 // frame) - 1
    expected_frames = sorted(detection_frames + [false_frame])
    assert pulses == [ends[0]] + [ends[k] for k in expected_frames]
    assert [e[1] for e in sww.signals.of("wakeword")] == pulses
    score = score_detections([(p - start) // 1000 for p in pulses], windows)  # as the runner scores
    assert (score.tp, score.fn, score.fp) == (2, 2, 1)
    highs = [e[1] for e in sww.signals.of("processing") if e[2]]
    lows = [e[1] for e in sww.signals.of("processing") if not e[2]]
    assert len(highs) == len(lows) == 437
    assert all(b - a == frame for a, b in itertools.pairwise(highs))
    assert all(lo - hi == proc for hi, lo in zip(highs, lows))
    lines = sww.send("stop")
    assert lines[1:4] == ["Streaming stopped.", "target activations: ",
                          "[" + ", ".join(map(str, expected_frames)) + "  "]
    assert lines[4:] == ["]", "m-ready"]


def test_sww_activation_list_rows_of_16(sww):
    sww.send("start")
    windows = [(2.0 * i + 1.0, 2.0 * i + 1.5) for i in range(20)]
    sww.dut.play_audio(42.0, windows, miss_every=None, false_every=None)
    lines = sww.send("stop")
    rows = lines[3:-1]
    assert len(rows) == 3 and rows[-1] == "]"
    assert rows[0].startswith("[") and rows[0].count(",") == 16
    assert rows[1].endswith("  ") and rows[1].count(",") == 3  # the last value has no comma
    # A second session starts its own sync pulse and activation list.
    sww.send("start")
    assert len(sww.dut.play_audio(1.0, [])) == 1


def test_many_binary_downloads_in_one_receive_call():
    """Each `db bin` switches the byte stream to data and back: thousands in one read are fine."""
    import zlib

    out = bytearray()
    dut = VirtualDut(BuiltinModel("kws01"), SimClock(), firmware="submit")
    dut.attach(out.extend)
    dut.boot()
    out.clear()
    dut.receive((b"db bin 1 %08x%%" % zlib.crc32(b"A") + b"A") * 5000 + b"name%")
    assert out.count(b"m-[Expecting 1 bytes]\r\nm-load-done\r\nm-ready\r\n") == 5000
    assert out.endswith(b"m-name-dut-[virtual]\r\nm-ready\r\n")
