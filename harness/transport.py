"""Serial links: a pyserial port (device path, pty or any `serial_for_url` URL such as `loop://`)
read as lines the way both runners read them (protocol.md 2.1): `\\n` ends a line, `\\r` and `\\0`
are dropped, bytes that are not UTF-8 become U+FFFD instead of ending the run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import serial

from harness.errors import HarnessError

Listener = Callable[[str, str], None]  # (direction 'tx'|'rx', text)


@dataclass
class LinkCounters:
    tx_bytes: int = 0
    rx_bytes: int = 0


class SerialLink:
    """One open serial port with a line reader. Not thread-safe: one owner drives it."""

    def __init__(self, url: str, baud: int, *, name: str, read_poll_s: float = 0.02) -> None:
        self.url, self.baud, self.name = url, baud, name
        self._read_poll_s = read_poll_s
        self.counters = LinkCounters()
        self._buffer = bytearray()
        self._listeners: list[Listener] = []
        try:
            self._port = serial.serial_for_url(url, baudrate=baud, timeout=read_poll_s, write_timeout=10)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise HarnessError(f"{name}: cannot open serial port {url!r} at {baud} baud ({exc}). Check the "
                               "cable, the port name (`submit run --list-ports`) and that no other program "
                               "holds it.") from None

    def listen(self, listener: Listener) -> None:
        """Call `listener` with every line written and read (the session log's echo)."""
        self._listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def _tell(self, direction: str, text: str) -> None:
        for listener in self._listeners:
            listener(direction, text)

    def write(self, text: str, *, echo: bool = True) -> None:
        try:
            data = text.encode("ascii", errors="strict")
        except UnicodeEncodeError:
            # the protocol is ASCII; a name from the configuration (a wav file, say) may not be
            raise HarnessError(f"{self.name}: cannot send {text!r}: the serial protocol takes ASCII only") from None
        self.write_bytes(data, echo_text=text if echo else None)

    def write_bytes(self, data: bytes, *, echo_text: str | None = None) -> None:
        """Raw bytes (a binary download chunk); listeners see `echo_text`, never the bytes."""
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise HarnessError(f"{self.name}: writing to {self.url} failed ({exc}); the cable may have been "
                               "pulled. Measurements taken so far are saved.") from None
        self.counters.tx_bytes += len(data)
        if echo_text is not None:
            self._tell("tx", echo_text)

    def read_line(self, timeout_s: float) -> str | None:
        """The next line (without its end), or None when none completes within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                raw = bytes(self._buffer[:newline])
                del self._buffer[:newline + 1]
                text = raw.replace(b"\r", b"").replace(b"\0", b"").decode("utf-8", errors="replace")
                self._tell("rx", text)
                return text
            if time.monotonic() >= deadline:
                return None
            self._fill()

    def _fill(self, wait: bool = True) -> None:
        """Bytes from the port: what it holds, or (wait) at least one within the read poll."""
        try:
            waiting = self._port.in_waiting
            chunk = self._port.read(max(1, waiting)) if wait or waiting else b""
        except (serial.SerialException, OSError) as exc:
            raise HarnessError(f"{self.name}: reading from {self.url} failed ({exc}); the cable may have been "
                               "pulled. Measurements taken so far are saved.") from None
        self.counters.rx_bytes += len(chunk)
        self._buffer += chunk

    def drain(self, quiet_s: float = 0.0) -> list[str]:
        """Lines already waiting (stale output), reading on until the port is quiet for `quiet_s`.
        Bytes the port already holds count as waiting even with `quiet_s` 0 (read_line(0) would
        return before reading the port)."""
        lines = []
        while True:
            self._fill(wait=False)
            line = self.read_line(quiet_s)
            if line is None:
                return lines
            lines.append(line)

    def pending_partial(self) -> bytes:
        """Bytes received after the last line end (a line still arriving, or noise)."""
        return bytes(self._buffer)

    def discard_partial(self) -> None:
        self._buffer.clear()

    def reopen(self, baud: int | None = None, settle_s: float = 0.0) -> None:
        """Close and open the port again (a board that resets re-enumerates its USB port)."""
        self.close()
        time.sleep(settle_s)
        listeners, counters = self._listeners, self.counters
        try:
            self.__init__(self.url, baud or self.baud, name=self.name,  # type: ignore[misc]
                          read_poll_s=self._read_poll_s)
        finally:  # kept even when the port is not back yet, for a later reopen
            self._listeners, self.counters = listeners, counters

    def close(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            pass

    def __enter__(self) -> "SerialLink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
