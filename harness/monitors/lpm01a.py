"""Client for the STM32 Power shield LPM01A (PowerShield firmware) over its serial port.

Protocol as the MLCommons runner uses it (protocol.md 4.1): 3686400 baud, commands end `\\r\\n`,
the device answers `PowerShield > ack <command> [result]` or `PowerShield > error <command>`
followed by an `Error detail: <why>` line. With `output energy`, `format ascii_dec`, `freq 1k` it
streams one value per millisecond, `dddd±ee` meaning dddd·10^±ee J (`1683-08` = 16.83 µJ),
possibly several per line, `TimeStamp: 001s 000ms, buff 00%` lines and `event NN ris` lines when
its D7 input sees the DUT's timestamp edge.

A reader thread sorts every line into data values, TimeStamp lines, events and other messages
(acknowledgements, `Acquisition completed`). Values cut at a line edge or garbled become NaN, as
in the runner, so the sample positions of later events stay right; unlike the runner they are
counted and reported, and a data line that starts with a cut value is kept (the runner's
`re.match` would drop the whole line to its message queue and shift every later index).

Every wait has a timeout; a timeout or a refusal raises an error naming the port, the command
and the last line the device sent.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque

from harness.monitors.base import (
    Capture,
    CaptureBuffer,
    EnergyMonitor,
    MonitorCommandError,
    MonitorError,
    MonitorTimeout,
)

BAUD = 3686400
PROMPT = "PowerShield > "
VOLT_RANGE_V = (1.8, 3.3)

VALUE_RE = re.compile(r"\d{4}[+-]\d{2}")
EVENT_RE = re.compile(r"event (\d+) ris")
TIMESTAMP_RE = re.compile(r"^TimeStamp:[ ><]([0-9]{3})s ([0-9]{3})ms, buff [0-9]{2}%$")
# Characters a data line is made of: a line of only these that holds a value is data even when it
# does not start with a whole value (a value cut at the line start).
_DATA_CHARS = re.compile(r"^[0-9+\- ]+$")
SAMPLES_PER_TIMESTAMP = 1000


def parse_value(text: str) -> float:
    """`1683-08` → 1.683e-05 (J)."""
    return float(text[:4] + "e" + text[4:])


def format_voltage(voltage_v: float) -> str:
    """The `volt` argument: millivolts with the `m` unit. round(), not the runner's int(), which
    turns 3.3 V into `3299m`."""
    return f"{round(voltage_v * 1000)}m"


def lcd_voltage_text(voltage_v: float) -> str:
    """Line 2 of the LCD while powered, as the runner writes it: right-aligned in 14, `V `."""
    return f"{voltage_v: >14}V "


class LineSorter:
    """Sorts the LPM01A's lines into a CaptureBuffer (data, events) and a message list.

    Separate from the serial port so it is tested on strings.
    """

    def __init__(self, buffer: CaptureBuffer) -> None:
        self.buffer = buffer
        self.messages: deque[str] = deque()
        self.message_cond = threading.Condition()
        self.last_line: str | None = None
        self._since_timestamp: int | None = None  # samples since the last TimeStamp line
        self.timestamp_lines = 0
        self.garbled_lines: list[str] = []

    def reset_stream(self) -> None:
        self._since_timestamp = None

    def feed(self, line: str) -> None:
        line = line.replace("\r", "").replace("\0", "")
        if not line:
            return
        self.last_line = line
        if line.startswith("TimeStamp"):
            self._timestamp(line)
        elif VALUE_RE.match(line) or (_DATA_CHARS.match(line) and VALUE_RE.search(line)):
            self._data(line)
        elif EVENT_RE.match(line):
            self.buffer.add_event(EVENT_RE.match(line).group(1))
        else:
            self._message(line)

    def _message(self, line: str) -> None:
        with self.message_cond:
            self.messages.append(line)
            self.message_cond.notify_all()

    def _timestamp(self, line: str) -> None:
        self.timestamp_lines += 1
        if not TIMESTAMP_RE.match(line):
            self.buffer.add_problem(f"unreadable TimeStamp line {line!r}")
        elif self._since_timestamp is not None and self._since_timestamp != SAMPLES_PER_TIMESTAMP:
            # The runner prints a warning for this: samples were lost or duplicated on the link.
            self.buffer.add_problem(f"TimeStamp line {line!r} came {self._since_timestamp} samples after the "
                                    f"previous one instead of {SAMPLES_PER_TIMESTAMP}")
        self._since_timestamp = 0

    def _data(self, line: str) -> None:
        values: list[float] = []
        partial = 0
        position = 0
        tail = ""
        glued = [at for at in (line.find(PROMPT), line.find("event "), line.find("TimeStamp")) if at > 0]
        if glued:
            # Another line glued behind data (a lost line break): sort it on its own.
            line, tail = line[:min(glued)], line[min(glued):]
        for match in VALUE_RE.finditer(line):
            if line[position:match.start()].strip():
                values.append(float("nan"))  # a cut or garbled value before this one
                partial += 1
            values.append(parse_value(match.group()))
            position = match.end()
        if line[position:].strip():
            values.append(float("nan"))
            partial += 1
        if partial:
            self.buffer.add_partial(partial)
            self.garbled_lines.append(line)
        if self._since_timestamp is not None:
            self._since_timestamp += len(values)
        self.buffer.add_samples(values)
        if tail:
            self.feed(tail)


class Lpm01a(EnergyMonitor):
    """The LPM01A on `port` (a device path or any pyserial URL).

    ack_timeout_s bounds each command's acknowledgement; stop_timeout_s the wait for
    `Acquisition completed` after `stop`.
    """

    def __init__(self, port: str, *, baud: int = BAUD, ack_timeout_s: float = 2.0, stop_timeout_s: float = 5.0,
                 serial_factory=None) -> None:
        self.port_name = port
        self.name = f"LPM01A on {port}"
        self.ack_timeout_s = ack_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.voltage_v: float | None = None
        self._buffer = CaptureBuffer(self.name)
        self._sorter = LineSorter(self._buffer)
        self._write_lock = threading.Lock()
        self._running = True
        self._host_control = False
        self._acquiring = False
        self.close_error: MonitorError | None = None
        if serial_factory is None:
            import serial  # pyserial, a core dependency

            serial_factory = serial.serial_for_url
        try:
            self._serial = serial_factory(port, baud, timeout=0.05)
        except Exception as error:
            raise MonitorError(f"{self.name}: cannot open the port: {error}") from error
        self._thread = threading.Thread(target=self._read_loop, name=f"lpm01a-reader-{port}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ EnergyMonitor

    def setup(self, voltage_v: float) -> None:
        """The runner's setup sequence (protocol.md 4.1), each command acknowledged."""
        low, high = VOLT_RANGE_V
        if not low <= voltage_v <= high:
            raise MonitorError(f"{self.name}: voltage {voltage_v} V is outside the LPM01A's range "
                               f"[{low}, {high}] V")
        self.command("htc")
        self._host_control = True
        self.command('lcd 1 "MLPerf Tiny"')
        self.command('lcd 2 "     monitor    "')
        self.command("pwr off")
        self.command("acqtime inf")
        self.command("trigdelay 0")
        self.command("trigsrc sw")
        self.command("eventsrc d7 fal")
        self.command("output energy")
        self.command("format ascii_dec")
        self.command("freq 1k")
        self.command(f"volt {format_voltage(voltage_v)}")
        self.voltage_v = voltage_v

    def power_on(self) -> None:
        if self.voltage_v is not None:
            self.command(f'lcd 2 "{lcd_voltage_text(self.voltage_v)}"')
        self.command("pwr on nostatus")

    def start(self) -> None:
        self._buffer.clear()
        self._sorter.reset_stream()
        self.command("start")
        self._acquiring = True

    def collect(self, expect_events: int, timeout_s: float) -> Capture:
        self._raise_if_dead()
        capture = self._buffer.drain(expect_events, timeout_s, last_line=lambda: self._sorter.last_line)
        if capture.partial_values:
            capture.problems.append(f"{capture.partial_values} value(s) cut at a line edge or garbled, "
                                    f"stored as NaN")
        return capture

    def stop(self) -> None:
        """`stop`, then wait for `Acquisition completed` (data still arriving is kept)."""
        if not self._acquiring:
            return
        self._purge_messages()
        self._write("stop")
        deadline = time.monotonic() + self.stop_timeout_s
        while True:
            line = self._next_message(deadline, "stop", "Acquisition completed")
            text = line.replace(PROMPT, "").strip()
            if "Acquisition completed" in text:
                break
            if text.startswith("error") and "stop" in text:
                self._acquiring = False
                raise MonitorCommandError(f"{self.name}: command 'stop' was refused: "
                                          f"{self._error_detail('stop', line)}")
        self._acquiring = False

    def power_off(self) -> None:
        self.command("pwr off")

    def close(self) -> None:
        """Release host control (`hrc`) if it was taken, stop the reader, close the port."""
        if not self._running:
            return
        try:
            if self._host_control and self._thread.is_alive():
                self._host_control = False
                self.command("hrc")
        except MonitorError as error:
            # The device goes back to standalone mode at its next power cycle anyway; closing must
            # not hide the error that led here (close runs from __exit__).
            self.close_error = error
        finally:
            self._running = False
            self._thread.join(timeout=2.0)
            # Closing a port that already failed: nothing is left to release.
            with contextlib.suppress(Exception):
                self._serial.close()

    # ------------------------------------------------------------------ commands

    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        """Send one command and wait for its acknowledgement; the tokens after `ack <command>`.

        The acknowledgement is the first line (prompt stripped) that contains the command text and
        starts with `ack` or `error`, as in the runner. `error` → MonitorCommandError with the
        `Error detail:` text; nothing in time → MonitorTimeout.
        """
        self._raise_if_dead()
        self._purge_messages()
        self._write(command)
        deadline = time.monotonic() + (self.ack_timeout_s if timeout_s is None else timeout_s)
        while True:
            line = self._next_message(deadline, command, "acknowledgement")
            text = line.replace(PROMPT, "").strip()
            if command in text and text.startswith(("ack", "error")):
                break
        if text.startswith("error"):
            raise MonitorCommandError(f"{self.name}: command {command!r} was refused: "
                                      f"{self._error_detail(command, line)}")
        return text.replace(command, "", 1).split()[1:]

    def _error_detail(self, command: str, error_line: str) -> str:
        deadline = time.monotonic() + self.ack_timeout_s
        try:
            while True:
                line = self._next_message(deadline, command, "the Error detail line")
                text = line.replace(PROMPT, "").strip()
                if text.startswith("Error detail"):
                    return text.replace("Error detail:", "", 1).strip()
        except MonitorTimeout:
            return f"{error_line.strip()!r} (no Error detail line followed)"

    def _write(self, command: str) -> None:
        try:
            with self._write_lock:
                self._serial.write(command.encode("ascii") + b"\r\n")
                self._serial.flush()
        except Exception as error:
            raise MonitorError(f"{self.name}: cannot send {command!r}: {error}") from error

    def _purge_messages(self) -> None:
        with self._sorter.message_cond:
            self._sorter.messages.clear()

    def _next_message(self, deadline: float, command: str, waiting_for: str) -> str:
        cond = self._sorter.message_cond
        with cond:
            while not self._sorter.messages:
                self._raise_if_dead(command)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MonitorTimeout(f"{self.name}: no {waiting_for} for command {command!r}; "
                                         f"last line seen: {self._sorter.last_line!r}")
                cond.wait(min(remaining, 0.1))
            return self._sorter.messages.popleft()

    def _raise_if_dead(self, command: str | None = None) -> None:
        failure = self._buffer.failure
        if failure is not None:
            during = f" during {command!r}" if command else ""
            raise MonitorError(f"{self.name}: the port failed{during}: {failure}; "
                               f"last line seen: {self._sorter.last_line!r}") from failure

    # ------------------------------------------------------------------ reader

    @property
    def timestamp_lines(self) -> int:
        return self._sorter.timestamp_lines

    @property
    def garbled_lines(self) -> list[str]:
        return list(self._sorter.garbled_lines)

    def _read_loop(self) -> None:
        pending = b""
        while self._running:
            try:
                chunk = self._serial.read(max(1, getattr(self._serial, "in_waiting", 0) or 1))
            except Exception as error:  # noqa: BLE001 - any read failure ends the stream, reported by collect
                if self._running:
                    self._buffer.fail(error)
                    with self._sorter.message_cond:
                        self._sorter.message_cond.notify_all()
                return
            if not chunk:
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                # Undecodable bytes become U+FFFD, which no pattern matches: such a value is NaN.
                self._sorter.feed(raw.decode("utf-8", errors="replace"))
