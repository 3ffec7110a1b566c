"""ACC0xx: accuracy claims held to the outputs logged for every input of the evaluation set."""

from __future__ import annotations

import math

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register, results_txt_path
from submission_tools.runs import timing_file_parsed

RULES = "MLPerf Tiny rules, Measurement (accuracy)"
AD_WINDOWS_PER_FILE = 196  # 102400-byte ad01 inputs, windows of 2560 bytes at stride 512 (formats.md 5.3)


def _accuracy_runs(ctx, with_division: bool = False):
    """(mode folder, benchmark spec, ScoredRun[, division]) for readable accuracy runs."""
    for submitter, _system, bench, mode in ctx.known_modes():
        if mode.name == "accuracy":
            scored = ctx.scored_run(mode, bench)
            if scored is not None:
                spec = ctx.ruleset.benchmarks[bench.name]
                yield (mode, spec, scored, submitter.division) if with_division else (mode, spec, scored)


def _outputs_file(mode, scored) -> str:
    return f"{mode.path}/{scored.run.timing_file}"


def _metric_claim(spec, scored):
    """(name, printed claim, recomputed value) of the quality metric the target applies to."""
    claims, score = scored.run.claims, scored.accuracy
    if spec.metric == "auc":
        return "AUC", claims.auc, score.auc if score else None
    return "Top-1", claims.top1_pct, score.top1_pct if score else None


@register
class AccuracyNotRecomputable(Rule):
    id = "ACC001"
    name = "acc.not-recomputable"
    title = "Accuracy that cannot be recomputed is said so"
    severity = Severity.INFO
    spec = f"{RULES}; labels come from the reference checkout (--reference) or extra label folders (--labels)."
    rationale = "A reviewer must know which accuracy claims were verified and which were only read."
    fix = "Pass --reference (a checkout of mlcommons/tiny) and, for older label sets, --labels."

    def check(self, ctx):
        for mode, _spec, scored in _accuracy_runs(ctx):
            if not scored.run.windows:
                continue  # nothing logged: TREE009, RUN004 or ACC003 say why
            score = scored.accuracy
            if score is None or not score.label_source:
                if ctx.label_sets:
                    why = "no label set names these inputs"
                elif ctx.reference is not None:
                    why = "the --reference checkout has no label set for this benchmark"
                else:
                    why = "no labels are available; pass --reference"
                yield self.finding(mode.path, f"accuracy not recomputed: {why}")
            elif score.label_set is None and not score.candidates:
                yield self.finding(mode.path, "accuracy recomputed with the labels results.json carries, which were "
                                              "not checked against y_labels.csv (pass --reference to check them)")


@register
class WrongDataset(Rule):
    id = "ACC002"
    name = "acc.wrong-dataset"
    title = "The accuracy run used the round's evaluation set"
    severity = Severity.ERROR
    spec = f"{RULES}: one inference per input over the whole evaluation set of the reference (y_labels.csv)."
    rationale = "Accuracy on another or older set is not comparable and may be easier."
    fix = "Run accuracy mode on the evaluation set of this round's mlcommons/tiny (benchmark/evaluation/datasets)."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            score = scored.accuracy
            if score is None:
                continue
            if score.label_set is not None and score.label_set.name not in spec.label_sets:
                yield self.finding(mode.path, f"inputs match label set '{score.label_set.name}', not the round's "
                                              f"({', '.join(spec.label_sets)})")
            if score.unlabelled:
                shown = ", ".join(score.unlabelled[:3]) + (" ..." if len(score.unlabelled) > 3 else "")
                sets = f"'{score.label_set.name}'" if score.label_set else ", ".join(score.candidates)
                yield self.finding(mode.path, f"{len(score.unlabelled)} input(s) are in no label set ({sets}): {shown}")


