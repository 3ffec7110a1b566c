"""Streaming wakeword scoring (submission_tools/scoring/sww.py) against hand-computed answers,
the real v1.3 record, and properties.

Real data: ../shared/data/tiny_results/v1.3 (skipped with a message when absent). The corpus
holds 5 SWW performance dirs with results.json and 8 SWW energy dirs (all STMicroelectronics;
the energy results.json are listed in MISSING.tsv, so their detections come from log.txt).
"""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest
from helpers.shared import shared_path
from hypothesis import given, settings
from hypothesis import strategies as st

from submission_tools.logs.mlc_results_json import parse_mlc_results_json
from submission_tools.logs.results_txt import parse_results_txt
from submission_tools.runmodel import Run
from submission_tools.scoring.sww import (
    DutyCycle,
    SwwScore,
    duty_cycle,
    load_truth_windows,
    parse_detections_from_log,
    period_warning,
    runner_text,
    score_detections,
)

SYNC = 500  # ms: the sync pulse of the generated cases; detection at t s is SYNC + 1000 t


def at(*seconds: float) -> list[int]:
    """A detection list: the sync pulse, then one detection per time (s after the pulse)."""
    return [SYNC] + [SYNC + round(s * 1000) for s in seconds]


def counts(score: SwwScore) -> tuple[int, int, int]:
    return score.tp, score.fn, score.fp


# ---------------------------------------------------------------------------------------------
# 1. Known answers on generated data

WINDOW = [(10.0, 11.0)]


@pytest.mark.parametrize("t, runner, readme", [
    (9.999, (0, 1, 1), (0, 1, 1)),   # 1 ms before t0: outside
    (10.0, (1, 0, 0), (1, 0, 0)),    # exactly t0: inside (<=)
    (11.0, (1, 0, 0), (1, 0, 0)),    # exactly t1
    (12.0, (1, 0, 0), (1, 0, 0)),    # t1 + 1 s: the README's edge, inside both
    (12.001, (1, 0, 0), (0, 1, 1)),  # just past the README's edge
    (13.0, (1, 0, 0), (0, 1, 1)),    # t1 + 2 s: the runner's edge, still inside (<=)
    (13.001, (0, 1, 1), (0, 1, 1)),  # past the runner's edge: an FN and an FP
])
def test_detection_on_window_edges(t, runner, readme):
    assert counts(score_detections(at(t), WINDOW)) == runner
    assert counts(score_detections(at(t), WINDOW, as_runner=False)) == readme


def test_window_start_compared_as_seconds_not_milliseconds():
    # 2.007 * 1000 == 2007.0000000000002 > 2007, but 2007 / 1000 == 2.007: the runner
    # compares d/1000 with t0, so a detection printed at exactly t0 counts.
    assert 2.007 * 1000 > 2007 and 2007 / 1000 == 2.007
    assert counts(score_detections(at(2.007), [(2.007, 2.5)])) == (1, 0, 0)


def test_window_end_is_t1_plus_one_plus_one_in_float_order():
    # (0.007 + 1.0) + 1.0 == 2.0069999999999997 < 2.007 == 0.007 + 2.0: a detection at
    # 2.007 s falls outside the runner's window although it is exactly t1 + 2 s.
    assert (0.007 + 1.0) + 1.0 < 2007 / 1000 == 0.007 + 2.0
    score = score_detections(at(2.007), [(0.0, 0.007)])
    assert counts(score) == (0, 1, 1)
    assert score.false_negative_windows == [(0.0, 0.007)]
    assert score.false_positive_times_s == [2.007]


def test_several_detections_in_one_window_are_one_tp_and_all_removed():
    score = score_detections(at(10.0, 10.3, 10.6, 11.5, 12.9), WINDOW)
    assert counts(score) == (1, 0, 0)
    assert score.false_positive_times_s == []


