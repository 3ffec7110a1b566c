"""A virtual device behind a pseudo-terminal: host code opens `PtyDevice.port` with pyserial
exactly as it would open a USB serial adapter, and talks to the engine on the other side.

One daemon thread carries the bytes. It advances the SimClock by the UART time of every byte in
either direction (whether or not it paces; unless `advance_clock=False`, for a link that runs
alongside the DUT's), so simulated timestamps do not depend on the machine.
With `pace=True` bytes also take their real time on the wire (10 bit times each, both ways),
scheduled by a deadline accumulator rather than a sleep per byte, so the long-run rate is the
configured baud however coarse the thread's wake-ups are. A `FaultPlan` can drop or corrupt bytes,
reset the device or make it stop answering.
"""

from __future__ import annotations

import collections
import math
import os
import select
import threading
import time
import tty

from harness.virtual.clock import SimClock, uart_time_us
from harness.virtual.engine import DeviceEngine
from harness.virtual.faults import TERMINATOR, CommandAction, FaultPlan

POLL_S = 0.01  # engines that stream on their own are polled at least this often
_EPSILON = 1e-3  # of a byte time: a wake-up exactly on time must not find a byte 'not yet due' by rounding
MIN_WAIT_S = 0.0001  # shortest sleep; the waits are per line and per command, so this never spins