@register
class IncompleteCoverage(Rule):
    id = "ACC003"
    name = "acc.incomplete-coverage"
    title = "Every input is used exactly once (AD: every window of every file)"
    severity = Severity.ERROR
    spec = f"{RULES}: every file of the evaluation set exactly once; AD: every sliding window of every file."
    rationale = "Skipped or repeated inputs change the accuracy; a truncated log hides which ones."
    fix = "Run the complete accuracy mode again and submit its unedited files."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            if not scored.run.windows and timing_file_parsed(scored.run):
                yield self.finding(_outputs_file(mode, scored), f"{scored.run.timing_file} logs no inference: "
                                                                "no input of the evaluation set was run")
                continue
            score = scored.accuracy
            if score is None or not score.label_source:
                continue
            where = _outputs_file(mode, scored)
            if score.missing:
                shown = ", ".join(score.missing[:3]) + (" ..." if len(score.missing) > 3 else "")
                yield self.finding(where, f"{len(score.missing)} of {len(score.label_set.entries)} inputs of "
                                          f"'{score.label_set.name}' were never run: {shown}",
                                   claimed=None, recomputed=len(score.label_set.entries) - len(score.missing))
            if score.repeated:
                shown = ", ".join(list(score.repeated)[:3])
                yield self.finding(where, f"{len(score.repeated)} input(s) were run more than once: {shown}")
            if spec.metric == "auc":
                yield from self._ad_windows(where, scored)

    def _ad_windows(self, where, scored):
        per_file: dict[str, set] = {}
        for window in scored.run.windows:
            per_file.setdefault(window.input_file or "?", set()).add(window.offset or 0)
        short = {f: len(o) for f, o in per_file.items() if len(o) != AD_WINDOWS_PER_FILE}
        if short and scored.run.runner == "eembc":
            name, count = next(iter(short.items()))
            yield self.finding(where, f"{len(short)} AD file(s) do not have {AD_WINDOWS_PER_FILE} windows "
                                      f"(e.g. {name}: {count})")


def _claim_check(rule, mode, scored, printed, value, label):
    if printed is not None and value is not None and not printed.agrees(value):
        yield rule.finding(results_txt_path(mode, scored),
                           f"claimed {label} {printed.text}, recomputed {value:.4f} from the logged outputs "
                           f"({scored.accuracy.label_source})",
                           line=printed.line, claimed=printed.value, recomputed=value)


@register
class Top1Mismatch(Rule):
    id = "ACC004"
    name = "acc.top1-mismatch"
    title = "The claimed Top-1 is what the logged outputs give"
    severity = Severity.ERROR
    spec = f"{RULES}; Top-1 is the lowest-index argmax of each output against y_labels.csv."
    rationale = "The published accuracy must follow from the logged outputs."
    fix = "Submit the runner's unedited results.txt and log.txt of the same accuracy run."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            if scored.accuracy is None or (spec.metric == "auc" and scored.run.runner == "eembc"):
                continue
            yield from _claim_check(self, mode, scored, scored.run.claims.top1_pct, scored.accuracy.top1_pct, "Top-1")


@register
class AucMismatch(Rule):
    id = "ACC005"
    name = "acc.auc-mismatch"
    title = "The claimed AUC is what the runner's own algorithm gives on the logged outputs"
    severity = Severity.ERROR
    spec = (f"{RULES}; the EEMBC runner's AUC grid (formats.md 5.2) or the MLCommons runner's sklearn AUC "
            "(benchmark/runner/main.py).")
    rationale = "An AUC that its own runner's algorithm cannot reproduce was edited, or the outputs were not probabilities."
    fix = "Submit the unedited files; make the DUT print probabilities (softmax outputs), not logits."

    def check(self, ctx):
        for mode, _spec, scored in _accuracy_runs(ctx):
            if scored.accuracy is not None:
                yield from _claim_check(self, mode, scored, scored.run.claims.auc, scored.accuracy.auc_runner, "AUC")


@register
class BelowTarget(Rule):
    id = "ACC006"
    name = "acc.below-target"
    title = "Closed results reach the quality target (recomputed, not claimed)"
    severity = Severity.ERROR
    spec = "MLPerf Tiny rules, closed division: kws Top-1 90%, vww 80%, ic 85%, ic2 91%, ad AUC 0.85."
    rationale = "A closed result below target is not a valid closed result; a rounded claim at the target proves nothing."
    fix = "Fix the accuracy (quantization, pre-processing) or submit in the open division."

    def check(self, ctx):
        for mode, spec, scored, division in _accuracy_runs(ctx, with_division=True):
            if division != "closed" or not isinstance(spec.closed_target, (int, float)):
                continue
            label, printed, value = _metric_claim(spec, scored)
            target = float(spec.closed_target)
            if value is not None:
                if value < target:
                    yield self.finding(results_txt_path(mode, scored),
                                       f"recomputed {label} {value:.4f} is below the closed target {target:g}",
                                       claimed=printed.value if printed else None, recomputed=value)
            elif printed is not None:
                step = 0.5 * 10 ** -printed.decimals
                if printed.value < target:
                    yield self.finding(results_txt_path(mode, scored),
                                       f"claimed {label} {printed.text} is below the closed target {target:g}",
                                       line=printed.line, claimed=printed.value)
                elif printed.value - step < target:
                    yield self.finding(results_txt_path(mode, scored),
                                       f"indeterminate: claimed {label} {printed.text} is rounded to the target "
                                       f"{target:g} and cannot be recomputed, so it may lie below it",
                                       line=printed.line, claimed=printed.value)