def test_a_detection_shared_by_overlapping_windows_serves_only_the_first():
    windows = [(10.0, 11.0), (11.5, 12.5)]
    score = score_detections(at(12.0), windows)
    assert counts(score) == (1, 1, 0)
    assert score.false_negative_windows == [(11.5, 12.5)]
    # listed the other way round, the later window takes it
    assert score_detections(at(12.0), windows[::-1]).false_negative_windows == [(10.0, 11.0)]


def test_two_second_window_can_steal_the_next_windows_detection():
    # The runner's first window [10, 13] takes both detections; the README's [10, 12]
    # leaves 12.6 s for the second window. (No real truth file has windows < 2 s apart.)
    windows = [(10.0, 11.0), (12.5, 13.5)]
    assert counts(score_detections(at(10.5, 12.6), windows)) == (1, 1, 0)
    assert counts(score_detections(at(10.5, 12.6), windows, as_runner=False)) == (2, 0, 0)


@pytest.mark.parametrize("times_ms, survivors_ms", [
    ([0, 900, 1800], [0, 1800]),            # 900 deleted by 0; it never deletes 1800
    ([0, 1000, 2000], [0, 2000]),           # (cur, cur+1000]: exactly 1000 later is deleted
    ([0, 1001], [0, 1001]),
    ([0, 500, 1000, 1500, 2000, 2500], [0, 1500]),
    ([0, 10, 20, 30, 1010, 1020], [0, 1010]),
    ([1800, 0, 900], [0, 1800]),            # order of the list does not matter
    ([5000], [5000]),
])
def test_false_positive_debouncing(times_ms, survivors_ms):
    detections = [SYNC] + [SYNC + 100_000 + t for t in times_ms]  # far from any window
    score = score_detections(detections, WINDOW)
    assert score.fp == len(survivors_ms)
    assert score.false_positive_times_s == [(100_000 + t) / 1000 for t in survivors_ms]
    assert (score.tp, score.fn) == (0, 1)


def test_no_detections_at_all_is_all_false_negatives():
    windows = [(1.0, 1.5), (4.0, 4.8), (7.0, 7.4)]
    for detections in ([], [SYNC]):
        score = score_detections(detections, windows)
        assert counts(score) == (0, 3, 0)
        assert score.false_negative_windows == windows
        assert score.tp_fn_windows_total == 3


def test_no_windows_makes_every_detection_a_false_positive():
    score = score_detections(at(1.0, 1.5, 3.0), [])
    assert counts(score) == (0, 0, 2)
    assert score.false_positive_times_s == [1.0, 3.0]
    assert score.tp_fn_windows_total == 0


def test_detections_are_shifted_by_the_sync_pulse():
    # 15000 ms raw is 10.0 s after the 5000 ms pulse: inside [10, 11]. Unshifted, 15 s
    # would be past the runner's edge at 13 s.
    assert counts(score_detections([5000, 15000], WINDOW)) == (1, 0, 0)
    assert counts(score_detections([0, 15000], WINDOW)) == (0, 1, 1)
    # The pulse itself is never a detection, even when it lies inside a window.
    assert counts(score_detections([10_500], WINDOW)) == (0, 1, 0)
    assert score_detections([5000, 4000], []).false_positive_times_s == [-1.0]


def test_as_runner_false_differs_where_one_or_two_seconds_matters():
    detections = at(12.5, 30.2)
    windows = [(10.0, 11.0), (30.0, 30.5)]
    runner = score_detections(detections, windows)
    readme = score_detections(detections, windows, as_runner=False)
    assert counts(runner) == (2, 0, 0)
    assert counts(readme) == (1, 1, 1)
    assert readme.false_negative_windows == [(10.0, 11.0)]
    assert readme.false_positive_times_s == [12.5]


def test_suppression_parameter():
    assert counts(score_detections(at(12.0), WINDOW, suppression_s=0.5)) == (1, 0, 0)
    assert counts(score_detections(at(12.001), WINDOW, suppression_s=0.5)) == (0, 1, 1)
    assert counts(score_detections(at(11.5), WINDOW, suppression_s=0.5, as_runner=False)) == (1, 0, 0)
    assert counts(score_detections(at(11.6), WINDOW, suppression_s=0.5, as_runner=False)) == (0, 1, 1)


