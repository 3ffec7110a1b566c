"""The text the MLCommons runner writes (protocol.md 7.2), line for line, so that existing tools and
`submit check` read our results.txt and log.txt as they read the runner's."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from submission_tools.scoring import sww
from submission_tools.scoring.energy import EnergyWindow, median_like_runner

RULE = "-" * 57


def stamp(now: datetime.datetime | None = None) -> str:
    """The runner's `MMDD.HHMMSS ulp-mlperf:` prefix."""
    now = now or datetime.datetime.now()
    return f"{now:%m%d.%H%M%S} ulp-mlperf:"


@dataclass(frozen=True)
class PerformanceWindow:
    number: int  # 1-based, as the runner prints it
    iterations: int
    elapsed_us: int

    @property
    def runtime_s(self) -> float:
        return self.elapsed_us / 1e6

    @property
    def throughput(self) -> float:
        return self.iterations / (self.elapsed_us / 1e6)


def performance_window_log(window: PerformanceWindow, results: list[float], prefix: str) -> list[str]:
    return [f"{prefix} Performance results for window {window.number}:",
            f"{prefix}   # Inferences :{window.iterations:>14}",
            f"{prefix}   Runtime      :{window.runtime_s:>11.3f} sec.",
            f"{prefix}   Throughput   :{window.throughput:>11.3f} inf./sec.",
            f"{prefix}   m-results    : {results}"]


def performance_results(windows: list[PerformanceWindow], prefix: str, *, min_window_s: float = 10.0,
                        expected_windows: int = 5) -> list[str]:
    lines = []
    for window in windows:
        lines += [f"Performance results for window {window.number}", f"    # Inferences : {window.iterations}",
                  f"    Runtime: {window.runtime_s} sec.", f"    Throughput: {window.throughput!r} inf./sec."]
        if window.runtime_s > min_window_s:
            lines.append("    Runtime requirements have been met.")
    if len(windows) != expected_windows:
        lines.append(f"{prefix} ERROR 1 - loop_count was not exactly {expected_windows}.")
    if any(w.runtime_s < min_window_s for w in windows):
        lines.append(f"{prefix} ERROR 2 - loop exited before {min_window_s:g} seconds elapsed.")
    if windows:
        median = median_like_runner([w.throughput for w in windows])
        lines += [f"{prefix} {RULE}", f"{prefix} Median throughput is {median:>10.3f} inf./sec.", f"{prefix} {RULE}"]
    return lines


def accuracy_results(top1_pct: float | None, auc: float | None, prefix: str) -> list[str]:
    lines = []
    if top1_pct is not None:
        lines.append(f"{prefix} Top 1% = {top1_pct:2.1f}")
    if auc is not None:
        lines.append(f"{prefix} AUC = {auc:.3f}")
    return lines


def energy_results(windows: list[EnergyWindow], *, min_window_s: float = 10.0, expected_trials: int = 5) -> list[str]:
    lines = ["Power Edition Output"]
    for window in windows:
        lines += [f"Energy data for trial {window.number}", f"  Elapsed time  : {window.duration_s}",
                  f"  Inferences    : {window.iterations}", f"  Power         : {window.power_mw:5.4f} mW.",
                  f"  Total Energy  : {window.energy_uj:.3f} uJ",
                  f"  Energy/Inf    : {window.energy_per_inf_uj:.3f} uJ/inf"]
    if any(w.duration_s < min_window_s for w in windows):
        lines.append(f"ERROR: Not valid for submission.  All inference times must be at least {min_window_s:g} seconds.")
    if len(windows) != expected_trials:
        lines.append(f"ERROR: Not valid for submission.  Energy measurements must include exactly "
                     f"{expected_trials} measurements.")
    if windows:
        median = median_like_runner([w.energy_per_inf_uj for w in windows])
        lines += [RULE, f"Median energy cost is {median:5.4f} uJ/inf.", RULE]
    return lines


def sww_results(score: sww.SwwScore, duty: sww.DutyCycle | None) -> list[str]:
    lines = [f"Accuracy: {score.tp} True positives, {score.fn} False negatives, {score.fp} False positives"]
    if duty is not None:
        lines += [f"Average duty cycle: {sww.runner_text(duty.duty_cycle)}",
                  f"Average period: {sww.runner_text(duty.period_s)} s",
                  f"Estimated throughput: {sww.runner_text(duty.throughput_ips)} inf./sec."]
    return lines
