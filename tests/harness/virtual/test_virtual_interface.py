"""The virtual interface boards: exact replies, passthrough with the stale-line hazard, setbaud
resets, SWW playback with detection and duty-cycle recording, and the Arduino IO manager."""

from __future__ import annotations

import json
import wave

import pytest

from harness.virtual.clock import SimClock, uart_time_us
from harness.virtual.dut import VirtualDut
from harness.virtual.interface import (
    PLAY_ERROR,
    VirtualArduinoIoManager,
    VirtualStmInterface,
)
from harness.virtual.models import BuiltinModel
from harness.virtual.power import PowerModel, SignalHub

BANNER = b"m-timestamp-mode-energy\r\nm-init-done\r\nm-ready\r\n"


class FakeDut:
    """A tiny DUT engine: enough commands to exercise a board."""

    def __init__(self, clock, signals=None, uart_baud=9600):
        self.clock = clock
        self.signals = signals
        self.uart_baud = uart_baud
        self.received = bytearray()
        self._cmd = b""
        self._emit = None
        self.plays = []

    def attach(self, emit):
        self._emit = emit

    def boot(self):
        self._emit(BANNER)

    def poll(self):
        pass

    def say(self, data: bytes):
        self._emit(data)

    def receive(self, data):
        self.received += data
        for byte in data:
            if byte == ord("%"):
                command, self._cmd = self._cmd.decode(), b""
                self._dispatch(command)
            else:
                self._cmd += bytes([byte])

    def _dispatch(self, command):
        if command == "name":
            self._emit(b"m-name-dut-[fake]\r\nm-ready\r\n")
        elif command == "profile":
            self._emit(b"m-profile-[fake fw]\r\n")
            self._emit(b"m-model-[kws01]\r\nm-ready\r\n")
        elif command == "infer":
            self._emit(b"m-infer-start-10\r\n")
            self.signals.timestamp_edge(self.clock.now_us())
            self.clock.advance_us(1_000_000)
            self.signals.timestamp_edge(self.clock.now_us())
            self._emit(b"m-infer-done\r\nm-ready\r\n")
        elif command == "chatty":  # breaks the half-duplex rule: prints after m-ready
            self._emit(b"m-ready\r\nlate-line\r\n")
        elif command == "silent":
            pass
        else:
            self._emit(f"e-[Unknown command: {command}]\r\nm-ready\r\n".encode())

    def play_audio(self, length_s, windows):
        self.plays.append((length_s, windows))
        start = self.clock.now_us()
        for k in range(1, 6):  # five frames, 32 ms apart, 10 ms of processing each
            self.signals.processing(start + k * 32_000, True)
            self.signals.processing(start + k * 32_000 + 10_000, False)
        self.signals.wakeword(start + 20_000)
        for w0, w1 in windows:
            self.signals.wakeword(start + round((w1 + 0.3) * 1e6))
        self.clock.advance_us(round(length_s * 1e6))


class Host:
    def __init__(self, board):
        self.board = board
        self.out = bytearray()
        board.attach(self.out.extend)

    def send(self, text: str) -> bytes:
        self.out.clear()
        self.board.receive(text.encode())
        data = bytes(self.out)
        self.out.clear()
        return data


def stm(tmp_path=None, boot_dut=False, **kwargs):
    clock = SimClock()
    dut = FakeDut(clock)
    board = VirtualStmInterface(dut, clock, sd_root=tmp_path, boot_dut=boot_dut, **kwargs)
    dut.signals = board
    host = Host(board)
    board.boot()
    return clock, dut, board, host


def write_wav(path, seconds, channels=2, rate=16000):
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * channels * int(seconds * rate))


# ------------------------------------------------------------------------------- STM board

