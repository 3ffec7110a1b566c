"""harness.channel: reading a DUT's answer up to its `m-ready` (protocol.md 1.1, 8.1), directly and
through an interface board's `dut <cmd>` passthrough (3.1.2). Scripted devices send exactly the
hostile replies; the virtual DUT and STM board show the normal path."""

from __future__ import annotations

import time

import pytest

from harness.channel import DirectChannel, PassthroughChannel, read_until_ready
from harness.errors import DeviceReset, DeviceTimeout, GarbledReply
from harness.interface import InterfaceBoard
from harness.transport import SerialLink
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.faults import FaultPlan
from harness.virtual.interface import VirtualStmInterface
from harness.virtual.models import BuiltinModel
from helpers.serial_doubles import ScriptedDevice, pty_link

BANNER = b"m-timestamp-mode-performance\r\nm-lap-us-1234\r\nm-init-done\r\nm-ready\r\n"


def direct(replies: dict, **kwargs):
    return pty_link(ScriptedDevice(replies, **kwargs))


# ------------------------------------------------------------------------------- direct


def test_exchange_sends_the_command_with_percent_and_returns_lines_to_m_ready():
    device = ScriptedDevice({"profile": b"m-profile-[fw]\r\n\r\nm-model-[kws01]\r\nm-ready\r\n"})
    with pty_link(device) as (_, link):
        lines = DirectChannel(link).exchange("profile", 0.3)
    assert lines == ["m-profile-[fw]", "m-model-[kws01]", "m-ready"]  # the empty line is skipped
    assert device.commands == ["profile"]


def test_virtual_dut_round_trip():
    clock = SimClock()
    with pty_link(VirtualDut(BuiltinModel("kws01"), clock), clock=clock) as (_, link):
        channel = DirectChannel(link)
        assert channel.exchange("name", 0.3) == ["m-name-dut-[virtual]", "m-ready"]
        assert channel.exchange("bogus", 0.3) == ["e-[Unknown command: bogus]", "m-ready"]
        assert channel.exchange("db load 4", 0.3) == ["m-[Expecting 4 bytes]", "m-ready"]
        assert channel.exchange("db 0a0b0c0d", 0.3) == ["m-load-done", "m-ready"]
        assert channel.exchange("db print", 0.3) == ["m-buffer-0a-0b-0c-0d", "m-ready"]  # stray empty line skipped


def test_stale_output_in_the_port_does_not_answer_the_next_command():
    device = ScriptedDevice({"name": b"m-name-dut-[fresh]\r\nm-ready\r\n"})
    with pty_link(device) as (dev, link):
        device.say(b"m-results-[0.500]\r\nm-ready\r\nhalf a li")  # a late answer, and noise
        assert dev.drain()
        time.sleep(0.05)
        assert DirectChannel(link).exchange("name", 0.3) == ["m-name-dut-[fresh]", "m-ready"]


def test_a_missing_m_ready_times_out_naming_the_last_line():
    with direct({"infer 1 0": b"m-warmup-start-0\r\nm-warmup-done\r\n"}) as (_, link):
        started = time.monotonic()
        with pytest.raises(DeviceTimeout) as caught:
            DirectChannel(link).exchange("infer 1 0", 0.3)
        assert time.monotonic() - started < 1.0
    error = caught.value
    assert error.device == "DUT" and error.command == "infer 1 0" and error.last_line == "m-warmup-done"
    assert "within 0.3 s" in str(error) and "baud rate" in str(error)


def test_a_silent_device_times_out_saying_nothing_was_received():
    with direct({}) as (_, link):
        with pytest.raises(DeviceTimeout, match="nothing was received") as caught:
            DirectChannel(link).exchange("name", 0.3)
    assert caught.value.last_line is None


def test_a_line_that_never_ends_times_out_and_the_next_exchange_is_clean():
    device = ScriptedDevice({"name": [b"m-name-dut-[x]\r\nm-rea", b"m-name-dut-[x]\r\nm-ready\r\n"]})
    with pty_link(device) as (_, link):
        channel = DirectChannel(link)
        with pytest.raises(DeviceTimeout) as caught:
            channel.exchange("name", 0.3)
        assert caught.value.last_line == "m-name-dut-[x]"
        assert link.pending_partial() == b"m-rea"
        # the half line is thrown away before the next command, not glued to its answer
        assert channel.exchange("name", 0.3) == ["m-name-dut-[x]", "m-ready"]


@pytest.mark.parametrize("garbled", [b"m-infer-donerGIm-ready\r\n", b"m-results-[0.000,0.996]m-ready\r\n",
                                     b"\xffm-ready\r\n", b"m-readym-ready\r\n"])