@register
class NotProbabilities(Rule):
    id = "ACC007"
    name = "acc.outputs-not-probabilities"
    title = "Classifier outputs are probabilities"
    severity = Severity.WARNING
    spec = f"{RULES}; both runners' AUC assume scores in [0, 1] that sum to 1 (formats.md 6, class 6)."
    rationale = "Logits, int8 codes or unnormalised scores make the AUC depend on the runner's algorithm, not the model."
    fix = "Print the softmax probabilities (dequantised), as the reference models output them."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            if spec.metric == "auc":
                continue  # AD prints one anomaly score per window
            bad = _first_improper(scored.run.windows)
            if bad is not None:
                window, why, count = bad
                yield self.finding(_outputs_file(mode, scored),
                                   f"{count} output vector(s) are not probabilities, e.g. input {window.input_file}: "
                                   f"{why}", line=window.line if scored.run.runner == "eembc" else None)


def _first_improper(windows):
    first, count = None, 0
    for window in windows:
        vector = window.outputs
        if not vector or any(math.isnan(v) for v in vector):
            continue
        # Dequantised int8 softmax moves each value by up to half a step (1/512), and printing with
        # 3 decimals adds 0.0005 more: real reference-model outputs sum to 0.985..1.015 for 12 classes.
        tolerance = len(vector) * (1 / 512 + 0.0005) + 0.002
        why = None
        if min(vector) < 0:
            why = f"negative value {min(vector)}"
        elif max(vector) > 1:
            why = f"value {max(vector)} above 1"
        elif abs(sum(vector) - 1) > tolerance:
            why = f"values sum to {sum(vector):.3f}"
        if why:
            count += 1
            first = first or (window, why)
    return (first[0], first[1], count) if first else None


@register
class OutputLength(Rule):
    id = "ACC008"
    name = "acc.output-length"
    title = "Every output vector has one value per class"
    severity = Severity.ERROR
    spec = f"{RULES}; y_labels.csv gives the class count of each benchmark (AD: one score per window)."
    rationale = "A vector of the wrong length, or none at all, cannot be scored; its input counts as unverified."
    fix = "Make the DUT print every class score (AD: the one anomaly score) for every inference."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            expected = 1 if spec.metric == "auc" else (scored.accuracy.classes if scored.accuracy else None)
            problems = []
            for window in scored.run.windows:
                if window.output_problem:
                    problems.append((window, f"unreadable vector ({window.output_problem})"))
                elif window.outputs is None:
                    problems.append((window, "no m-results line"))
                elif any(math.isnan(v) for v in window.outputs):
                    problems.append((window, "values that are not numbers (NaN or null)"))
                elif expected and len(window.outputs) != expected:
                    problems.append((window, f"{len(window.outputs)} value(s), expected {expected}"))
            if problems:
                window, why = problems[0]
                yield self.finding(_outputs_file(mode, scored),
                                   f"{len(problems)} inference(s) with a bad output vector, e.g. input "
                                   f"{window.input_file}: {why}",
                                   line=window.line if scored.run.runner == "eembc" else None)


@register
class AccuracyClaimMissing(Rule):
    id = "ACC009"
    name = "acc.claim-missing"
    title = "results.txt states the accuracy"
    severity = Severity.ERROR
    spec = f"{RULES}; the runners print Top-1 and AUC at the end of results.txt."
    rationale = "Without the runner's summary there is no claim to publish or to hold to the logs."
    fix = "Submit the results.txt the runner wrote at the end of the accuracy run."

    def check(self, ctx):
        for mode, spec, scored in _accuracy_runs(ctx):
            if "results_txt" not in scored.run.files:
                continue  # TREE009
            label, printed, _value = _metric_claim(spec, scored)
            if printed is None:
                yield self.finding(results_txt_path(mode, scored), f"results.txt does not state the {label}")
