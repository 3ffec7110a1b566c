"""PERF0xx: performance claims held to the windows recomputed from the raw logs.

EEMBC: laps from log.txt; MLCommons: start/end times from results.json (formats.md 5.1).
"""

from __future__ import annotations

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register, results_txt_path
from submission_tools.runs import timing_file_parsed

RULES = "MLPerf Tiny rules, Measurement"
MIN_WINDOW_S = 10.0
MIN_ITERATIONS = 10
WINDOWS = 5


def _timed_runs(ctx, modes=("performance",), empty=False):
    """(mode folder, ScoredRun) for readable runs in the given modes; with `empty`, also runs whose
    timing file was parsed but holds no window (not sww: it streams one recording, see SWW rules)."""
    for _submitter, _system, bench, mode in ctx.known_modes():
        if mode.name in modes:
            scored = ctx.scored_run(mode, bench)
            if scored is not None and (scored.run.windows or (
                    empty and bench.name != "sww" and timing_file_parsed(scored.run))):
                yield mode, scored


@register
class WindowCount(Rule):
    id = "PERF001"
    name = "perf.window-count"
    title = "A performance run has exactly 5 timed windows"
    severity = Severity.ERROR
    spec = f"{RULES}: performance is the median of 5 timed windows."
    rationale = "A median over fewer (or more) windows is not the metric the rules define and hides outliers."
    fix = "Run the performance mode again with the runner's default 5 windows and submit that session unchanged."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx, ("performance", "energy"), empty=True):
            if scored.run.mode == "energy" and scored.run.runner == "mlc":
                continue  # energy trials are counted by ENERGY rules
            count = len(scored.run.windows)
            if count != WINDOWS:
                yield self.finding(f"{mode.path}/{scored.run.timing_file}",
                                   f"{count} timed window(s) in {scored.run.timing_file}, the rules want {WINDOWS}",
                                   claimed=len(scored.run.claims.windows) or None, recomputed=count)


@register
class WindowTooShort(Rule):
    id = "PERF002"
    name = "perf.window-too-short"
    title = "Every timed window lasts at least 10 s and 10 inferences"
    severity = Severity.ERROR
    spec = f"{RULES}: each of the 5 windows must run at least 10 seconds and at least 10 inferences."
    rationale = "Short windows let start-up effects and timer resolution dominate the measured throughput."
    fix = "Raise the inference count so each window lasts over 10 s (e.g. 12 s worth), and measure again."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx):
            timed = [w for w in scored.run.windows if w.runtime_us is not None]
            short = [w for w in timed if w.runtime_us / 1e6 < MIN_WINDOW_S or w.iterations < MIN_ITERATIONS]
            if short:
                first = short[0]
                yield self.finding(
                    f"{mode.path}/{scored.run.timing_file}",
                    f"{len(short)} of {len(timed)} window(s) are too short, e.g. window {first.index}: "
                    f"{first.iterations} inferences in {first.runtime_us / 1e6:.3f} s (at least "
                    f"{MIN_WINDOW_S:.0f} s and {MIN_ITERATIONS} inferences are required)",
                    line=first.line if scored.run.runner != "mlc" else None,
                    recomputed=[round(w.runtime_us / 1e6, 6) for w in timed])


@register
class WindowNotTimed(Rule):
    id = "PERF003"
    name = "perf.window-not-timed"
    title = "Every window carries the DUT's start and end timestamps"
    severity = Severity.ERROR
    spec = f"{RULES}; protocol: the DUT prints m-lap-us at the start and end of the timed loop."
    rationale = "Without both timestamps the window's throughput cannot be recomputed, only believed."
    fix = "Submit the complete, unedited log.txt of the run (both m-lap-us lines of every window)."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx):
            for window in scored.run.windows:
                if window.runtime_us is None:
                    yield self.finding(f"{mode.path}/{scored.run.timing_file}",
                                       f"window {window.index} has {len(window.laps_us)} timestamp(s), needs 2",
                                       line=window.line if scored.run.runner != "mlc" else None)


@register
class WindowClaimMismatch(Rule):
    id = "PERF004"
    name = "perf.window-claim-mismatch"
    title = "Each window's claimed runtime and throughput match the log"
    severity = Severity.ERROR
    spec = f"{RULES}; results.txt summarises the windows of the run in log.txt."
    rationale = "A per-window number the raw log does not support means the summary was edited or belongs to another run."
    fix = "Submit results.txt and log.txt of the same session, unedited."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx):
            claimed = list(scored.run.claims.windows.values())
            if len(claimed) != len(scored.run.windows):
                continue  # PERF005
            for window, claim, throughput in zip(scored.run.windows, claimed, scored.window_throughputs):
                if throughput is None:
                    continue
                for label, printed, value in (("throughput", claim.throughput, throughput),
                                              ("runtime", claim.runtime_s, window.runtime_us / 1e6)):
                    if printed is not None and not printed.agrees(value):
                        yield self.finding(
                            results_txt_path(mode, scored),
                            f"window {claim.number}: claimed {label} {printed.text}, the log gives {value:.6g}",
                            line=printed.line, claimed=printed.value, recomputed=value)


@register
class LogResultsDifferentRun(Rule):
    id = "PERF005"
    name = "perf.log-results-different-run"
    title = "log.txt and results.txt describe the same run"
    severity = Severity.ERROR
    spec = f"{RULES}; directory_structure.adoc: log.txt and results.txt are produced together by the runner."
    rationale = "A results.txt with more or fewer windows than its log.txt cannot have been produced from it."
    fix = "Copy log.txt, results.txt (and results.json) from one session folder of the runner."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx):
            claimed = len(scored.run.claims.windows)
            measured = len(scored.run.windows)
            if claimed and claimed != measured:
                yield self.finding(results_txt_path(mode, scored),
                                   f"results.txt reports {claimed} window(s) but {scored.run.timing_file} holds {measured}",
                                   claimed=claimed, recomputed=measured)


@register
class MedianMismatch(Rule):
    id = "PERF006"
    name = "perf.median-mismatch"
    title = "The claimed median throughput is the median of the logged windows"
    severity = Severity.ERROR
    spec = f"{RULES}: the score is the median of the 5 windows (an even count: mean of the middle two)."
    rationale = "The median is the published score; it must follow from the raw data."
    fix = "Submit the runner's unedited results.txt; never recompute or round the median by hand."

    def check(self, ctx):
        for mode, scored in _timed_runs(ctx):
            printed = scored.run.claims.median_throughput
            if scored.median_throughput is None or "results_txt" not in scored.run.files:
                continue  # nothing to hold to the median (TREE009 reports a missing results.txt)
            if printed is None:
                yield self.finding(results_txt_path(mode, scored), "results.txt has no 'Median throughput' line",
                                   recomputed=scored.median_throughput)
            elif not printed.agrees(scored.median_throughput):
                yield self.finding(results_txt_path(mode, scored),
                                   f"claimed median {printed.text} inf./s, the log gives {scored.median_throughput:.3f}",
                                   line=printed.line, claimed=printed.value, recomputed=scored.median_throughput)