def test_m_ready_glued_to_other_text_is_refused_at_once(garbled):
    """A half-duplex collision or a lost line end (protocol.md 1.9): the answer is over, so the
    channel says so at once instead of waiting out the (possibly long) infer timeout."""
    with direct({"infer 1 0": b"m-infer-start-1\r\n" + garbled}) as (_, link):
        started = time.monotonic()
        with pytest.raises(GarbledReply, match="m-ready glued") as caught:
            DirectChannel(link).exchange("infer 1 0", 5.0)
        assert time.monotonic() - started < 1.0
    assert caught.value.lines[0] == "m-infer-start-1"


def test_binary_noise_before_the_answer_is_kept_as_lines_not_fatal():
    noise = bytes(b for b in range(256) if b not in b"\n") * 2
    with direct({"name": noise + b"\r\nm-name-dut-[x]\r\nm-ready\r\n"}) as (_, link):
        lines = DirectChannel(link).exchange("name", 0.3)
    assert lines[-2:] == ["m-name-dut-[x]", "m-ready"]
    assert len(lines) == 3 and "\ufffd" in lines[0] and "\r" not in lines[0] and "\0" not in lines[0]


def test_a_huge_line_does_not_end_the_answer():
    with direct({"help": b"h" * 300_000 + b"\r\nm-ready\r\n"}) as (_, link):
        lines = DirectChannel(link).exchange("help", 1.0)
    assert [len(line) for line in lines] == [300_000, 7]


def test_a_reset_mid_infer_is_reported_with_the_banner_and_the_link_stays_in_step():
    partial = b"m-warmup-start-1\r\nm-warmup-done\r\nm-infer-start-10\r\nm-lap-us-5000\r\n"
    device = ScriptedDevice({"infer 10 1": partial + BANNER, "name": b"m-name-dut-[x]\r\nm-ready\r\n"})
    with pty_link(device) as (_, link):
        channel = DirectChannel(link)
        with pytest.raises(DeviceReset) as caught:
            channel.exchange("infer 10 1", 0.3)
        assert caught.value.lines[:4] == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-10", "m-lap-us-5000"]
        assert caught.value.lines[-1] == "m-ready"  # the banner's own m-ready was read too
        assert "rebooted while answering 'infer 10 1'" in str(caught.value)
        assert channel.exchange("name", 0.3) == ["m-name-dut-[x]", "m-ready"]


def test_a_banner_whose_m_ready_never_comes_is_still_a_reset():
    with direct({"name": b"m-timestamp-mode-energy\r\nm-init-done\r\n"}) as (_, link):
        with pytest.raises(DeviceReset) as caught:
            DirectChannel(link).exchange("name", 0.3)
    assert caught.value.lines == ["m-timestamp-mode-energy", "m-init-done"]


def test_a_virtual_dut_reset_when_the_command_arrives():
    clock = SimClock()
    plan = FaultPlan(reset_at_command=2)
    with pty_link(VirtualDut(BuiltinModel("kws01"), clock), clock=clock, faults=plan) as (_, link):
        channel = DirectChannel(link)
        assert channel.exchange("name", 0.3)[-1] == "m-ready"
        with pytest.raises(DeviceReset) as caught:
            channel.exchange("infer 1 0", 0.3)
        assert caught.value.lines[0] == "m-timestamp-mode-performance"
        assert channel.exchange("name", 0.3) == ["m-name-dut-[virtual]", "m-ready"]


def test_read_until_ready_over_loop():
    with SerialLink("loop://", 115200, name="loop") as link:
        link._port.write(b"\r\n\r\nm-ready\r\n")
        assert read_until_ready(link, "x", 0.3, "DUT") == ["m-ready"]
        link._port.write(b"[dut]: m-ready\r\n")  # a prefix is only stripped when asked for
        with pytest.raises(GarbledReply):
            read_until_ready(link, "x", 0.3, "DUT")


# ------------------------------------------------------------------------------- passthrough


def board_reply(command: str, *dut_lines: str, ack: str | None = None) -> bytes:
    ack = f"m-dut-passthrough({command})" if ack is None else ack
    out = f"{ack}\r\nm-ready\r\n" if ack else "m-ready\r\n"
    return (out + "".join(f"[dut]: {line}\r\n" for line in dut_lines)).encode()


def test_passthrough_strips_the_prefix_and_checks_the_acknowledgement():
    board = ScriptedDevice({"dut name": board_reply("name", "m-name-dut-[x]", "m-ready")})
    with pty_link(board, name="stm32h573i-dk") as (_, link):
        assert PassthroughChannel(link, "stm32h573i-dk").exchange("name", 0.3) == ["m-name-dut-[x]", "m-ready"]
    assert board.commands == ["dut name"]