def test_duty_cycle_known_answer():
    result = duty_cycle([0.0, 1.0, 2.0, 3.0], [0.25, 1.25, 2.25])  # truncated to 3 pairs
    assert result == DutyCycle(duty_cycle=0.25, period_s=1.0, processing_time_s=0.25,
                               throughput_ips=4.0, period_spread=0.0)
    assert not period_warning(result)
    uneven = duty_cycle([0.0, 1.0, 3.0], [0.5, 1.5, 3.5])
    assert uneven.period_s == 1.5 and uneven.processing_time_s == 0.5
    assert uneven.period_spread == pytest.approx(1 / 1.5)
    assert period_warning(uneven)


def test_duty_cycle_needs_two_pairs():
    assert duty_cycle([], []) is None
    assert duty_cycle([0.1], [0.2]) is None
    assert duty_cycle([0.1, 0.2, 0.3], [0.15]) is None  # truncation leaves one pair


def test_duty_cycle_from_ticks_matches_numpy_on_the_runners_seconds():
    ticks_start = [8528 + 3206 * k for k in range(100)]
    ticks_stop = [t + 1163 for t in ticks_start]
    start = np.array(ticks_start) * 10e-6
    stop = np.array(ticks_stop) * 10e-6
    result = duty_cycle(list(start), list(stop))
    assert result.period_s == np.mean(np.diff(start))
    assert result.processing_time_s == np.mean(stop - start)
    assert result.duty_cycle == np.mean(stop - start) / np.mean(np.diff(start))


def test_runner_text_is_format_1_5():
    assert runner_text(0.36266551806682434) == "0.36267"
    assert runner_text(0.03206949494949495) == "0.032069"
    assert runner_text(235.0) == "235.0" and format(235.0, ".5g") == "235"
    assert runner_text(51.67) == "51.67"


def test_load_truth_windows(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"wav_file": "a.wav", "detection_windows": [[1.0, 1.5], [4, 4.75]],
                                 "length_sec": 10.0, "sample_rate": 16000}]))
    assert load_truth_windows(path) == [(1.0, 1.5), (4.0, 4.75)]
    two = tmp_path / "two.json"
    two.write_text(json.dumps([{"wav_file": "a.wav", "detection_windows": [[1.0, 2.0]]},
                               {"wav_file": "b.wav", "detection_windows": [[3.0, 4.0]]}]))
    assert load_truth_windows(two, wav_file="b.wav") == [(3.0, 4.0)]
    with pytest.raises(ValueError, match="wav_file"):
        load_truth_windows(two)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"wav_file": "a.wav", "detection_windows": [[1.0]]}]))
    with pytest.raises(ValueError, match=r"detection_windows\[0\]"):
        load_truth_windows(bad)


LOG = """\
Device model retrieved: sww01
Playing long_wav.wav (length = 1200.0s) at 09:56:14...
stop%
RX:[12, 13]
... done
No activation data found.
[96, 9975, 10007]
Duty cycle = 0.363, Period = 32.1 ms
== File long_wav.wav (1200.0 s) ==
False positives: [614.216 717.229]
"""


def test_parse_detections_from_log():
    assert parse_detections_from_log(LOG) == [96, 9975, 10007]
    assert parse_detections_from_log(LOG.replace("\n", "\r\n")) == [96, 9975, 10007]
    # a log cut before the duty-cycle line
    assert parse_detections_from_log(LOG.split("Duty cycle")[0]) == [96, 9975, 10007]
    assert parse_detections_from_log(LOG.replace("[96, 9975, 10007]\n", "")) is None
    assert parse_detections_from_log("Logging initialized.\n") is None
    empty = "No activation data found.\n[]\nDuty cycle = 0.1, Period = 32 ms\n"
    assert parse_detections_from_log(empty) == []


# ---------------------------------------------------------------------------------------------
# 2. The real v1.3 record

