"""What every energy monitor is to the harness's energy mode, and what one capture of it holds.

The energy mode drives a monitor the way the MLCommons runner does (protocol.md 4): `setup`,
`power_on`, `start` once; after each trial's `infer` (or SWW `stop`) it calls `collect`, which
drains everything that arrived since the previous collect, as the runner drains its data queue
(protocol.md 4.3 step 1): samples in J per 1 ms, and events as (counter, index of the sample they
precede, relative to this capture). Then `stop`, `power_off`, `close`.

A trial's figures are computed from a `Capture` by `submission_tools.scoring.energy.mlc_trial`,
the same code that recomputes published results: `Capture.score` only adapts the types.

`CaptureBuffer` is the thread-safe accumulator a monitor's reader thread fills and `collect`
drains; every wait in it has a timeout and a timeout says what did arrive.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from submission_tools.runmodel import EnergyTrial
from harness.errors import HarnessError
from submission_tools.scoring.energy import (
    MLC_RATE_HZ,
    EnergyWindow,
    check_mlc_events,
    mlc_trial,
)


class MonitorError(HarnessError):
    """An energy monitor failed; the message names the device and what it was doing (a HarnessError,
    so `submit run` reports it and exits 2 instead of crashing)."""


class MonitorTimeout(MonitorError, TimeoutError):
    """An energy monitor did not deliver in time; the message says what was received."""


class MonitorCommandError(MonitorError):
    """The monitor refused a command (`error` acknowledgement)."""


class MonitorUnavailable(MonitorError):
    """The monitor's driver is not installed or no device was found."""


@dataclass
class Capture:
    """What one `collect` drained: samples in J per sample and (counter, sample index) events.

    partial_values: values cut at a line edge or garbled, stored as NaN samples so later indices
    keep their place (the runner inserts NaN for the same cases; a NaN inside a window makes its
    energy NaN, so this count explains it).
    problems: anything else odd seen while this capture arrived (TimeStamp lines not 1000 samples
    apart, events placed late, lines that could not be read), as sentences.
    """

    samples: list[float]
    events: list[tuple[str, int]]
    sample_rate_hz: int = MLC_RATE_HZ
    partial_values: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def nan_samples(self) -> int:
        return sum(1 for s in self.samples if math.isnan(s))

    def to_trial(self, iterations: int) -> EnergyTrial:
        return EnergyTrial(samples_j=list(self.samples), events=list(self.events), iterations=iterations)

    def check(self) -> list[str]:
        """The runner's own objections to this capture as a trial (non-consecutive counters, fewer
        than two events, indices outside the samples), as sentences."""
        return check_mlc_events(self.to_trial(0))

    def score(self, iterations: int, number: int = 0) -> EnergyWindow:
        """The trial's energy, power and energy per inference exactly as the MLCommons runner
        computes them: the window between the last two events (protocol.md 4.3)."""
        if self.sample_rate_hz != MLC_RATE_HZ:
            raise MonitorError(f"capture at {self.sample_rate_hz} Hz: the runner's formula assumes "
                               f"{MLC_RATE_HZ} samples per second")
        return mlc_trial(self.to_trial(iterations), number)


class EnergyMonitor(ABC):
    """An energy monitor as the harness drives it (protocol.md 4)."""

    name: str = "energy monitor"

    @abstractmethod
    def setup(self, voltage_v: float) -> None:
        """Configure the monitor for 1 kHz energy samples and timestamp events at `voltage_v`."""

    @abstractmethod
    def power_on(self) -> None:
        """Power the DUT (a no-op for monitors that do not supply it)."""

    @abstractmethod
    def start(self) -> None:
        """Start the acquisition; samples and events accumulate from here on."""

    @abstractmethod
    def collect(self, expect_events: int, timeout_s: float) -> Capture:
        """Drain what arrived since the last collect, once at least `expect_events` events have
        arrived and at least one sample after the last of them; MonitorTimeout otherwise."""

    @abstractmethod
    def stop(self) -> None:
        """Stop the acquisition."""

    @abstractmethod
    def power_off(self) -> None:
        """Remove the DUT's power (a no-op for monitors that do not supply it)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CaptureBuffer:
    """Samples and events filled by a reader thread and drained by `collect`, under one lock."""

    def __init__(self, device: str, sample_rate_hz: int = MLC_RATE_HZ) -> None:
        self.device = device
        self.sample_rate_hz = sample_rate_hz
        self._cond = threading.Condition()
        self._samples: list[float] = []
        self._events: list[tuple[str, int]] = []
        self._partial = 0
        self._problems: list[str] = []
        self._failure: BaseException | None = None
        self.total_samples = 0  # since the last clear, across captures
        self.total_events = 0

    def add_samples(self, values: list[float]) -> None:
        if not values:
            return
        with self._cond:
            self._samples.extend(values)
            self.total_samples += len(values)
            self._cond.notify_all()

    def add_event(self, counter: str) -> None:
        with self._cond:
            self._events.append((counter, len(self._samples)))
            self.total_events += 1
            self._cond.notify_all()

    def add_partial(self, count: int = 1) -> None:
        with self._cond:
            self._partial += count

    def add_problem(self, message: str) -> None:
        with self._cond:
            self._problems.append(message)

    def fail(self, error: BaseException) -> None:
        """The reader stopped for good (port closed, device unplugged): collect raises from now on."""
        with self._cond:
            self._failure = error
            self._cond.notify_all()

    @property
    def failure(self) -> BaseException | None:
        with self._cond:
            return self._failure

    def clear(self) -> None:
        with self._cond:
            self._samples, self._events, self._problems = [], [], []
            self._partial = 0
            self.total_samples = self.total_events = 0

    def _ready(self, expect_events: int, tail_samples: int) -> bool:
        if len(self._events) < expect_events:
            return False
        after = self._events[-1][1] if self._events and expect_events > 0 else 0
        return len(self._samples) - after >= tail_samples

    def drain(self, expect_events: int, timeout_s: float, *, tail_samples: int = 1,
              last_line=lambda: None) -> Capture:
        """Wait (at most timeout_s) for `expect_events` events and `tail_samples` samples after the
        last one, then hand over everything pending. `last_line` gives the last line the device
        sent, for the timeout message."""
        if expect_events < 0 or tail_samples < 0:
            raise ValueError("expect_events and tail_samples must be >= 0")
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._ready(expect_events, tail_samples):
                if self._failure is not None:
                    raise MonitorError(f"{self.device}: the reader stopped ({self._failure}) while waiting for "
                                       f"{expect_events} event(s); {self._summary()}") from self._failure
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise MonitorTimeout(
                        f"{self.device}: waited {timeout_s:g} s for {expect_events} event(s) and "
                        f"{tail_samples} sample(s) after the last one; {self._summary()}; "
                        f"last line seen: {last_line()!r}")
                self._cond.wait(min(remaining, 0.25))
            capture = Capture(samples=self._samples, events=self._events, sample_rate_hz=self.sample_rate_hz,
                              partial_values=self._partial, problems=self._problems)
            self._samples, self._events, self._problems = [], [], []
            self._partial = 0
            return capture

    def _summary(self) -> str:
        shown = self._events[-6:]
        more = f" (last {len(shown)} shown)" if len(self._events) > len(shown) else ""
        return (f"received {len(self._samples)} sample(s) and {len(self._events)} event(s) {shown}{more} "
                f"since the last collect ({self.total_samples} sample(s) since start)")
