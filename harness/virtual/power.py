"""The virtual DUT's power draw, and a hub that fans the DUT's signal wires out to several listeners.

`PowerModel` is a `DutSignals` listener: the DUT says which activity it is in ('idle', 'uart',
'infer', 'stream') and when its timestamp GPIO falls; the model turns that into a power curve
that a virtual energy monitor integrates. The curve is

    p(t) = mW[state(t)] * (1 + noise[slot(t)])    while the supply is on, else 0

where `noise` is a deterministic pseudo-random value in [-noise, +noise] per `noise_slot_us`
slot of absolute simulated time (splitmix64 of seed and slot number): the same seed gives the same
energy samples on any machine, while the trace still looks measured rather than flat.

Energy is exact for any interval: the curve is piecewise constant between state changes, supply
changes and noise-slot boundaries, so integrating it is a sum over those pieces (done with numpy,
so millions of 1 ms samples cost milliseconds).

`SignalHub` forwards every DutSignals call to several listeners (power model, interface board for
the SWW pins, an Arduino IO manager printing lap lines), because a DUT takes one `signals` object.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping

import numpy as np

from harness.virtual.engine import DutSignals

DEFAULT_MW: dict[str, float] = {"idle": 6.0, "uart": 8.0, "infer": 24.0, "stream": 15.0}
STATES = ("idle", "uart", "infer", "stream")

_MASK64 = (1 << 64) - 1


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (numpy wraps uint64 arithmetic on arrays silently)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class PowerModel:
    """Power of the DUT over simulated time, built from its activity and supply changes.

    mw: power per activity state in mW (default idle 6, uart 8, infer 24, stream 15).
    noise: relative amplitude of the deterministic noise (0.01 = ±1 %); 0 for a flat curve.
    seed: selects the noise sequence.
    noise_slot_us: length of one noise slot (the noise is constant within a slot).
    initial_state: the state before the first `activity` call.
    supply_on: whether the DUT is powered before the first `supply` call (an energy monitor that
    controls the supply, like the LPM01A, switches it with `supply`).
    """

    def __init__(self, *, mw: Mapping[str, float] | None = None, noise: float = 0.01, seed: int = 0,
                 noise_slot_us: int = 1000, initial_state: str = "idle", supply_on: bool = True) -> None:
        self.mw: dict[str, float] = dict(DEFAULT_MW)
        if mw:
            self.mw.update({k: float(v) for k, v in mw.items()})
        for state, value in self.mw.items():
            if not value >= 0:
                raise ValueError(f"power model: power of state {state!r} must be >= 0 mW, got {value!r}")
        if not 0 <= noise < 1:
            raise ValueError(f"power model: noise must be in [0, 1), got {noise!r}")
        if noise_slot_us <= 0:
            raise ValueError(f"power model: noise_slot_us must be > 0, got {noise_slot_us!r}")
        self._check_state(initial_state)
        self.noise = float(noise)
        self.seed = int(seed) & _MASK64
        self.noise_slot_us = int(noise_slot_us)
        self._lock = threading.Lock()
        # Change lists: sorted times with the value that holds from that time on.
        self._state_t: list[int] = []
        self._state_v: list[str] = []
        self._initial_state = initial_state
        self._supply_t: list[int] = []
        self._supply_v: list[bool] = []
        self._initial_supply = bool(supply_on)
        self._edges: list[int] = []
        self._wakewords: list[int] = []
        self._processing: list[tuple[int, bool]] = []
        # Time up to which some consumer has already integrated; a signal older than that changed
        # the past after it was measured (a carrier thread advanced the clock before the DUT
        # reported the wire change). Kept as diagnostics, see `late_signals`.
        self._consumed_us: int | None = None
        self.late_signals: list[str] = []

    # ------------------------------------------------------------------ DutSignals

    def activity(self, t_us: int, state: str) -> None:
        self._check_state(state)
        with self._lock:
            self._note_late(t_us, f"activity {state!r}")
            self._set(self._state_t, self._state_v, int(t_us), state)

    def timestamp_edge(self, t_us: int) -> None:
        with self._lock:
            self._note_late(t_us, "timestamp edge")
            bisect.insort(self._edges, int(t_us))

    def wakeword(self, t_us: int) -> None:
        with self._lock:
            bisect.insort(self._wakewords, int(t_us))

    def processing(self, t_us: int, high: bool) -> None:
        with self._lock:
            self._processing.append((int(t_us), bool(high)))

    # ------------------------------------------------------------------ supply

    def supply(self, t_us: int, on: bool) -> None:
        """The DUT's supply is switched on or off at t_us (an energy monitor's `pwr on/off`)."""
        with self._lock:
            self._note_late(t_us, f"supply {'on' if on else 'off'}")
            self._set(self._supply_t, self._supply_v, int(t_us), bool(on))

    def supplied(self, t_us: int) -> bool:
        with self._lock:
            i = bisect.bisect_right(self._supply_t, int(t_us)) - 1
            return self._supply_v[i] if i >= 0 else self._initial_supply

    def state_at(self, t_us: int) -> str:
        with self._lock:
            i = bisect.bisect_right(self._state_t, int(t_us)) - 1
            return self._state_v[i] if i >= 0 else self._initial_state

    # ------------------------------------------------------------------ queries

    def edges(self, t0_us: int, t1_us: int) -> list[int]:
        """Timestamp edges at t0 <= t < t1, in time order."""
        with self._lock:
            lo = bisect.bisect_left(self._edges, int(t0_us))
            hi = bisect.bisect_left(self._edges, int(t1_us))
            return self._edges[lo:hi]

    def count_edges(self, t0_us: int, t1_us: int) -> int:
        with self._lock:
            return bisect.bisect_left(self._edges, int(t1_us)) - bisect.bisect_left(self._edges, int(t0_us))

    def wakewords(self, t0_us: int, t1_us: int) -> list[int]:
        with self._lock:
            lo = bisect.bisect_left(self._wakewords, int(t0_us))
            hi = bisect.bisect_left(self._wakewords, int(t1_us))
            return self._wakewords[lo:hi]

    def energy_j(self, t0_us: int, t1_us: int) -> float:
        """Energy in J drawn over [t0, t1) µs (0 for an empty or reversed interval)."""
        if t1_us <= t0_us:
            return 0.0
        return float(self.energy_series_j(int(t0_us), int(t1_us) - int(t0_us), 1)[0])

    def energy_series_j(self, start_us: int, period_us: int, count: int) -> np.ndarray:
        """Energy in J of `count` consecutive intervals [start + k*period, start + (k+1)*period)."""
        if period_us <= 0:
            raise ValueError(f"power model: period must be > 0 µs, got {period_us}")
        if count <= 0:
            return np.zeros(0)
        bounds = int(start_us) + int(period_us) * np.arange(count + 1, dtype=np.int64)
        cumulative = self._cumulative_nj(bounds)
        return np.diff(cumulative) * 1e-9

    def mark_consumed(self, t_us: int) -> None:
        """A consumer (virtual energy monitor) has integrated up to t_us: later signals before it are late."""
        with self._lock:
            if self._consumed_us is None or t_us > self._consumed_us:
                self._consumed_us = int(t_us)

    # ------------------------------------------------------------------ internals

    def _check_state(self, state: str) -> None:
        if state not in self.mw:
            raise ValueError(f"power model: unknown activity state {state!r}; known: {sorted(self.mw)}")

    def _note_late(self, t_us: int, what: str) -> None:
        if self._consumed_us is not None and t_us < self._consumed_us:
            self.late_signals.append(f"{what} at {t_us} µs arrived after the monitor had measured up to "
                                     f"{self._consumed_us} µs")

    @staticmethod
    def _set(times: list[int], values: list, t_us: int, value) -> None:
        i = bisect.bisect_left(times, t_us)
        if i < len(times) and times[i] == t_us:
            values[i] = value  # two changes at the same µs: the later call wins
        else:
            times.insert(i, t_us)
            values.insert(i, value)

    def _base_breakpoints(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Piecewise-constant base power (mW, before noise) on [lo, hi): breakpoint times and the
        power from each breakpoint on. The first breakpoint is lo."""
        with self._lock:
            changes = sorted(
                [(t, "s", v) for t, v in zip(self._state_t, self._state_v) if lo < t < hi]
                + [(t, "p", v) for t, v in zip(self._supply_t, self._supply_v) if lo < t < hi])
            i = bisect.bisect_right(self._state_t, lo) - 1
            state = self._state_v[i] if i >= 0 else self._initial_state
            j = bisect.bisect_right(self._supply_t, lo) - 1
            on = self._supply_v[j] if j >= 0 else self._initial_supply
        times = [lo]
        powers = [self.mw[state] if on else 0.0]
        for t, kind, value in changes:
            if kind == "s":
                state = value
            else:
                on = value
            p = self.mw[state] if on else 0.0
            if t == times[-1]:
                powers[-1] = p
            else:
                times.append(t)
                powers.append(p)
        return np.asarray(times, dtype=np.int64), np.asarray(powers, dtype=np.float64)

    def _noise_factor(self, slots: np.ndarray) -> np.ndarray:
        if self.noise == 0:
            return np.ones(len(slots))
        keys = slots.astype(np.int64).view(np.uint64) ^ np.uint64(self.seed)
        u = (_splitmix64(keys) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        return 1.0 + self.noise * (2.0 * u - 1.0)

    def _cumulative_nj(self, query: np.ndarray) -> np.ndarray:
        """Energy in nJ (mW·µs) from query[0] to each of the sorted query times."""
        lo, hi = int(query[0]), int(query[-1])
        if hi <= lo:
            return np.zeros(len(query))
        slot = self.noise_slot_us
        first_slot = -(-lo // slot)  # noise-slot boundaries strictly inside (lo, hi)
        noise_bounds = np.arange(first_slot, (hi - 1) // slot + 1, dtype=np.int64) * slot
        noise_bounds = noise_bounds[(noise_bounds > lo) & (noise_bounds < hi)]
        base_t, base_p = self._base_breakpoints(lo, hi)
        points = np.unique(np.concatenate([query.astype(np.int64), noise_bounds, base_t]))
        starts = points[:-1]
        widths = np.diff(points).astype(np.float64)
        # Each piece [points[i], points[i+1]) has one base power and one noise slot.
        power = base_p[np.searchsorted(base_t, starts, side="right") - 1]
        noise = self._noise_factor(np.floor_divide(starts, slot))
        cumulative = np.concatenate([[0.0], np.cumsum(power * noise * widths)])
        return cumulative[np.searchsorted(points, query)]


class SignalHub:
    """One `DutSignals` object that forwards every call to several listeners, in the order added.

    A listener may implement only some of the methods (an interface board cares about wakeword and
    processing only); missing ones are skipped.
    """

    def __init__(self, *listeners: DutSignals) -> None:
        self._listeners: list[object] = list(listeners)

    def add(self, listener: object) -> None:
        self._listeners.append(listener)

    @property
    def listeners(self) -> tuple[object, ...]:
        return tuple(self._listeners)

    def _fan(self, method: str, *args) -> None:
        for listener in self._listeners:
            fn = getattr(listener, method, None)
            if fn is not None:
                fn(*args)

    def activity(self, t_us: int, state: str) -> None:
        self._fan("activity", t_us, state)

    def timestamp_edge(self, t_us: int) -> None:
        self._fan("timestamp_edge", t_us)

    def wakeword(self, t_us: int) -> None:
        self._fan("wakeword", t_us)

    def processing(self, t_us: int, high: bool) -> None:
        self._fan("processing", t_us, high)

