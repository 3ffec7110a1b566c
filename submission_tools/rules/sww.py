"""SWW0xx: streaming wakeword counts and duty cycle recomputed from the detections."""

from __future__ import annotations

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register, results_txt_path
from submission_tools.scoring.sww import runner_text

RULES = "MLPerf Tiny rules, streaming wakeword (v1.3+)"
MAX_FP = 8
MAX_FN = 8
OCCURRENCES = 50


def _sww_runs(ctx, with_division: bool = False):
    for submitter, _system, bench, mode in ctx.known_modes():
        if bench.name == "sww":
            scored = ctx.scored_run(mode, bench)
            if scored is not None and scored.sww is not None:
                yield (mode, scored, submitter.division) if with_division else (mode, scored)


@register
class SwwCountsMismatch(Rule):
    id = "SWW001"
    name = "sww.counts-mismatch"
    title = "Claimed true positives, false negatives and false positives follow from the detections"
    severity = Severity.ERROR
    spec = (f"{RULES}; the MLCommons runner's streaming_ww_utils.py scoring (protocol.md 7.4): a detection "
            "counts for a wakeword from its start to 2 s after its end; false positives debounced over 1 s.")
    rationale = "The FP/FN counts are the sww quality gate; they must follow from the recorded detections."
    fix = "Submit the runner's unedited results.txt, results.json and log.txt of the same session."

    def check(self, ctx):
        for mode, scored in _sww_runs(ctx):
            claims, score = scored.run.claims, scored.sww.score
            if score is None or claims.sww_tp is None:
                continue
            claimed, recomputed = (claims.sww_tp, claims.sww_fn, claims.sww_fp), (score.tp, score.fn, score.fp)
            if claimed != recomputed:
                yield self.finding(results_txt_path(mode, scored),
                                   "claimed TP/FN/FP {}/{}/{}, the detections in {} give {}/{}/{}".format(
                                       *claimed, scored.sww.detections_source, *recomputed),
                                   line=claims.sww_line, claimed=list(claimed), recomputed=list(recomputed))


@register
class SwwBelowTarget(Rule):
    id = "SWW002"
    name = "sww.below-target"
    title = "Closed sww results meet FP <= 8 and FN <= 8 over the 50 wakewords"
    severity = Severity.ERROR
    spec = f"{RULES}: closed division quality target FP <= 8 and FN <= 8, with TP + FN = 50."
    rationale = "Results outside the target are not valid closed sww results."
    fix = "Improve the detector (or its threshold) or submit in the open division."

    def check(self, ctx):
        for mode, scored, division in _sww_runs(ctx, with_division=True):
            if division != "closed":
                continue
            score, claims = scored.sww.score, scored.run.claims
            counts = (score.tp, score.fn, score.fp) if score else (claims.sww_tp, claims.sww_fn, claims.sww_fp)
            if counts[0] is None:
                continue
            tp, fn, fp = counts
            problems = [p for p, bad in ((f"FP {fp} > {MAX_FP}", fp > MAX_FP), (f"FN {fn} > {MAX_FN}", fn > MAX_FN),
                                         (f"TP+FN {tp + fn} != {OCCURRENCES}", tp + fn != OCCURRENCES)) if bad]
            if problems:
                source = "recomputed" if score else "claimed"
                yield self.finding(results_txt_path(mode, scored), f"{source} counts miss the target: {'; '.join(problems)}",
                                   recomputed=[tp, fn, fp] if score else None)


@register
class SwwDutyCycleMismatch(Rule):
    id = "SWW003"
    name = "sww.duty-cycle-mismatch"
    title = "Claimed duty cycle, period and throughput follow from the recorded start/stop times"
    severity = Severity.ERROR
    spec = f"{RULES}; streaming_ww_utils.py process_dutycycle (protocol.md 7.4), printed with {{:1.5}}."
    rationale = "The estimated throughput of sww is derived from the duty cycle; both must follow from the timings."
    fix = "Submit the unedited results.txt and results.json of the same session."

    def check(self, ctx):
        for mode, scored in _sww_runs(ctx):
            duty, claims = scored.sww.duty, scored.run.claims
            if duty is None:
                continue
            for label, printed, value in (("duty cycle", claims.duty_cycle, duty.duty_cycle),
                                          ("period", claims.period_s, duty.period_s),
                                          ("throughput", claims.sww_throughput, duty.throughput_ips)):
                if printed is not None and runner_text(value) != printed.text:
                    yield self.finding(results_txt_path(mode, scored),
                                       f"claimed {label} {printed.text}, the start/stop times give {runner_text(value)}",
                                       line=printed.line, claimed=printed.value, recomputed=value)


@register
class SwwWindowDefinition(Rule):
    id = "SWW004"
    name = "sww.window-definition"
    title = "Counts under the README's 1 s window differ from the runner's 2 s window"
    severity = Severity.INFO
    spec = (f"{RULES}; the runner's README says a detection counts up to 1 s after the wakeword, but its code "
            "adds the delay twice (2 s). Scores here follow the code.")
    rationale = "Reviewers should know when the result depends on that discrepancy."
    fix = "Nothing to fix in the submission; raise the discrepancy with the working group if it matters."

    def check(self, ctx):
        for mode, scored in _sww_runs(ctx):
            runner, readme = scored.sww.score, scored.sww.readme_score
            if runner is None or readme is None:
                continue
            if (runner.tp, runner.fn, runner.fp) != (readme.tp, readme.fn, readme.fp):
                yield self.finding(mode.path, f"TP/FN/FP {runner.tp}/{runner.fn}/{runner.fp} with the runner's 2 s "
                                              f"window would be {readme.tp}/{readme.fn}/{readme.fp} with the README's 1 s")


@register
class SwwNotRecomputable(Rule):
    id = "SWW005"
    name = "sww.not-recomputable"
    title = "sww counts that cannot be recomputed are said so"
    severity = Severity.INFO
    spec = f"{RULES}; detections come from results.json, or from log.txt with the truth file of --reference."
    rationale = "A reviewer must know which sww claims were verified."
    fix = "Submit results.json; pass --reference so the wakeword windows can be read."

    def check(self, ctx):
        for mode, scored in _sww_runs(ctx):
            if scored.sww.score is None and scored.run.claims.sww_tp is not None:
                run = scored.run
                no_json = "no detections in results.json" if "results_json" in run.files else "no results.json"
                if run.sww_detections_from_log is None:
                    why = f"{no_json} and no detection list in log.txt"
                elif not ctx.reference:
                    why = f"{no_json}; pass --reference to score the detections printed in log.txt"
                else:
                    why = (f"{no_json}, and the --reference checkout has no sww_long_test.json to score the "
                           "detections printed in log.txt")
                yield self.finding(mode.path, f"sww counts not recomputed: {why}")
