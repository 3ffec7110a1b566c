"""Recomputing energy from the raw measurements of both runners (pure functions).

EEMBC EnergyRunner (protocol.md 6.2): one trace per run, µJ per sample, and 2·5+1 edge times.
Window k (k = 2, 4, .., 10) spans ts[k-1]..ts[k]; i = round(t·rate); E = Σ samples[i0:i1] µJ;
P = E / ((i1-i0)/rate) µW; E/inf = E/N. The runner places an edge one sample later than the
3-decimal JSON time about half of the time, so a recomputation from the files reproduces the
printed numbers only after trying a +1 shift of either edge (`eembc_window_matching_claim`).

MLCommons runner (protocol.md 4.3, 6.4): per trial, samples in J per 1 ms and (counter, index)
events; the window is between the last two events; `mlc_trial` repeats the runner's arithmetic
operation by operation, so its figures read exactly as the printed ones.

Nothing here raises on odd data: NaN samples, timestamps out of order or past the end of the
trace and non-consecutive event counters are returned as counts and problem strings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from submission_tools.logs.energy_trace import EnergyTrace
from submission_tools.runmodel import ClaimedEnergyWindow, EnergyTrial, Window
from submission_tools.scoring.throughput import median_like_runner  # noqa: F401  (one median for every score)

MLC_RATE_HZ = 1000  # `energy_sampling_freq = 1000` is hard-coded in the MLCommons runner
EEMBC_WINDOWS = 5
EEMBC_SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 0), (0, 1), (1, 1))
# Summing a window in pieces bounds the temporary memory (NaN mask) for arbitrarily long windows.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class EnergyWindow:
    number: int  # EEMBC window 2,4,..; MLC trial 0..
    start_s: float  # EEMBC: ts[k-1]; MLC: start index / 1000 (time within the trial's samples)
    duration_s: float  # EEMBC: ts[k]-ts[k-1] (the runner's label); MLC: elapsed as the runner prints it
    energy_uj: float
    power_mw: float
    energy_per_inf_uj: float
    iterations: int
    start_index: int
    stop_index: int
    edge_shift: tuple[int, int] | None  # EEMBC: shift that reproduces the claim, None if none does
    nan_samples: int

    @property
    def power_uw(self) -> float:
        return self.power_mw * 1e3


# ---------------------------------------------------------------------------------------------
# EEMBC


def _sum_window(samples: np.ndarray, i0: int, i1: int) -> tuple[float, int]:
    """(Σ samples[i0:i1] in float64, number of NaN samples in that span).

    float64 matters: the samples are float32 (24-bit mantissa, ~7 significant digits) while the
    runner prints energies like `1522024.150 uJ` (10 significant digits) from double arithmetic.
    A float32 result is spaced 0.125 µJ apart at 1.5e6 µJ, so it cannot even hold the printed
    decimals: summed in float32, only 9 of the 170 v1.1 windows read as printed (worst 0.18 µJ
    off), against 170 of 170 in float64. `dtype=float64` makes numpy convert in small buffers
    rather than copy the window.
    NaN propagates through the sum (as in the runners); the count makes it visible.
    """
    n = len(samples)
    i0, i1 = max(i0, 0), min(i1, n)
    total, nans = 0.0, 0
    for lo in range(i0, i1, _CHUNK):
        piece = samples[lo:min(lo + _CHUNK, i1)]
        total += float(np.sum(piece, dtype=np.float64))
        nans += int(np.count_nonzero(np.isnan(piece)))
    return total, nans


def _index(t: float, rate_hz: float) -> int:
    return round(t * rate_hz)


def eembc_window(trace: EnergyTrace, t_start: float, t_stop: float, iterations: int, number: int = 0,
                 shift: tuple[int, int] = (0, 0), edge_shift: tuple[int, int] | None = None) -> EnergyWindow:
    """One EEMBC window with both edges on the round(t·rate) grid, moved by `shift` samples."""
    i0 = _index(t_start, trace.rate_hz) + shift[0]
    i1 = _index(t_stop, trace.rate_hz) + shift[1]
    energy, nans = _sum_window(trace.samples_uj, i0, i1)
    span_s = (i1 - i0) / trace.rate_hz
    power_uw = energy / span_s if span_s > 0 else math.nan
    return EnergyWindow(
        number=number, start_s=t_start, duration_s=t_stop - t_start, energy_uj=energy,
        power_mw=power_uw / 1e3, energy_per_inf_uj=energy / iterations if iterations > 0 else math.nan,
        iterations=iterations, start_index=i0, stop_index=i1, edge_shift=edge_shift, nan_samples=nans)


def _reproduces(window: EnergyWindow, claim: ClaimedEnergyWindow) -> bool:
    if claim.energy_uj is None and claim.power is None:
        return False
    if claim.energy_uj is not None and not claim.energy_uj.agrees(window.energy_uj):
        return False
    if claim.power is not None:
        power = window.power_mw if claim.power_unit == "mW" else window.power_uw
        if not claim.power.agrees(power):
            return False
    return True


def eembc_window_matching_claim(trace: EnergyTrace, t_start: float, t_stop: float, iterations: int,
                                claim: ClaimedEnergyWindow) -> EnergyWindow:
    """The window whose E and P read as the claim's printed numbers, trying edge shifts in the
    order (0,0), (+1,0), (0,+1), (+1,+1); the unshifted window with edge_shift None if none does."""
    for shift in EEMBC_SHIFTS:
        window = eembc_window(trace, t_start, t_stop, iterations, claim.number, shift, edge_shift=shift)
        if _reproduces(window, claim):
            return window
    return eembc_window(trace, t_start, t_stop, iterations, claim.number)


def eembc_windows(trace: EnergyTrace, timestamps_s: list[float], iterations,
                  claims: dict[int, ClaimedEnergyWindow] | None = None) -> list[EnergyWindow]:
    """Every window (ts[k-1], ts[k]) for even k < len(ts), numbered k as the runner does.

    `iterations`: one N per window (the log's `io dut infer N W`), or a single int for all; a
    window without one gets iterations 0 and a NaN energy per inference. With `claims`
    (results.txt energy windows by number) each claimed window is matched with the edge-shift
    search; without, windows are on the plain round() grid and edge_shift is None.
    A missing edge (10 timestamps) is not corrected: the windows then pair the wrong edges,
    which check_timestamps and eembc_alignment report.
    """
    windows = []
    for position, k in enumerate(range(2, len(timestamps_s), 2)):
        if isinstance(iterations, int):
            n = iterations
        else:
            n = iterations[position] if position < len(iterations) else 0
        claim = (claims or {}).get(k)
        t0, t1 = timestamps_s[k - 1], timestamps_s[k]
        if claim is not None:
            windows.append(eembc_window_matching_claim(trace, t0, t1, n, claim))
        else:
            windows.append(eembc_window(trace, t0, t1, n, k))
    return windows


def eembc_tolerance(window: EnergyWindow) -> float:
    """Relative tolerance for the round()-rule energy of `window` against the claimed energy.

    The runner may place each edge one sample later (protocol.md 6.2), so the recomputed energy
    can differ by one edge sample at each end: about 2/n of E for a window of n samples when the
    edge samples are near the window's mean. Edge samples fall where the DUT switches between
    idle/download and inference and may exceed the mean, so the allowance is doubled to 4/n. On
    the 170 v1.1 windows the worst error is 1.04·E/n (ST NUCLEO_H7A3ZI_Q ad, 9.0e-4 relative on
    1089 samples), a quarter of the allowance. 1e-9 covers the claim's print rounding.
    """
    n = window.stop_index - window.start_index
    if n <= 0:
        return math.inf
    return 4.0 / n + 1e-9


def check_timestamps(timestamps_s: list[float], windows_expected: int = EEMBC_WINDOWS,
                     trace: EnergyTrace | None = None) -> list[str]:
    """What is wrong with an EEMBC timestamp list, as sentences (empty: nothing).

    A valid run has 2·windows+1 edges (the `io dut timestamp` edge, then start and end of each
    inference window), increasing, non-negative and within the trace when it is given.
    """
    problems = []
    expected = 2 * windows_expected + 1
    if len(timestamps_s) != expected:
        missing = "a missing edge: every window after it pairs the wrong edges" \
            if len(timestamps_s) < expected else "an extra edge: windows after it pair the wrong edges"
        problems.append(f"{len(timestamps_s)} timestamps instead of 2*{windows_expected}+1 = {expected} "
                        f"({missing})")
    negative = [t for t in timestamps_s if t < 0]
    if negative:
        problems.append(f"{len(negative)} negative timestamp(s), first {negative[0]}")
    for position in range(1, len(timestamps_s)):
        if timestamps_s[position] <= timestamps_s[position - 1]:
            problems.append(f"timestamps out of order: item {position} ({timestamps_s[position]}) does not "
                            f"come after item {position - 1} ({timestamps_s[position - 1]})")
    if trace is not None and timestamps_s:
        end = trace.duration_s
        beyond = [t for t in timestamps_s if t > end]
        if beyond:
            problems.append(f"{len(beyond)} timestamp(s) after the end of the trace at {end:.3f} s, "
                            f"first {beyond[0]}")
    return problems


@dataclass(frozen=True)
class Alignment:
    number: int  # EEMBC window number 2,4,..
    trace_duration_s: float | None  # ts[k]-ts[k-1]
    log_duration_s: float | None  # m-infer-done - m-infer-start in log.txt
    ok: bool


# The DUT's m-infer-start/-done lines reach log.txt through the IO manager's 9600-baud relay and
# carry the host's ms timestamps, so the log duration exceeds the trace duration (edges seen by
# the energy monitor) by a roughly constant relay latency: on all 170 windows of the 34 v1.1
# EEMBC energy runs, log minus trace lies between +0.014 and +0.026 s. A missing edge pairs an
# inference end with the next download's start (or a download gap with an inference): seconds
# off, not tens of ms. 0.05 s is the worst clean difference (26 ms) with about 2x margin, and
# still far below any wrong pairing.
ALIGNMENT_TOLERANCE_S = 0.05


def eembc_alignment(windows: list[EnergyWindow], log_windows: list[Window],
                    tolerance_s: float = ALIGNMENT_TOLERANCE_S) -> list[Alignment]:
    """Window by window, the trace duration against the DUT's own infer duration in log.txt.

    The j-th trace window is paired with the j-th `io dut infer` window of the log; a window
    present on one side only, or a log window without both m-infer lines, is not ok.
    """
    rows = []
    for position in range(max(len(windows), len(log_windows))):
        window = windows[position] if position < len(windows) else None
        log = log_windows[position] if position < len(log_windows) else None
        trace_s = window.duration_s if window is not None else None
        log_s = None
        if log is not None and log.infer_start_s is not None and log.infer_done_s is not None:
            log_s = log.infer_done_s - log.infer_start_s
        ok = trace_s is not None and log_s is not None and abs(trace_s - log_s) <= tolerance_s
        number = window.number if window is not None else 2 * (position + 1)
        rows.append(Alignment(number, trace_s, log_s, ok))
    return rows


# ---------------------------------------------------------------------------------------------
# MLCommons runner


def check_mlc_events(trial: EnergyTrial) -> list[str]:
    """The runner's own checks on a trial's events: counters consecutive (else it raises
    RuntimeError) and at least two events (else its `ts[-2]` fails)."""
    problems = []
    if len(trial.events) < 2:
        problems.append(f"{len(trial.events)} event(s); the runner needs at least two (the window is "
                        f"between the last two)")
    try:
        counters = [int(c) for c, _ in trial.events]
    except ValueError:
        problems.append(f"event counters {[c for c, _ in trial.events]} are not all numbers")
        return problems
    steps = [b - a for a, b in pairwise(counters)]
    if any(step != 1 for step in steps):
        problems.append(f"event counters {[c for c, _ in trial.events]} are not consecutive; the runner "
                        f"raises RuntimeError on this")
    indices = [i for _, i in trial.events]
    if any(b < a for a, b in pairwise(indices)):
        problems.append(f"event sample indices {indices} go backwards")
    if indices and (max(indices) > len(trial.samples_j) or min(indices) < 0):
        problems.append(f"event sample indices {indices} fall outside the {len(trial.samples_j)} samples")
    return problems


def mlc_trial(trial: EnergyTrial, number: int) -> EnergyWindow:
    """One MLCommons-runner trial computed exactly as the runner's `main.py:print_energy_results`.

    That code (mlcommons/tiny benchmark/runner/main.py) does, with fs = 1000:

        ts_seconds = np.array(indices) / fs
        elapsed = ts_seconds[-1] - ts_seconds[-2]             # not (i1 - i0) / fs: see below
        E = np.sum(np.array(samples[i0:i1]))                  # J, float64
        Power = 1e3 * E / elapsed  (mW);  Total Energy = E * 1e6;  Energy/Inf = (E / N) * 1e6

    The difference of the divided indices is what it prints ("Elapsed time : 10.578000000000001"
    for indices 8374..18952, where (18952-8374)/1000 gives 10.578), so it is repeated here to
    reproduce the printed full-precision text. The sum behaves like Python's sum() for NaN: one
    NaN sample makes the trial's energy NaN (the runner prints `nan`); `nan_samples` counts them.
    Fewer than two events (the runner fails on `ts[-2]`): every figure NaN.
    """
    if len(trial.events) < 2:
        return EnergyWindow(number, math.nan, math.nan, math.nan, math.nan, math.nan, trial.iterations,
                            0, 0, None, 0)
    i0, i1 = trial.events[-2][1], trial.events[-1][1]
    span = np.asarray(trial.samples_j[i0:i1], dtype=np.float64)
    energy_j = float(np.sum(span))
    nans = int(np.count_nonzero(np.isnan(span)))
    seconds = np.array([i0, i1]) / MLC_RATE_HZ
    elapsed = float(seconds[1] - seconds[0])
    power_mw = 1e3 * energy_j / elapsed if elapsed > 0 else math.nan
    per_inf = energy_j / trial.iterations * 1e6 if trial.iterations else math.nan
    return EnergyWindow(number=number, start_s=float(seconds[0]), duration_s=elapsed,
                        energy_uj=energy_j * 1e6, power_mw=power_mw, energy_per_inf_uj=per_inf,
                        iterations=trial.iterations, start_index=i0, stop_index=i1, edge_shift=None,
                        nan_samples=nans)