ST = ("data", "tiny_results", "v1.3", "closed", "STMicroelectronics", "results")
PERFORMANCE = ["NUCLEO_H7A3ZI_Q", "NUCLEO_L4R5ZI-P", "NUCLEO_U385RG_Q", "NUCLEO_U3C5ZIT6_Q",
               "NUCLEO_U575ZI_Q"]
ENERGY = ["NUCLEO_H7A3ZI_Q", "NUCLEO_H7A3ZI_Q_40MHz", "NUCLEO_L4R5ZI-P", "NUCLEO_L4R5ZI-P_70MHz",
          "NUCLEO_U385RG_Q", "NUCLEO_U3C5ZIT6_Q", "NUCLEO_U575ZI_Q", "NUCLEO_U575ZI_Q_60MHz"]


def _truth():
    return load_truth_windows(shared_path("data", "mlperf_tiny", "benchmark", "runner", "sww_data_dir",
                                          "sww_long_test.json"))


def _printed_lists(log: str) -> tuple[list[float], list[float]]:
    """The runner's `False negatives: [...]` (a list) and `False positives: [...]` (numpy)."""
    fn = ast.literal_eval(re.search(r"^False negatives: (.*)$", log, re.MULTILINE).group(1))
    fp_text = re.search(r"^False positives: \[(.*)\]$", log, re.MULTILINE).group(1)
    return fn, [float(v) for v in fp_text.split()]


def _real_run(system: str, mode: str):
    folder = shared_path(*ST, system, "sww", mode)
    claims = parse_results_txt((folder / "results.txt").read_bytes())
    log = (folder / "log.txt").read_text(encoding="utf-8")
    if mode == "performance":
        run = Run(mode="p", runner="mlc")
        parse_mlc_results_json((folder / "results.json").read_bytes(), run)
        assert not run.problems and run.sww is not None
        detections, windows = run.sww.detections_ms, run.sww.detection_windows
    else:
        run, detections, windows = None, parse_detections_from_log(log), _truth()
    return claims, log, run, detections, windows


def _check_counts(claims, log, detections, windows):
    score = score_detections(detections, windows)
    assert (score.tp, score.fn, score.fp) == (claims.sww_tp, claims.sww_fn, claims.sww_fp)
    assert score.tp + score.fn == 50
    printed_fn, printed_fp = _printed_lists(log)
    assert [t0 for t0, _ in score.false_negative_windows] == printed_fn
    assert score.false_positive_times_s == printed_fp
    return score


@pytest.mark.parametrize("system", PERFORMANCE)
def test_real_performance_counts(system):
    claims, log, _, detections, windows = _real_run(system, "performance")
    assert windows == _truth(), "results.json detection_windows differ from sww_long_test.json"
    assert parse_detections_from_log(log) == detections, "log.txt and results.json disagree"
    _check_counts(claims, log, detections, windows)


@pytest.mark.parametrize("system", PERFORMANCE)
def test_real_performance_duty_cycle(system):
    claims, _, run, _, _ = _real_run(system, "performance")
    folder = shared_path(*ST, system, "sww", "performance")
    stored = json.loads((folder / "results.json").read_text())[0]["dutycycle"]
    result = duty_cycle(run.sww.start_times_s, run.sww.stop_times_s)
    # bit for bit what the runner stored
    assert result.duty_cycle == stored["duty_cycle"]
    assert result.period_s == stored["period"]
    assert result.processing_time_s == stored["processing_time"]
    # character for character what it printed, and at %1.5g
    for value, printed in ((result.duty_cycle, claims.duty_cycle), (result.period_s, claims.period_s),
                           (result.throughput_ips, claims.sww_throughput)):
        assert runner_text(value) == printed.text
        assert format(value, ".5g") == format(printed.value, ".5g")
        assert printed.agrees(value)
    assert not period_warning(result)


@pytest.mark.parametrize("system", ENERGY)
def test_real_energy_log_counts(system):
    claims, log, _, detections, windows = _real_run(system, "energy")
    assert detections is not None and len(detections) > 800
    _check_counts(claims, log, detections, windows)


