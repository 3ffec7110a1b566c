"""harness.mlc_format: the MLCommons runner's results.txt and log.txt lines (protocol.md 7.1, 7.2).

Two checks: the lines are those of a published v1.3 run, character for character, when fed that
run's own numbers (from the shared corpus, read in place); and what we write, read back with
submission_tools.logs.results_txt (what `submit check` uses), gives back the numbers."""

from __future__ import annotations

import datetime
import json

import pytest

from harness.mlc_format import (
    RULE,
    PerformanceWindow,
    accuracy_results,
    energy_results,
    performance_results,
    performance_window_log,
    stamp,
    sww_results,
)
from helpers.shared import shared_path
from submission_tools.logs.results_txt import parse_results_txt
from submission_tools.scoring.energy import EnergyWindow
from submission_tools.scoring.sww import DutyCycle, SwwScore

PREFIX = "0726.010245 ulp-mlperf:"
ST = ("data", "tiny_results", "v1.3", "closed", "STMicroelectronics", "results", "NUCLEO_L4R5ZI-P")


def published(*parts: str) -> list[str]:
    return shared_path(*ST, *parts).read_text(encoding="utf-8").replace("\r\n", "\n").rstrip("\n").split("\n")


def parse(lines: list[str]):
    return parse_results_txt(("\n".join(lines) + "\n").encode())


def energy_window(number: int, duration_s: float, energy_uj: float, iterations: int) -> EnergyWindow:
    return EnergyWindow(number=number, start_s=0.0, duration_s=duration_s, energy_uj=energy_uj,
                        power_mw=energy_uj / duration_s / 1e3, energy_per_inf_uj=energy_uj / iterations,
                        iterations=iterations, start_index=0, stop_index=round(duration_s * 1000),
                        edge_shift=None, nan_samples=0)


# ------------------------------------------------------------------------------- prefix


def test_stamp_is_the_runners_prefix():
    assert stamp(datetime.datetime(2025, 7, 26, 1, 2, 45)) == PREFIX
    assert stamp(datetime.datetime(2025, 12, 3, 23, 59, 9)) == "1203.235909 ulp-mlperf:"
    now = stamp()
    assert len(now) == len(PREFIX) and now[4] == "." and now.endswith(" ulp-mlperf:")


# ------------------------------------------------------------------------------- performance


def test_performance_window_arithmetic():
    window = PerformanceWindow(1, 250, 10_862_042)
    assert window.runtime_s == 10.862042
    assert window.throughput == 250 / 10.862042


def test_performance_results_match_a_published_run_exactly():
    runs = json.loads(shared_path(*ST, "kws", "performance", "results.json").read_text())
    windows = [PerformanceWindow(i, run["infer"]["iterations"], run["infer"]["elapsed_time"])
               for i, run in enumerate(runs, start=1)]
    assert performance_results(windows, PREFIX) == published("kws", "performance", "results.txt")


def test_performance_window_log_matches_a_published_log():
    runs = json.loads(shared_path(*ST, "kws", "performance", "results.json").read_text())
    first = runs[0]["infer"]
    lines = performance_window_log(PerformanceWindow(1, first["iterations"], first["elapsed_time"]),
                                   first["results"], PREFIX)
    log = published("kws", "performance", "log.txt")
    start = next(i for i, line in enumerate(log) if line.endswith(" ulp-mlperf: Performance results for window 1:"))
    their_prefix = log[start][:len(PREFIX)]
    assert [line.replace(PREFIX, their_prefix) for line in lines] == log[start:start + 5]


def test_performance_window_log_layout():
    lines = performance_window_log(PerformanceWindow(2, 70, 10_949_628), [0.0, 0.996], PREFIX)
    assert lines == [f"{PREFIX} Performance results for window 2:",
                     f"{PREFIX}   # Inferences :            70",
                     f"{PREFIX}   Runtime      :     10.950 sec.",
                     f"{PREFIX}   Throughput   :      6.393 inf./sec.",
                     f"{PREFIX}   m-results    : [0.0, 0.996]"]


