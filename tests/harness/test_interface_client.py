"""harness.interface.InterfaceBoard against the virtual STM32H573I-DK interface and the Arduino IO
manager over a pty (protocol.md 3.1, 3.2): the board's own commands, `setbaud` and its reset, the
streaming-wakeword recordings (`print_dutycycle` with `m-ready` glued to the last values and
alone), and a whole download and inference through the passthrough."""

from __future__ import annotations

import contextlib
import time
import wave

import numpy as np
import pytest

from harness.dut import DutClient
from harness.errors import DeviceTimeout, GarbledReply
from harness.interface import DutyCycleCounts, InterfaceBoard
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.interface import STM_NAME, VirtualArduinoIoManager, VirtualStmInterface
from harness.virtual.models import BuiltinModel
from helpers.serial_doubles import ScriptedDevice, pty_link

STM = "stm32h573i-dk"


@contextlib.contextmanager
def stm(tmp_path=None, dut=None, **board_kwargs):
    clock = SimClock()
    dut = dut if dut is not None else ScriptedDevice({"name": b"m-name-dut-[scripted]\r\nm-ready\r\n"})
    board = VirtualStmInterface(dut, clock, sd_root=tmp_path, **board_kwargs)
    if hasattr(dut, "signals"):
        dut.signals = board
    with pty_link(board, clock=clock, name=STM) as (_, link):
        yield InterfaceBoard(link, STM, timeout_s=0.3, reset_settle_s=0.0), board, clock


