"""Progress of a run: a rich bar with ETA and bytes/s on a terminal, plain lines elsewhere (CI logs
keep every line readable, and a line every few seconds is enough there)."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def interactive(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


class Progress:
    def __init__(self, stream: TextIO | None = None, *, plain_every_s: float = 5.0) -> None:
        self.stream = stream or sys.stderr
        self.plain_every_s = plain_every_s
        self._bar = None
        self._task = None
        self._label = ""
        self._total = 0
        self._done = 0
        self._bytes = 0
        self._started = time.monotonic()
        self._last_plain = 0.0

    def start(self, label: str, total: int) -> None:
        self.stop()
        self._label, self._total, self._done, self._bytes = label, total, 0, 0
        self._started = time.monotonic()
        if interactive(self.stream):
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                     console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(label, total=total, rate="")
        else:
            self.say(f"{label}: {total} steps")

    def advance(self, steps: int = 1, payload_bytes: int = 0) -> None:
        self._done += steps
        self._bytes += payload_bytes
        rate = self.rate_text()
        if self._bar is not None:
            self._bar.update(self._task, advance=steps, rate=rate)
            return
        now = time.monotonic()
        if now - self._last_plain >= self.plain_every_s or self._done >= self._total:
            self._last_plain = now
            self.say(f"{self._label}: {self._done}/{self._total} {rate}".rstrip())

    def rate_text(self) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return f"{self._bytes / elapsed / 1000:.2f} kB/s" if self._bytes else ""

    def say(self, text: str) -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