@pytest.mark.parametrize("elapsed", [
    [10_862_042, 10_854_678, 10_847_215, 10_862_036, 10_836_234],
    [12_000_001, 11_999_999, 13_333_333, 10_000_001, 99_999_999],
    [1, 3, 7, 1_000_000_000_000, 4_294_967_295],
])
def test_performance_round_trip(elapsed):
    windows = [PerformanceWindow(i, 250, e) for i, e in enumerate(elapsed, start=1)]
    claims = parse(performance_results(windows, PREFIX))
    assert sorted(claims.windows) == [1, 2, 3, 4, 5]
    for window in windows:
        claim = claims.windows[window.number]
        assert claim.iterations == 250
        assert claim.runtime_s.value == window.runtime_s  # full precision: read back exactly
        assert claim.throughput.value == window.throughput
        assert bool(claim.requirements_met) == (window.runtime_s > 10.0)
    median = sorted(w.throughput for w in windows)[2]
    assert claims.median_throughput.value == pytest.approx(median, abs=5e-4)
    errors = [text for _, text in claims.runner_errors]
    assert bool(errors) == any(w.runtime_s < 10.0 for w in windows)


def test_performance_errors_for_a_short_or_missing_window():
    windows = [PerformanceWindow(i, 10, 9_999_999 if i == 2 else 10_000_000) for i in range(1, 5)]
    lines = performance_results(windows, PREFIX)
    assert f"{PREFIX} ERROR 1 - loop_count was not exactly 5." in lines
    assert f"{PREFIX} ERROR 2 - loop exited before 10 seconds elapsed." in lines
    assert "    Runtime requirements have been met." not in lines  # 10.0 s is not more than 10 s
    claims = parse(lines)
    assert [text.split(" - ")[0] for _, text in claims.runner_errors] == ["ERROR 1", "ERROR 2"]
    assert lines[-3:] == [f"{PREFIX} {RULE}", f"{PREFIX} Median throughput is      1.000 inf./sec.", f"{PREFIX} {RULE}"]


def test_no_windows_at_all():
    assert performance_results([], PREFIX) == [f"{PREFIX} ERROR 1 - loop_count was not exactly 5."]


def test_rule_is_57_dashes():
    assert RULE == "-" * 57


# ------------------------------------------------------------------------------- accuracy


def test_accuracy_lines_match_a_published_run():
    assert accuracy_results(90.2, 0.995, "0726.010109 ulp-mlperf:") == published("kws", "accuracy", "results.txt")


@pytest.mark.parametrize("top1, auc", [(90.2, 0.995), (100.0, 1.0), (7.849, 0.5004), (0.0, 0.0)])
def test_accuracy_round_trip(top1, auc):
    lines = accuracy_results(top1, auc, PREFIX)
    claims = parse(lines)
    assert claims.top1_pct.value == round(top1, 1) and claims.top1_pct.text == f"{top1:.1f}"
    assert claims.auc.value == round(auc, 3)


def test_accuracy_lines_that_are_unknown_are_left_out():
    assert accuracy_results(None, 0.9, PREFIX) == [f"{PREFIX} AUC = 0.900"]
    assert accuracy_results(77.8, None, PREFIX) == [f"{PREFIX} Top 1% = 77.8"]
    assert accuracy_results(None, None, PREFIX) == []


# ------------------------------------------------------------------------------- energy


def published_energy_windows(lines: list[str]) -> list[EnergyWindow]:
    """The trials of a published results.txt as EnergyWindows carrying the printed numbers."""
    claims = parse(lines)
    return [EnergyWindow(number=n, start_s=0.0, duration_s=c.duration_s.value, energy_uj=c.energy_uj.value,
                         power_mw=c.power.value, energy_per_inf_uj=c.energy_per_inf_uj.value,
                         iterations=c.iterations, start_index=0, stop_index=0, edge_shift=None, nan_samples=0)
            for n, c in sorted(claims.energy_windows.items())]


