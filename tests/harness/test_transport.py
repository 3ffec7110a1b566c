"""harness.transport.SerialLink: lines as both runners read them (protocol.md 2.1), over pyserial's
`loop://` and over a pty, with hostile bytes: noise, NULs, invalid UTF-8, a line that never ends,
a huge line, stale output, a closed port."""

from __future__ import annotations

import time

import pytest

from harness.errors import HarnessError
from harness.transport import SerialLink
from helpers.serial_doubles import ScriptedDevice, pty_link


@pytest.fixture
def loop():
    with SerialLink("loop://", 115200, name="loop") as link:
        yield link


def feed(link: SerialLink, data: bytes) -> None:
    """Bytes arriving on the link (loop:// gives back what is written to it)."""
    link._port.write(data)


def test_lines_split_on_newline_with_cr_and_nul_dropped(loop):
    feed(loop, b"m-name-dut-[x]\r\nm-\0ready\r\n\r\nlast\n")
    assert loop.read_line(0.3) == "m-name-dut-[x]"
    assert loop.read_line(0.3) == "m-ready"
    assert loop.read_line(0.3) == ""  # an empty line is a line (callers skip it)
    assert loop.read_line(0.3) == "last"
    assert loop.read_line(0.05) is None


def test_undecodable_bytes_become_replacement_characters(loop):
    feed(loop, b"m-results-[\xff\xfe0.5]\r\n\xc3\xa9t\xc3\r\n")
    assert loop.read_line(0.3) == "m-results-[\ufffd\ufffd0.5]"
    assert loop.read_line(0.3) == "\u00e9t\ufffd"  # valid UTF-8 kept, a truncated sequence replaced


def test_binary_noise_never_raises_and_every_line_is_text(loop):
    noise = bytes(range(256)) * 8
    feed(loop, noise + b"\r\nm-ready\r\n")
    lines = []
    while (line := loop.read_line(0.3)) is not None:
        lines.append(line)
    assert lines[-1] == "m-ready"
    assert len(lines) == 8 + 1 + 1  # one \n per copy of the noise, then the tail of the noise, then m-ready
    assert all(isinstance(line, str) and "\r" not in line and "\0" not in line for line in lines)
    assert any("\ufffd" in line for line in lines)


def test_a_line_that_never_ends_times_out_and_stays_pending(loop):
    feed(loop, b"m-infer-start-10\r\nm-lap-us-123")
    assert loop.read_line(0.3) == "m-infer-start-10"
    started = time.monotonic()
    assert loop.read_line(0.3) is None
    assert 0.29 <= time.monotonic() - started < 0.8
    assert loop.pending_partial() == b"m-lap-us-123"
    feed(loop, b"45\r\n")  # the rest of the line arrives later: nothing was lost
    assert loop.read_line(0.3) == "m-lap-us-12345"
    feed(loop, b"junk-without-end")
    assert loop.read_line(0.05) is None
    loop.discard_partial()
    assert loop.pending_partial() == b""


def test_a_huge_line_comes_back_whole_and_fast():
    device = ScriptedDevice({"dump": b"7" * 1_000_000 + b"\r\nm-ready\r\n"})
    with pty_link(device) as (dev, link):
        started = time.monotonic()
        link.write("dump%")
        line = link.read_line(3.0)
        assert line is not None and len(line) == 1_000_000 and set(line) == {"7"}
        assert link.read_line(0.3) == "m-ready"
        assert time.monotonic() - started < 3.0


def test_drain_returns_stale_lines_already_in_the_port(loop):
    """The channels call drain() (quiet 0) before each command: output that already sits in the
    port (a late answer, a chatty DUT) must go then, not answer the next command."""
    feed(loop, b"stale\r\nm-ready\r\npartial")
    time.sleep(0.05)
    assert loop.drain() == ["stale", "m-ready"]
    assert loop.pending_partial() == b"partial"  # drain leaves a line in progress alone
    assert loop.drain() == []


def test_drain_with_a_quiet_time_waits_for_late_lines():
    device = ScriptedDevice({"talk": b"one\r\n"})
    with pty_link(device) as (dev, link):
        link.write("talk%")
        lines = link.drain(quiet_s=0.2)
    assert lines == ["one"]


def test_write_sends_exact_bytes_and_counts_and_echoes(loop):
    heard = []
    loop.listen(lambda direction, text: heard.append((direction, text)))
    loop.write("name%")
    loop.write("db 00%", echo=False)
    assert loop.counters.tx_bytes == 11
    assert loop.read_line(0.05) is None  # the loop gives back "name%db 00%", which has no line end
    assert loop.pending_partial() == b"name%db 00%"
    assert loop.counters.rx_bytes == 11
    feed(loop, b"\n")
    assert loop.read_line(0.3) == "name%db 00%"
    assert heard == [("tx", "name%"), ("rx", "name%db 00%")]


def test_write_refuses_non_ascii_with_a_harness_error(loop):
    with pytest.raises(HarnessError, match="ASCII"):
        loop.write("play caf\u00e9.wav%")
    assert loop.counters.tx_bytes == 0


def test_opening_a_missing_port_says_what_to_check():
    with pytest.raises(HarnessError, match=r"DUT: cannot open serial port '/dev/no-such-port-\w+'.*--list-ports"):
        SerialLink("/dev/no-such-port-xyz", 115200, name="DUT")


def test_reading_or_writing_a_closed_port_is_a_harness_error():
    link = SerialLink("loop://", 115200, name="DUT")
    link.close()
    link.close()  # closing twice is harmless
    with pytest.raises(HarnessError, match="reading from loop:// failed"):
        link.read_line(0.1)
    with pytest.raises(HarnessError, match="writing to loop:// failed"):
        link.write("name%")


def test_reopen_keeps_listeners_counters_and_poll_but_not_stale_bytes():
    heard = []
    link = SerialLink("loop://", 9600, name="board", read_poll_s=0.005)
    link.listen(lambda direction, text: heard.append(text))
    link.write("x%")
    link.read_line(0.05)
    assert link.pending_partial() == b"x%"
    link.reopen(baud=115200)
    assert link.baud == 115200 and link._port.baudrate == 115200
    assert link._port.timeout == 0.005
    assert link.pending_partial() == b""
    assert link.counters.tx_bytes == 2 and link.counters.rx_bytes == 2
    link.write("y%")
    assert heard == ["x%", "y%"]
    link.close()


def test_over_a_pty_a_device_that_streams_without_line_ends_cannot_hold_read_line():
    device = ScriptedDevice()
    with pty_link(device) as (dev, link):
        device.stream = b"\xaa" * 64  # endless bytes, never a newline
        started = time.monotonic()
        assert link.read_line(0.3) is None
        assert time.monotonic() - started < 1.0
        assert len(link.pending_partial()) > 64
        device.stream = b""


def test_over_a_pty_lines_from_a_device_arrive_in_order():
    device = ScriptedDevice({"name": b"m-name-dut-[pty]\r\nm-ready\r\n"})
    with pty_link(device) as (dev, link):
        link.write("name%")
        assert [link.read_line(0.5), link.read_line(0.5)] == ["m-name-dut-[pty]", "m-ready"]
        assert device.commands == ["name"]
        assert link.counters.rx_bytes == len(b"m-name-dut-[pty]\r\nm-ready\r\n")
