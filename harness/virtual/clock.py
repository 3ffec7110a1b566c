"""The simulated microsecond clock that every virtual device of one bench shares.

Time only moves when a device says so (bytes crossing a UART, an inference running), never with the
wall clock: the same inputs give the same `m-lap-us` values, the same energy samples and the same
scores on any machine, however loaded.
"""

from __future__ import annotations

import threading


class SimClock:
    """Thread-safe monotonic clock in microseconds (ints: no float drift over long runs)."""

    def __init__(self, start_us: int = 0) -> None:
        self._now_us = int(start_us)
        self._lock = threading.Lock()

    def now_us(self) -> int:
        with self._lock:
            return self._now_us

    def advance_us(self, us: int | float) -> int:
        """Move time forward by `us` (rounded to a whole µs, never backwards); returns the new time."""
        step = max(0, round(us))
        with self._lock:
            self._now_us += step
            return self._now_us


def uart_time_us(byte_count: int, baud: int) -> float:
    """Time `byte_count` bytes take on an 8N1 UART: 10 bit times each (start, 8 data, stop)."""
    return byte_count * 10 * 1e6 / baud