def test_every_sww_log_of_the_corpus_is_covered():
    root = shared_path("data", "tiny_results", "v1.3")
    found = sorted(str(p.relative_to(root)) for p in root.glob("*/*/results/*/sww/*/log.txt"))
    expected = sorted([f"closed/STMicroelectronics/results/{s}/sww/performance/log.txt" for s in PERFORMANCE]
                      + [f"closed/STMicroelectronics/results/{s}/sww/energy/log.txt" for s in ENERGY])
    assert found == expected


# With the README's 1 s window instead of the runner's 2 s, 10 of 13 real runs change, and
# 10 of 13 would fail the FP <= 8 rule (all print 44/6/4 with the runner's window).
README_COUNTS = {
    ("NUCLEO_H7A3ZI_Q", "energy"): (41, 9, 24),
    ("NUCLEO_H7A3ZI_Q", "performance"): (43, 7, 24),
    ("NUCLEO_H7A3ZI_Q_40MHz", "energy"): (38, 12, 27),
    ("NUCLEO_L4R5ZI-P", "energy"): (44, 6, 4),
    ("NUCLEO_L4R5ZI-P", "performance"): (44, 6, 4),
    ("NUCLEO_L4R5ZI-P_70MHz", "energy"): (43, 7, 22),
    ("NUCLEO_U385RG_Q", "energy"): (38, 12, 24),
    ("NUCLEO_U385RG_Q", "performance"): (43, 7, 24),
    ("NUCLEO_U3C5ZIT6_Q", "energy"): (44, 6, 4),
    ("NUCLEO_U3C5ZIT6_Q", "performance"): (39, 11, 24),
    ("NUCLEO_U575ZI_Q", "energy"): (44, 6, 22),
    ("NUCLEO_U575ZI_Q", "performance"): (38, 12, 28),
    ("NUCLEO_U575ZI_Q_60MHz", "energy"): (44, 6, 22),
}


def test_real_runs_with_the_readme_window():
    found = {}
    for system, mode in README_COUNTS:
        claims, _, _, detections, windows = _real_run(system, mode)
        assert (claims.sww_tp, claims.sww_fn, claims.sww_fp) == (44, 6, 4)
        assert counts(score_detections(detections, windows)) == (44, 6, 4)
        found[(system, mode)] = counts(score_detections(detections, windows, as_runner=False))
    assert found == README_COUNTS


# ---------------------------------------------------------------------------------------------
# 3. Properties

windows_strategy = st.lists(
    st.tuples(st.floats(0, 120, allow_nan=False), st.floats(0, 3, allow_nan=False)).map(
        lambda w: (w[0], w[0] + w[1])), max_size=12)
detections_strategy = st.lists(st.integers(0, 130_000), max_size=40)


@settings(deadline=None, max_examples=200)
@given(detections=detections_strategy, windows=windows_strategy, as_runner=st.booleans())
def test_counts_are_consistent(detections, windows, as_runner):
    score = score_detections(detections, windows, as_runner=as_runner)
    assert score.tp + score.fn == len(windows) == score.tp_fn_windows_total
    assert score.fn == len(score.false_negative_windows)
    assert 0 <= score.fp == len(score.false_positive_times_s) <= max(len(detections) - 1, 0)
    assert score.false_positive_times_s == sorted(score.false_positive_times_s)
    # survivors are more than 1 s apart, except identical times (which the interface board,
    # recording detections >= 10 ms apart, never produces): (cur, cur + 1000] excludes cur
    assert all(b == a or b - a > 1.0 - 1e-9 for a, b in zip(score.false_positive_times_s,
                                                             score.false_positive_times_s[1:]))


@settings(deadline=None, max_examples=200)
@given(detections=detections_strategy, windows=windows_strategy, as_runner=st.booleans(),
       offset=st.integers(-10**9, 10**9))
def test_invariant_to_a_common_offset(detections, windows, as_runner, offset):
    shifted = [d + offset for d in detections]
    assert score_detections(shifted, windows, as_runner=as_runner) == \
        score_detections(detections, windows, as_runner=as_runner)