@pytest.mark.parametrize("reply", [board_reply("name", "m-name-dut-[x]", "m-ready", ack=""),
                                   board_reply("name", ack="m-dut-passthrough(nme)"),
                                   b"m-dut-passthrough(name) m-ready\r\n"])
def test_passthrough_without_its_acknowledgement_is_garbled(reply):
    with pty_link(ScriptedDevice({"dut name": reply})) as (_, link):
        with pytest.raises(GarbledReply) as caught:
            PassthroughChannel(link, "stm32h573i-dk").exchange("name", 0.3)
    assert caught.value.device == "stm32h573i-dk"


def test_a_silent_board_times_out_naming_the_board():
    with pty_link(ScriptedDevice({})) as (_, link):
        with pytest.raises(DeviceTimeout, match="stm32h573i-dk: no complete answer to 'dut name'.*interface board"):
            PassthroughChannel(link, "stm32h573i-dk").exchange("name", 0.3)


def test_passthrough_dut_silence_times_out_naming_the_dut():
    with pty_link(ScriptedDevice({"dut infer 1 0": board_reply("infer 1 0", "m-warmup-start-0")})) as (_, link):
        with pytest.raises(DeviceTimeout) as caught:
            PassthroughChannel(link, "arduino").exchange("infer 1 0", 0.3)
    assert caught.value.device == "DUT" and caught.value.last_line == "m-warmup-start-0"


def test_passthrough_leaves_board_chatter_out_of_the_dut_answer():
    """The Arduino's own `m-lap-us` lines (its debug timer) are not the DUT's: parsed as DUT output
    they would give a window four lap stamps. They stay in the log (the link's listeners)."""
    reply = board_reply("infer 1 0", "m-infer-start-1") + b"m-lap-us-4000\r\n" + b"[dut]: m-ready\r\n"
    heard = []
    with pty_link(ScriptedDevice({"dut infer 1 0": reply})) as (_, link):
        link.listen(lambda direction, text: heard.append(text))
        lines = PassthroughChannel(link, "arduino").exchange("infer 1 0", 0.3)
    assert lines == ["m-infer-start-1", "m-ready"]
    assert "m-lap-us-4000" in heard


def test_passthrough_reset_of_the_dut_is_detected_through_the_prefix():
    banner = [line for line in BANNER.decode().split("\r\n") if line]
    board = ScriptedDevice({"dut infer 1 0": board_reply("infer 1 0", "m-warmup-start-0", *banner)})
    with pty_link(board) as (_, link):
        with pytest.raises(DeviceReset) as caught:
            PassthroughChannel(link, "stm32h573i-dk").exchange("infer 1 0", 0.3)
    assert caught.value.lines[-1] == "[dut]: m-ready"


def test_passthrough_through_the_virtual_stm_board_to_the_virtual_dut():
    clock = SimClock()
    dut = VirtualDut(BuiltinModel("kws01"), clock, uart_baud=115200)
    dut.boot()  # booted before the board listens: its banner is not left in the board's queue
    board = VirtualStmInterface(dut, clock, stored_baud=115200, boot_dut=False)
    with pty_link(board, clock=clock) as (_, link):
        channel = PassthroughChannel(link, "stm32h573i-dk")
        assert channel.exchange("name", 0.3) == ["m-name-dut-[virtual]", "m-ready"]
        assert channel.exchange("profile", 0.3)[-2:] == ["m-model-[kws01]", "m-ready"]
        assert channel.exchange("db", 0.3) == ["e-[Command 'db' requires a subcommand]", "m-ready"]
    assert board.commands == ["dut name", "dut profile", "dut db"]


def test_the_stale_boot_banner_in_the_board_answers_the_first_passthrough_as_a_reset():
    """protocol.md 3.1.2: DUT output while no passthrough is active waits in the board; the DUT's
    boot banner is read as a reset. The board then holds the real answer to that command (it
    stopped forwarding at the stale m-ready), so later passthroughs run one answer behind until
    the board is reset (`setbaud`), which empties its queue."""
    clock = SimClock()
    dut = VirtualDut(BuiltinModel("kws01"), clock, uart_baud=115200)
    board = VirtualStmInterface(dut, clock, stored_baud=115200, boot_dut=True)
    with pty_link(board, clock=clock) as (_, link):
        channel = PassthroughChannel(link, "stm32h573i-dk")
        with pytest.raises(DeviceReset):
            channel.exchange("name", 0.3)
        assert b"m-name-dut-[virtual]" in board.queued_dut_bytes
        InterfaceBoard(link, "stm32h573i-dk", timeout_s=0.3, reset_settle_s=0.0).set_dut_baud(115200)
        assert board.queued_dut_bytes == b""
        assert channel.exchange("profile", 0.3)[-2:] == ["m-model-[kws01]", "m-ready"]