class PtyDevice:
    """`engine` on the slave side of a fresh pty; boots the engine when created."""

    def __init__(self, engine: DeviceEngine, *, clock: SimClock, baud: int, pace: bool = True,
                 faults: FaultPlan | None = None, advance_clock: bool = True) -> None:
        self.engine = engine
        self.clock = clock
        self.baud = baud
        self.pace = pace
        # An instrument's link (the energy monitor's stream) runs alongside the DUT's, not before or
        # after it: its bytes must not add their time to the bench's one clock.
        self.advance_clock = advance_clock
        self.error: BaseException | None = None  # what stopped the thread, re-raised by close()
        self._faults = faults.injector() if faults is not None else None
        self._byte_s = 10.0 / baud
        self._lock = threading.Lock()
        self._owed_us = 0.0  # UART time not yet given to the clock (it takes whole µs)
        self._to_host = bytearray()
        self._to_device: collections.deque[int] = collections.deque()
        self._tx_free = 0.0  # monotonic time at which the device's TX line is free
        self._rx_free = 0.0  # same for the host's bytes on their way to the device
        self._stall_until: float | None = None
        self._drained = threading.Event()  # set while every emitted byte has reached the pty
        self._drained.set()
        self._stop = threading.Event()
        self._closed = False
        self._fds: list[int] = []
        try:
            self._master, self._slave = os.openpty()
            self._fds += [self._master, self._slave]
            tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as they are
            os.set_blocking(self._master, False)
            self._wake_r, self._wake_w = os.pipe()
            self._fds += [self._wake_r, self._wake_w]
            os.set_blocking(self._wake_w, False)
            self.port = os.ttyname(self._slave)
            engine.attach(self._emit)
            engine.boot()
        except BaseException:
            self._close_fds()
            raise
        self._thread = threading.Thread(target=self._run, name=f"PtyDevice {self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> PtyDevice:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stalled(self) -> bool:
        return self._stall_until is not None

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake()
        self._thread.join()
        self._close_fds()
        if self.error is not None:
            raise RuntimeError(f"the pty thread of {self.port} failed") from self.error

    def drain(self, timeout: float | None = 5.0) -> bool:
        """Wait until every byte the engine emitted so far is in the pty (e.g. the boot banner,
        before a host opens the port: pyserial flushes its input on open). False on timeout."""
        return self._drained.wait(timeout)

    def fault_counts(self) -> dict[str, int]:
        return self._faults.counts() if self._faults else {}

    # --- device side --------------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        """The engine's TX line (any thread): the bytes take their UART time on the clock now."""
        with self._lock:
            if self._stall_until is not None or self._closed:
                return  # a stalled device says nothing
            self._advance_uart(len(data))
            if self._faults is not None:
                data = self._faults.to_host(data)
            if not self._to_host:
                self._tx_free = max(self._tx_free, time.monotonic())
            if data:
                self._drained.clear()
            self._to_host += data
        self._wake()

    def _advance_uart(self, count: int) -> None:
        if not self.advance_clock:
            return
        self._owed_us += uart_time_us(count, self.baud)
        whole = int(self._owed_us)
        if whole:
            self.clock.advance_us(whole)
            self._owed_us -= whole

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass  # already signalled, or closing

    # --- the carrier thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wait()
                if self._stop.is_set():
                    break
                self._read_host()
                self._end_stall()
                self._deliver()
                self._send()
                if self._stall_until is None:
                    self.engine.poll()
        except BaseException as error:  # noqa: BLE001 - kept for close() to re-raise
            self.error = error

    def _wait(self) -> None:
        now = time.monotonic()
        due = now + POLL_S
        with self._lock:
            sending = bool(self._to_host)
            send_at = self._tx_free + self._byte_s if self.pace else now
        # Output that is due waits for the master to be writable (the host may not be reading):
        # it does not shorten the timeout, or the loop would spin.
        if sending and self.pace:
            # Wake when the next line is complete on the wire: a host reads lines, so writing each
            # line once its last byte is due is exact for it and costs one wake-up per line, not
            # one per byte (those wake-ups, at 87 us per byte at 115200 baud, were most of the
            # turnaround the download benchmark measured).
            with self._lock:
                end = self._to_host.find(b"\n")
                pending = (end + 1) if end >= 0 else len(self._to_host)
            send_at = self._tx_free + pending * self._byte_s
        writers = [self._master] if sending and send_at <= now else []
        if sending and not writers:
            due = min(due, send_at)
        if self._to_device:
            # likewise, the engine acts on a command's `%`: deliver up to it in one go
            end = _find(self._to_device, TERMINATOR)
            pending = (end + 1) if end >= 0 else len(self._to_device)
            due = min(due, self._rx_free + pending * self._byte_s if self.pace else now)
        if self._stall_until is not None:
            due = min(due, self._stall_until)
        timeout = max(0.0, due - now)
        if 0 < timeout < MIN_WAIT_S:
            timeout = MIN_WAIT_S
        readable, _, _ = select.select([self._master, self._wake_r], writers, [], timeout)
        if self._wake_r in readable:
            try:
                os.read(self._wake_r, 4096)
            except BlockingIOError:
                pass

    def _read_host(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # EIO: no slave open (cannot happen while we hold one), treat as silence
            return
        if not data or self._stall_until is not None:
            return  # a stalled device loses what it is sent
        if not self._to_device:
            self._rx_free = max(self._rx_free, time.monotonic())
        self._to_device.extend(data)

    def _deliver(self) -> None:
        """Hand the host's bytes to the engine, each once its 10 bit times have passed."""
        now = time.monotonic()
        if self._faults is None and self._stall_until is None and self._to_device:
            # No faults to apply byte by byte: hand over every due byte in one call (one engine
            # call per byte cost ~5 us each, a tenth of the turnaround of a 38-byte chunk).
            due = len(self._to_device)
            if self.pace:
                due = min(due, int((now - self._rx_free) / self._byte_s + _EPSILON))
                self._rx_free += due * self._byte_s
            if due > 0:
                data = bytes(self._to_device.popleft() for _ in range(due))
                with self._lock:
                    self._advance_uart(due)
                self.engine.receive(data)
            return
        while self._to_device and self._stall_until is None:
            if self.pace:
                if self._rx_free + self._byte_s > now:
                    return
                self._rx_free += self._byte_s
            byte = bytes([self._to_device.popleft()])
            with self._lock:
                self._advance_uart(1)
            if self._faults is not None:
                byte = self._faults.to_device(byte)
                if byte and byte[0] == TERMINATOR:
                    action = self._faults.command_arrived()
                    if action is CommandAction.RESET:
                        self.engine.reset()  # the command is lost with the rest of the state
                        continue
                    if action is CommandAction.STALL:
                        self._begin_stall()  # the device runs the command, its answer is lost
            if byte:
                self.engine.receive(byte)

    def _send(self) -> None:
        """Write the engine's bytes to the host, at the baud rate when pacing."""
        with self._lock:
            if not self._to_host:
                return
            count = len(self._to_host)
            if self.pace:
                due = min(count, int((time.monotonic() - self._tx_free) / self._byte_s + _EPSILON))
                line_end = self._to_host.rfind(b"\n", 0, due)
                count = due if due == count or line_end < 0 else line_end + 1
            if count <= 0:
                return
            try:
                written = os.write(self._master, bytes(self._to_host[:count]))
            except (BlockingIOError, InterruptedError):
                return  # the host is not reading: keep the bytes
            del self._to_host[:written]
            self._tx_free += written * self._byte_s
            if not self._to_host:
                self._drained.set()

    def _begin_stall(self) -> None:
        seconds = self._faults.plan.stall_s if self._faults else None
        with self._lock:
            self._stall_until = math.inf if seconds is None else time.monotonic() + seconds
        self._to_device.clear()

    def _end_stall(self) -> None:
        if self._stall_until is None or time.monotonic() < self._stall_until:
            return
        seconds = self._faults.plan.stall_s if self._faults else 0.0
        with self._lock:
            self._stall_until = None
            self.clock.advance_us((seconds or 0.0) * 1e6)  # the device was hung that long

    def _close_fds(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = []


def _find(queue: collections.deque, value: int) -> int:
    """Index of the first `value` in a deque of ints, or -1."""
    for index, item in enumerate(queue):
        if item == value:
            return index
    return -1
