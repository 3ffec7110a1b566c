"""Streaming wakeword (sww01) scores, computed the way the MLCommons runner computes them.

The runner's `streaming_ww_utils.py` (protocol.md 7.4, formats.md 5.4) turns the interface
board's detection list and duty-cycle edges into the four lines of an SWW results.txt:

    Accuracy: 44 True positives, 6 False negatives, 4 False positives
    Average duty cycle: 0.36267
    Average period: 0.032069 s
    Estimated throughput: 85.981 inf./sec.

Everything here is a pure function except `load_truth_windows`, which reads one file.

Checked against the real record (tests/scoring/test_sww_scoring.py): on the 5 v1.3 SWW
performance results.json and the 8 SWW energy log.txt of the corpus, `score_detections`
reproduces the printed TP/FN/FP, the printed false-negative list (window starts) and the
printed false-positive list (seconds, 3 decimals), and `duty_cycle` reproduces the stored
`dutycycle` numbers bit for bit and the printed texts character for character.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from os import PathLike

import numpy as np

SUPPRESSION_S = 1.0  # the runner's false_pos_suppresion_delay_sec
DEBOUNCE_MS = 1000  # false positives closer than this to an earlier one are dropped
PERIOD_SPREAD_WARNING = 0.02  # the runner warns when (max-min)/mean of the periods exceeds this
TICK_S = 10e-6  # the interface board's TIM2 tick; results.json stores ticks * TICK_S


@dataclass(frozen=True)
class SwwScore:
    tp: int
    fn: int
    fp: int
    false_negative_windows: list[tuple[float, float]]  # truth windows with no detection
    false_positive_times_s: list[float]  # after debouncing, relative to the sync pulse
    tp_fn_windows_total: int


def score_detections(detections_ms: list[int], windows_s: list[tuple[float, float]],
                     suppression_s: float = SUPPRESSION_S, as_runner: bool = True) -> SwwScore:
    """True/false positives and false negatives of one streamed wav (protocol.md 7.4).

    * `detections_ms[0]` is the DUT's synchronisation pulse; every later detection `d` is
      taken as `d - detections_ms[0]` ms (integer arithmetic, so exact).
    * Each truth window `[t0, t1]`, in the order given, collects every remaining detection
      with `t0 <= d/1000 <= hi`. With `as_runner=True`, `hi = (t1 + s) + s`: the runner adds
      the suppression delay `s` twice (`t_stop += s`, then `<= t_stop + s`), so the window
      ends 2 s after the wakeword, and the two float additions are kept in that order
      (`(t1 + 1.0) + 1.0` is not always `t1 + 2.0`). With `as_runner=False`, `hi = t1 + s`,
      which is what the runner's README describes.
      A window that collected at least one detection is one TP and its detections are
      removed (a later overlapping window cannot use them); otherwise it is an FN.
    * The detections left over are false positives, debounced in time order: each surviving
      one deletes the later ones in `(cur, cur + 1000 ms]`. So 0, 900, 1800 ms give two
      FPs (0 and 1800): 900 is deleted by 0 and never gets to delete 1800.

    The interface board records detections in time order, so the detection order never
    matters in practice; here the leftovers are sorted before debouncing.
    """
    windows = [(float(t0), float(t1)) for t0, t1 in windows_s]
    if detections_ms:
        sync = int(detections_ms[0])
        remaining = [int(d) - sync for d in detections_ms[1:]]
    else:
        remaining = []
    tp = 0
    missed: list[tuple[float, float]] = []
    for t0, t1 in windows:
        hi = (t1 + suppression_s) + suppression_s if as_runner else t1 + suppression_s
        kept = [d for d in remaining if not (t0 <= d / 1000 <= hi)]
        if len(kept) < len(remaining):
            tp += 1
            remaining = kept
        else:
            missed.append((t0, t1))
    false_positives: list[int] = []
    for d in sorted(remaining):
        if false_positives and false_positives[-1] < d <= false_positives[-1] + DEBOUNCE_MS:
            continue  # within (cur, cur + 1000] of the latest surviving FP
        false_positives.append(d)
    return SwwScore(tp=tp, fn=len(missed), fp=len(false_positives),
                    false_negative_windows=missed,
                    false_positive_times_s=[d / 1000 for d in false_positives],
                    tp_fn_windows_total=len(windows))


@dataclass(frozen=True)
class DutyCycle:
    duty_cycle: float
    period_s: float
    processing_time_s: float
    throughput_ips: float
    period_spread: float  # (max-min)/mean of the periods, the runner warns above 2%


def duty_cycle(start_times_s: list[float], stop_times_s: list[float]) -> DutyCycle | None:
    """The runner's `process_dutycycle` on edge times in seconds.

    Both lists are truncated to the shorter length; `period = mean(diff(start))`,
    `on = mean(stop - start)`, `duty = on / period`, `throughput = 1 / on`, with numpy's
    float64 means as the runner uses them. results.json stores the runner's own seconds
    (`ticks * 10e-6`), so recomputing from them reproduces the stored `duty_cycle`,
    `period` and `processing_time` exactly. None when fewer than two edge pairs remain.
    A zero period or processing time gives inf/nan, as numpy would.
    """
    n = min(len(start_times_s), len(stop_times_s))
    if n < 2:
        return None
    start = np.asarray(start_times_s[:n], dtype=np.float64)
    stop = np.asarray(stop_times_s[:n], dtype=np.float64)
    periods = np.diff(start)
    with np.errstate(divide="ignore", invalid="ignore"):
        period = np.mean(periods)
        on = np.mean(stop - start)
        duty = on / period
        throughput = np.float64(1.0) / on
        spread = (np.max(periods) - np.min(periods)) / period
    return DutyCycle(duty_cycle=float(duty), period_s=float(period), processing_time_s=float(on),
                     throughput_ips=float(throughput), period_spread=float(spread))


def runner_text(value: float) -> str:
    """The text the runner prints for a duty cycle, period or throughput (`{:1.5}`).

    Like `%.5g` except that a value printed in fixed point keeps one digit after the point
    (`235.0`, where `.5g` gives `235`).
    """
    return format(value, "1.5")


def load_truth_windows(path: str | PathLike, wav_file: str | None = None) -> list[tuple[float, float]]:
    """The `[start, stop]` wakeword windows (seconds) of an `sww_*_test.json` truth file.

    The file is a JSON list of `{"wav_file", "detection_windows", "length_sec",
    "sample_rate"}` objects; the runner copies `detection_windows` unchanged into
    results.json (identical floats in all 5 v1.3 results.json). With several entries,
    `wav_file` chooses one; a file with exactly one entry needs no choice.
    """
    with open(path, "rb") as handle:
        entries = json.loads(handle.read().decode("utf-8"))
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"{path}: expected a JSON list of objects")
    if wav_file is not None:
        chosen = [e for e in entries if e.get("wav_file") == wav_file]
        if not chosen:
            raise ValueError(f"{path}: no entry for wav_file {wav_file!r}")
    else:
        chosen = entries
    if len(chosen) != 1:
        raise ValueError(f"{path}: {len(chosen)} entries; pass wav_file to choose one")
    windows = chosen[0].get("detection_windows")
    if not isinstance(windows, list):
        # a malformed file, not a caller's type error: ValueError like every other case here
        raise ValueError(f"{path}: detection_windows is missing or not a list")  # noqa: TRY004
    result = []
    for position, window in enumerate(windows):
        if (not isinstance(window, list) or len(window) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in window)):
            raise ValueError(f"{path}: detection_windows[{position}] is not a [start, stop] pair")
        result.append((float(window[0]), float(window[1])))
    return result


_INT_LIST = re.compile(r"^\s*\[\s*(-?\d+(?:\s*,\s*-?\d+)*)?\s*,?\s*\]\s*$")
_DUTY_LINE = re.compile(r"^\s*Duty cycle\s*=")
_NO_ACTIVATIONS = "No activation data found."


def parse_detections_from_log(text: str) -> list[int] | None:
    """The detection list (ms, sync pulse first) that the runner prints into an SWW log.txt.

    The stream step prints it as a bare Python list of ints right after
    `No activation data found.` (or the activation lines) and right before
    `Duty cycle = ..., Period = ... ms`. Rule: the last bare int-list line before the first
    `Duty cycle =` line; without such a line, the first bare int-list line after
    `No activation data found.`. Lines the interface relayed (`RX:...`) and the
    `False positives: [...]` summary never match. None when there is no such line.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    duty_at = next((i for i, line in enumerate(lines) if _DUTY_LINE.match(line)), None)
    if duty_at is not None:
        for line in reversed(lines[:duty_at]):
            if (found := _parse_int_list(line)) is not None:
                return found
        return None
    after = next((i for i, line in enumerate(lines) if _NO_ACTIVATIONS in line), None)
    if after is None:
        return None
    for line in lines[after + 1:]:
        if (found := _parse_int_list(line)) is not None:
            return found
    return None


def _parse_int_list(line: str) -> list[int] | None:
    match = _INT_LIST.match(line)
    if match is None:
        return None
    body = match.group(1)
    return [int(part) for part in body.split(",")] if body else []


def period_warning(result: DutyCycle) -> bool:
    """True when the runner would warn that the period varies by more than 2%."""
    return not math.isnan(result.period_spread) and result.period_spread > PERIOD_SPREAD_WARNING