def test_name_and_default_replies():
    _, _, _, host = stm()
    assert host.send("name%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"
    assert host.send("name whatever%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"
    assert host.send("%") == b"m-ready\r\n"
    assert host.send("hello%") == b"m-ready\r\n"


@pytest.mark.parametrize("command", ["dutx%", "dut %", "namex%", "setbaudx%", "print_detectionsx%"])
def test_prefix_matches_that_are_neither_get_no_reply(command):
    _, dut, _, host = stm()
    assert host.send(command) == b""
    assert dut.received == b""


def test_passthrough_shape_and_dut_link_time():
    clock, dut, board, host = stm()
    before = clock.now_us()
    reply = host.send("dut name%")
    assert reply == (b"m-dut-passthrough(name)\r\nm-ready\r\n"
                     b"[dut]: m-name-dut-[fake]\r\n[dut]: m-ready\r\n")
    assert dut.received == b"name%"
    wire = len(b"name%") + len(b"m-name-dut-[fake]\r\nm-ready\r\n")
    assert clock.now_us() - before == pytest.approx(uart_time_us(wire, 9600), abs=2)
    assert not board.busy


def test_dut_output_in_several_pieces_is_forwarded_line_by_line():
    _, _, _, host = stm()
    assert host.send("dut profile%") == (b"m-dut-passthrough(profile)\r\nm-ready\r\n[dut]: m-profile-[fake fw]\r\n"
                                         b"[dut]: m-model-[kws01]\r\n[dut]: m-ready\r\n")


def test_stale_boot_banner_answers_the_first_passthrough():
    _, dut, board, host = stm(boot_dut=True)
    assert board.queued_dut_bytes == BANNER
    # The banner's m-ready ends the first passthrough; the DUT's real answer stays queued ...
    assert host.send("dut name%") == (b"m-dut-passthrough(name)\r\nm-ready\r\n[dut]: m-timestamp-mode-energy\r\n"
                                      b"[dut]: m-init-done\r\n[dut]: m-ready\r\n")
    assert dut.received == b"name%"
    # ... and answers the next one: every reply is one command late.
    assert host.send("dut profile%").endswith(b"[dut]: m-name-dut-[fake]\r\n[dut]: m-ready\r\n")
    # setbaud resets the board, which empties the queue.
    host.send("setbaud 9600%")
    assert board.queued_dut_bytes == b""
    assert host.send("dut name%").endswith(b"[dut]: m-name-dut-[fake]\r\n[dut]: m-ready\r\n")


def test_output_after_m_ready_is_stale_and_the_idle_queue_holds_100_bytes():
    _, dut, board, host = stm()
    assert host.send("dut chatty%").endswith(b"[dut]: m-ready\r\n")
    assert board.queued_dut_bytes == b"late-line\r\n"
    dut.say(b"x" * 200)
    assert len(board.queued_dut_bytes) == 100 and board.dropped_dut_bytes == 111


def test_passthrough_without_m_ready_holds_later_host_commands():
    _, dut, board, host = stm()
    assert host.send("dut silent%") == b"m-dut-passthrough(silent)\r\nm-ready\r\n"
    assert board.busy
    assert host.send("name%") == b""  # queued in the host receive queue
    host.out.clear()
    dut.say(b"finally\r\nm-ready\r\n")
    assert bytes(host.out) == (b"[dut]: finally\r\n[dut]: m-ready\r\n"
                               b"tinyML Enhanced Interface Board\r\nm-ready\r\n")


def test_setbaud_resets_and_loses_what_follows():
    clock, _, board, host = stm(reset_us=70_000)
    before = clock.now_us()
    assert host.send("setbaud 115200%name%") == b"set baud to: 115200\nm-ready\r\n"
    assert clock.now_us() - before == 70_000
    assert board.resets == 1 and board.dut_baud == 115200 and board.stored_baud == 115200
    assert host.send("checkbaud%") == b"baud is: 115200\nm-ready\r\n"


@pytest.mark.parametrize("value, baud", [("0", 9600), ("3000000", 9600), ("-5", 9600), ("921600", 921600),
                                         (" 57600abc", 57600)])
def test_setbaud_values_after_reset(value, baud):
    _, _, board, host = stm()
    host.send(f"setbaud {value}%")
    assert board.dut_baud == baud


def test_baud_mismatch_loses_every_byte_on_the_dut_link():
    _, dut, board, host = stm()
    host.send("setbaud 115200%")  # the DUT stays at 9600
    assert host.send("dut name%") == b"m-dut-passthrough(name)\r\nm-ready\r\n"
    assert dut.received == b"" and board.lost_link_bytes == 5 and board.busy
    board.power_cycle()  # unplug/replug: still 115200 from flash, still wrong
    dut.uart_baud = 115200  # the DUT is reflashed to match
    assert host.send("dut name%").endswith(b"[dut]: m-ready\r\n")


def test_unreadable_setbaud_argument_stops_the_board_until_power_cycle():
    _, _, board, host = stm()
    assert host.send("setbaud fast%") == b""
    assert board.crashed
    assert host.send("name%") == b""
    board.power_cycle()
    assert host.send("name%") == b"tinyML Enhanced Interface Board\r\nm-ready\r\n"


def test_ls_lists_the_card(tmp_path):
    (tmp_path / "b.wav").write_bytes(b"")
    (tmp_path / "a.json").write_text("[]")
    _, _, _, host = stm(tmp_path)
    assert host.send("ls%") == b"a.json\r\nb.wav\r\nm-ready\r\n"
    assert host.send("ls ../..%") == b"m-ready\r\n"  # outside the card: nothing


def test_play_records_detections_and_duty_cycle(tmp_path):
    write_wav(tmp_path / "short.wav", 2.5)
    (tmp_path / "truth.json").write_text(json.dumps([
        {"wav_file": "other.wav", "detection_windows": [[9, 9.5]]},
        {"wav_file": "short.wav", "detection_windows": [[1.0, 1.5]], "length_sec": 2.5}]))
    clock, dut, _, host = stm(tmp_path)
    assert host.send("record_detections%") == b"Now recording detections\r\nm-ready\r\n"
    start = clock.now_us()
    assert host.send("play short.wav%") == b"Attempting to play short.wav\nsucceeded.\nm-ready\r\n"
    assert dut.plays == [(2.5, [(1.0, 1.5)])]
    assert clock.now_us() - start == 2_500_000
    # TIM2 counts 10 µs from record_detections; detections are TIM2/100 ms.
    assert host.send("print_detections%") == b"Detection Timestamps (ms)\r\n20,\r\n1800,\r\nm-ready\r\n"
    lines = host.send("print_dutycycle%").decode().split("\r\n")
    assert lines == ["Duty cycle start times (s)", "3200, 6400, 9600, 12800, 16000, ",
                     "Duty cycle stop times (s)", "4200, 7400, 10600, 13800, 17000, m-ready", ""]


def test_play_errors(tmp_path):
    write_wav(tmp_path / "mono.wav", 0.1, channels=1)
    (tmp_path / "junk.wav").write_bytes(b"not a wav")
    clock, dut, _, host = stm(tmp_path)
    for name in ("missing.wav", "mono.wav", "junk.wav", "../outside.wav"):
        assert host.send(f"play {name}%") == f"Attempting to play {name}\n{PLAY_ERROR}\nm-ready\r\n".encode()
    assert dut.plays == [] and clock.now_us() == 0
    _, _, _, no_card = stm(None)
    assert no_card.send("play x.wav%").endswith(f"{PLAY_ERROR}\nm-ready\r\n".encode())


def test_play_without_a_streaming_dut_still_takes_the_length(tmp_path):
    write_wav(tmp_path / "a.wav", 1.0)
    clock = SimClock()

    class Plain(FakeDut):
        play_audio = None

    board = VirtualStmInterface(Plain(clock), clock, sd_root=tmp_path, boot_dut=False)
    host = Host(board)
    assert host.send("play a.wav%").endswith(b"succeeded.\nm-ready\r\n")
    assert clock.now_us() == 1_000_000


def test_detections_within_10_ms_are_dropped():
    _, _, board, host = stm()
    host.send("record_detections%")
    for t_ms in (100, 105, 110, 111, 200, 210):
        board.wakeword(t_ms * 1000)
    assert board.detections_ms == [100, 111, 200]  # 110 is not > 100 + 10; 210 is not > 200 + 10


def test_duty_cycle_layout_breaks_every_8_and_keeps_100():
    _, _, board, host = stm()
    host.send("record_detections%")
    for k in range(120):
        board.processing(k * 32_000 + 1_000, True)
        board.processing(k * 32_000 + 12_000, False)
    text = host.send("print_dutycycle%").decode()
    lines = text.split("\r\n")
    assert lines[0] == "Duty cycle start times (s)"
    assert lines[1] == ", ".join(str(k * 3200 + 100) for k in range(8)) + ", "
    assert lines[13] == ", ".join(str(k * 3200 + 100) for k in range(96, 100)) + ", "
    assert lines[14] == "Duty cycle stop times (s)"
    assert lines[-2].endswith(f"{99 * 3200 + 1200}, m-ready") and lines[-1] == ""
    # Read back the way the runner's process_dutycycle does.
    starts, stops, target = [], [], None
    for line in lines[1:-1]:
        if "Duty cycle stop times (s)" in line:
            target = stops
            continue
        target = starts if target is None else target
        if line.find("m-ready") > 0:
            line = line.replace("m-ready", "")
        target += [int(v) for v in line.strip().split(",") if v.strip()]
    assert len(starts) == len(stops) == 100
    assert [b - a for a, b in zip(starts, stops)] == [1100] * 100


def test_sww_stream_with_the_real_virtual_dut(tmp_path):
    write_wav(tmp_path / "ww.wav", 4.0)
    (tmp_path / "truth.json").write_text(json.dumps([{"wav_file": "ww.wav", "detection_windows": [[1.0, 1.4]]}]))
    clock = SimClock()
    power = PowerModel(noise=0.0)
    hub = SignalHub(power)
    dut = VirtualDut(BuiltinModel("sww01"), clock, signals=hub, energy_mode=True, uart_baud=9600)
    board = VirtualStmInterface(dut, clock, sd_root=tmp_path)
    hub.add(board)
    host = Host(board)
    board.boot()
    host.send("setbaud 9600%")
    assert host.send("dut start%").endswith(b"[dut]: m-ready\r\n")
    host.send("record_detections%")
    assert host.send("play ww.wav%").endswith(b"succeeded.\nm-ready\r\n")
    stop = host.send("dut stop%").decode()
    assert "[dut]: target activations: " in stop and stop.endswith("[dut]: m-ready\r\n")
    detections = [int(line.rstrip(",")) for line in host.send("print_detections%").decode().split("\r\n")[1:-2]]
    assert len(detections) == 2  # the sync pulse, then the wakeword
    assert 1.0 <= (detections[1] - detections[0]) / 1000 <= 1.4 + 2.0
    # The boot pulse (energy mode), then the start and stop timestamps.
    assert len(power.edges(0, clock.now_us())) == 3
    text = host.send("print_dutycycle%").decode()
    assert text.count(", ") == 200 and text.endswith("m-ready\r\n")


# ------------------------------------------------------------------------------- Arduino

def arduino(**kwargs):
    clock = SimClock()
    dut = FakeDut(clock)
    board = VirtualArduinoIoManager(dut, clock, boot_dut=False, **kwargs)
    dut.signals = board
    host = Host(board)
    board.boot()
    return clock, dut, board, host


def test_arduino_replies():
    _, _, board, host = arduino()
    assert host.send("name%") == b"m-name-io-[arduino]\r\nm-ready\r\n"
    assert host.send("version%") == b"m-version-[1.0.3]\r\nm-ready\r\n"
    assert host.send("tm 0%") == b"m-timestmp-mode-FALLING\r\nm-[Timer disabled after mode change]\r\nm-ready\r\n"
    assert host.send("enable-timer%") == b"m-timer-enabled\r\nm-ready\r\n"
    assert board.timer_enabled
    assert host.send("disable-timer%") == b"m-timer-disabled\r\nm-ready\r\n"
    assert host.send("bogus 1%") == b"e-[Unknown command: bogus]\r\nm-ready\r\n"
    assert host.send("dut%") == b"e-[dut: missing command]\r\nm-ready\r\n"
    assert host.send("%") == b"m-ready\r\n"


def test_arduino_passthrough_and_lap_lines():
    clock, _, _, host = arduino(lap_pin_wired=True)
    clock.advance_us(1_000)
    host.send("tm 0%")
    host.send("enable-timer%")
    reply = host.send("dut infer%").decode().split("\r\n")
    assert reply[:3] == ["m-dut-passthrough(infer)", "m-ready", "[dut]: m-infer-start-10"]
    laps = [int(line[len("m-lap-us-"):]) for line in reply if line.startswith("m-lap-us-")]
    assert len(laps) == 2 and laps[1] - laps[0] == 1_000_000
    assert reply[-3:] == ["[dut]: m-infer-done", "[dut]: m-ready", ""]
    assert reply.index("[dut]: m-infer-start-10") < reply.index(f"m-lap-us-{laps[0]}")


def test_arduino_change_mode_sees_both_edges_and_timer_off_sees_none():
    _, _, _, host = arduino(lap_pin_wired=True)
    host.send("tm 1%")
    host.send("enable-timer%")
    assert host.send("dut infer%").decode().count("m-lap-us-") == 4
    host.send("disable-timer%")
    assert "m-lap-us-" not in host.send("dut infer%").decode()


def test_arduino_queue_is_64_bytes():
    _, dut, board, _ = arduino()
    dut.say(b"y" * 100)
    assert len(board.queued_dut_bytes) == 64 and board.dropped_dut_bytes == 36