def write_wav(path, seconds: float, channels: int = 2, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\0\0" * channels * int(seconds * rate))


# ------------------------------------------------------------------------------- board commands


def test_identify_the_stm_board():
    with stm() as (client, board, _):
        assert client.identify() == STM_NAME
        assert client.command("checkbaud") == ["baud is: 9600", "m-ready"]
    assert board.commands == ["name", "checkbaud"]


def test_stale_board_output_does_not_answer_a_command():
    device = ScriptedDevice({"name": b"tinyML Enhanced Interface Board\r\nm-ready\r\n"})
    with pty_link(device) as (dev, link):
        device.say(b"m-ready\r\nold line\r\npart")
        assert dev.drain()
        time.sleep(0.05)
        assert InterfaceBoard(link, STM, timeout_s=0.3).identify() == "tinyML Enhanced Interface Board"


def test_identify_without_a_name_line_is_garbled():
    with pty_link(ScriptedDevice({"name": b"\r\nm-ready\r\n"})) as (_, link):
        with pytest.raises(GarbledReply, match="no board name"):
            InterfaceBoard(link, STM, timeout_s=0.3).identify()


def test_set_dut_baud_resets_the_board_with_the_new_baud():
    with stm() as (client, board, _):
        client.set_dut_baud(115200)
        assert (board.dut_baud, board.stored_baud, board.resets) == (115200, 115200, 1)
        assert client.command("checkbaud") == ["baud is: 115200", "m-ready"]


def test_set_dut_baud_needs_its_confirmation_line():
    with pty_link(ScriptedDevice({"setbaud 9600": b"set baud to: 115200\nm-ready\r\n"})) as (_, link):
        with pytest.raises(GarbledReply, match="no 'set baud to' line"):
            InterfaceBoard(link, STM, timeout_s=0.3, reset_settle_s=0.0).set_dut_baud(9600)


def test_set_dut_baud_throws_away_the_boards_boot_output():
    board = ScriptedDevice({"setbaud 9600": b"set baud to: 9600\nm-ready\r\nboot noise\r\n\xfe\xff no end",
                            "name": b"tinyML Enhanced Interface Board\r\nm-ready\r\n"})
    with pty_link(board) as (_, link):
        client = InterfaceBoard(link, STM, timeout_s=0.3, reset_settle_s=0.0)
        client.set_dut_baud(9600)
        assert link.pending_partial() == b""
        assert client.identify() == "tinyML Enhanced Interface Board"


def test_a_prefix_the_board_does_not_answer_times_out_naming_the_board():
    with stm() as (client, _, _):
        with pytest.raises(DeviceTimeout, match=f"{STM}: no complete answer to 'dutx'.*one it knows"):
            client.command("dutx")
        assert client.identify() == STM_NAME  # the board still answers


# ------------------------------------------------------------------------------- streaming wakeword


def test_detections_in_ms_since_record_detections():
    with stm() as (client, board, clock):
        clock.advance_us(5_000_000)  # time before the recording does not count
        client.record_detections()
        origin = board._tim2_origin_us  # TIM2 restarted when the board handled the command
        for ms in (96, 9_975, 9_980, 20_000):  # 9_980 is within 10 ms of 9_975: the board drops it
            board.wakeword(origin + ms * 1000)
        assert client.detections_ms() == [96, 9_975, 20_000]
        client.record_detections()  # clears the list
        assert client.detections_ms() == []


@pytest.mark.parametrize("frames", [5, 8, 16, 0, 120])
def test_duty_cycle_with_m_ready_glued_to_the_last_values_or_alone(frames):
    """print_dutycycle puts `m-ready` on the line of its last values (5 frames), or alone when
    that line was just broken after every 8th value (8, 16) or there are none (0); the board
    keeps 100 edges of each kind (120)."""
    with stm() as (client, board, clock):
        client.record_detections()
        origin = board._tim2_origin_us  # TIM2 restarted when the board handled the command
        for k in range(frames):
            board.processing(origin + k * 32_000 + 1_000, True)
            board.processing(origin + k * 32_000 + 12_630, False)
        lines = client.link.drain()  # nothing pending before the command
        counts = client.duty_cycle()
    kept = min(frames, 100)
    assert lines == []
    assert counts.starts == [k * 3_200 + 100 for k in range(kept)]
    assert counts.stops == [k * 3_200 + 1_263 for k in range(kept)]
    starts_s, stops_s = counts.seconds()
    assert starts_s == pytest.approx([(k * 32_000 + 1_000) * 1e-6 for k in range(kept)])
    assert stops_s == pytest.approx([(k * 32_000 + 12_630) * 1e-6 for k in range(kept)])


def test_duty_cycle_of_a_board_that_glues_m_ready_to_values_with_bare_newlines():
    text = b"Duty cycle start times (s)\n1, 2, \nDuty cycle stop times (s)\n3, 4, m-ready\r\n"
    with pty_link(ScriptedDevice({"print_dutycycle": text})) as (_, link):
        counts = InterfaceBoard(link, STM, timeout_s=0.3).duty_cycle()
    assert counts == DutyCycleCounts([1, 2], [3, 4])


def test_duty_cycle_seconds_use_the_runners_10_us_tick():
    assert DutyCycleCounts([3_200], [4_363]).seconds() == ([3_200 * 10e-6], [4_363 * 10e-6])


def test_play_waits_for_the_wav_and_refuses_a_missing_one(tmp_path):
    write_wav(tmp_path / "short.wav", 0.25)
    with stm(tmp_path) as (client, _, clock):
        before = clock.now_us()
        assert client.play("short.wav", 0.25) == ["Attempting to play short.wav", "succeeded.", "m-ready"]
        assert clock.now_us() - before >= 250_000
        with pytest.raises(GarbledReply, match="could not play the file"):
            client.play("missing.wav", 1.0)


# ------------------------------------------------------------------------------- Arduino


@contextlib.contextmanager
def arduino(**board_kwargs):
    clock = SimClock()
    dut = VirtualDut(BuiltinModel("kws01"), clock, energy_mode=True, uart_baud=9600)
    dut.boot()  # booted before the board listens: no stale banner in its queue
    board = VirtualArduinoIoManager(dut, clock, boot_dut=False, **board_kwargs)
    dut.signals = board
    with pty_link(board, clock=clock, name="arduino") as (_, link):
        yield InterfaceBoard(link, "arduino", timeout_s=0.3, reset_settle_s=0.0), board, clock


def test_arduino_identify_and_timestamp_timer():
    with arduino() as (client, board, _):
        assert client.identify() == "m-name-io-[arduino]"
        assert not board.timer_enabled
        client.arm_timestamp_timer()
        assert board.mode == "FALLING" and board.timer_enabled
    assert board.commands == ["name", "tm 0", "enable-timer"]


def test_arm_timestamp_timer_sends_nothing_to_the_stm_board():
    with stm() as (client, board, _):
        client.arm_timestamp_timer()
        client.identify()
    assert board.commands == ["name"]


def test_arduino_timer_lines_stay_out_of_the_dut_answer():
    with arduino(lap_pin_wired=True) as (client, board, _):
        heard = []
        client.link.listen(lambda direction, text: heard.append(text))
        client.arm_timestamp_timer()
        reply = DutClient(client.channel, command_timeout_s=0.3, infer_timeout_s=1.0).infer(10, 0, expect_laps=False)
    assert reply.laps_us == []  # the energy-mode DUT prints no laps; the board's are not the DUT's
    assert len([t for t in heard if t.startswith("m-lap-us-")]) == 2  # two falling edges, in the log
    assert reply.lines[-1] == "m-ready" and len(reply.results) == 12


# ------------------------------------------------------------------------------- through the board


def test_download_and_infer_through_the_stm_passthrough():
    clock = SimClock()
    model = BuiltinModel("kws01")
    dut = VirtualDut(model, clock, energy_mode=True, uart_baud=9600)
    data = model.prototype(5).astype(np.int8).tobytes()
    with stm(dut=dut) as (client, board, clock):
        assert client.identify() == STM_NAME
        client.set_dut_baud(9600)  # the reset empties the board's queue of the DUT's boot banner
        dut_client = DutClient(client.channel, command_timeout_s=0.3, infer_timeout_s=1.0, verify_download=True)
        assert dut_client.identify().model == "kws01"
        stats = dut_client.load(data)
        reply = dut_client.infer(10, 0, expect_laps=False)
    assert (stats.chunks, stats.input_retries, stats.chunk_retries) == (13, 0, 0)
    assert reply.results == [float(f"{v:0.3f}") for v in model.run(data)]
    assert board.commands[:3] == ["name", "setbaud 9600", "dut name"]
    assert all(len(c) <= len("dut db ") + 76 for c in board.commands)
    assert board.dropped_dut_bytes == 0 and board.dropped_host_bytes == 0


@pytest.mark.parametrize("board_name", [STM, "arduino"])
def test_flush_dut_queue_takes_out_a_stale_boot_banner(board_name):
    """A DUT that reset while no passthrough ran leaves its banner in the board's queue; without a
    flush the next answers would run one behind (the banner's m-ready answers the next command)."""
    clock = SimClock()
    dut = VirtualDut(BuiltinModel("kws01"), clock, uart_baud=9600)
    board = (VirtualStmInterface(dut, clock, stored_baud=9600) if board_name == STM
             else VirtualArduinoIoManager(dut, clock))
    with pty_link(board, clock=clock, name=board_name) as (_, link):
        client = InterfaceBoard(link, board_name, timeout_s=0.3, reset_settle_s=0.0)
        if board_name == STM:
            client.set_dut_baud(9600)
        dut.reset()  # its banner goes into the board's queue: no passthrough is running
        client.flush_dut_queue()
        dut_client = DutClient(client.channel, command_timeout_s=0.3)
        assert dut_client.identify().model == "kws01"
        assert dut_client.command("name") == ["m-name-dut-[virtual]", "m-ready"]