def test_energy_lines_match_a_published_run():
    text = published("kws", "energy", "results.txt")
    ours = energy_results(published_energy_windows(text))
    # every line but the median, which the runner took from unrounded per-trial values
    assert [line for line in ours if "Median" not in line] == [line for line in text if "Median" not in line]
    ours_median, their_median = parse(ours).median_energy_uj, parse(text).median_energy_uj
    assert ours_median.decimals == their_median.decimals == 4
    assert ours_median.value == pytest.approx(their_median.value, abs=5e-4)


def test_energy_round_trip():
    windows = [energy_window(i, 10.883000000000001 + i * 0.01, 256470.370 + i * 17.25, 100) for i in range(5)]
    lines = energy_results(windows)
    claims = parse(lines)
    assert sorted(claims.energy_windows) == [0, 1, 2, 3, 4]
    for window in windows:
        claim = claims.energy_windows[window.number]
        assert claim.duration_s.value == window.duration_s
        assert claim.iterations == 100
        assert claim.power_unit == "mW" and claim.power.value == pytest.approx(window.power_mw, abs=5e-5)
        assert claim.energy_uj.value == pytest.approx(window.energy_uj, abs=5e-4)
        assert claim.energy_per_inf_uj.value == pytest.approx(window.energy_per_inf_uj, abs=5e-4)
    assert claims.median_energy_uj.value == pytest.approx(windows[2].energy_per_inf_uj, abs=5e-5)
    assert claims.runner_errors == []


def test_energy_errors_for_short_or_missing_trials():
    lines = energy_results([energy_window(0, 9.5, 1000.0, 10), energy_window(1, 12.0, 1000.0, 10)])
    errors = [text for _, text in parse(lines).runner_errors]
    assert len(errors) == 2
    assert "All inference times must be at least 10 seconds" in errors[0]
    assert "must include exactly 5 measurements" in errors[1]
    assert lines[0] == "Power Edition Output" and lines[-3:-1] == [RULE, "Median energy cost is 100.0000 uJ/inf."]


def test_energy_with_no_trials():
    lines = energy_results([])
    assert lines[0] == "Power Edition Output" and not any("Median" in line for line in lines)


# ------------------------------------------------------------------------------- streaming wakeword


def test_sww_lines_match_a_published_run():
    run = json.loads(shared_path(*ST, "sww", "performance", "results.json").read_text())[0]
    cycle = run["dutycycle"]
    duty = DutyCycle(cycle["duty_cycle"], cycle["period"], cycle["processing_time"], 1 / cycle["processing_time"], 0.0)
    score = SwwScore(44, 6, 4, [], [], 50)
    assert sww_results(score, duty) == published("sww", "performance", "results.txt")


@pytest.mark.parametrize("duty", [DutyCycle(0.36267, 0.032069, 0.011631, 85.981, 0.0),
                                  DutyCycle(1.2e-05, 123456.0, 0.5, 235.0, 0.0)])
def test_sww_round_trip(duty):
    claims = parse(sww_results(SwwScore(46, 4, 0, [], [], 50), duty))
    assert (claims.sww_tp, claims.sww_fn, claims.sww_fp) == (46, 4, 0)
    assert claims.duty_cycle.value == pytest.approx(duty.duty_cycle, rel=1e-4)
    assert claims.period_s.value == pytest.approx(duty.period_s, rel=1e-4)
    assert claims.sww_throughput.value == pytest.approx(duty.throughput_ips, rel=1e-4)


def test_sww_without_a_duty_cycle_has_only_the_accuracy_line():
    lines = sww_results(SwwScore(1, 2, 3, [], [], 3), None)
    assert lines == ["Accuracy: 1 True positives, 2 False negatives, 3 False positives"]
    claims = parse(lines)
    assert claims.duty_cycle is None and (claims.sww_tp, claims.sww_fn, claims.sww_fp) == (1, 2, 3)
