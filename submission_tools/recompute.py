"""Everything a run's claims can be checked against, recomputed once per mode folder.

Rules read a ScoredRun; reporters read its `claimed` and `recomputed` metric dictionaries
(keys as in the JSON report contract of shared/docs/architecture.md).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from submission_tools.labels import LabelSet, choose_label_set
from submission_tools.runmodel import Run
from submission_tools.runners import EEMBC, MLC
from submission_tools.rulesets import Benchmark
from submission_tools.scoring import accuracy as acc
from submission_tools.scoring import energy, sww
from submission_tools.scoring.throughput import median_like_runner, window_throughput


@dataclass
class AccuracyScore:
    classes: int | None
    label_set: LabelSet | None  # None: labels from results.json (MLC) or none at all
    label_source: str  # "label set <name>", "results.json", or "" when nothing labels the run
    predictions: list[acc.Prediction] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)  # loaded files no label set names
    candidates: list[str] = field(default_factory=list)  # label sets available for this model
    missing: list[str] = field(default_factory=list)  # label-set files never loaded
    repeated: dict[str, int] = field(default_factory=dict)  # file (and AD offset) -> times loaded
    top1_pct: float | None = None  # per the runner that made the claim
    auc: float | None = None  # official: sklearn on normalised file averages
    auc_runner: float | None = None  # the runner's own algorithm


@dataclass
class EnergyScore:
    windows: list[energy.EnergyWindow]  # EEMBC windows 2,4,.. or MLC trials 0..
    median_energy_per_inf_uj: float | None
    problems: list[str] = field(default_factory=list)  # timestamps or events the runner mishandles
    alignment: list[energy.Alignment] = field(default_factory=list)  # EEMBC: trace vs log durations
    window_throughputs: dict[int, float] = field(default_factory=dict)  # EEMBC: N / trace duration


@dataclass
class SwwResult:
    score: sww.SwwScore | None  # None when no detections survive (results.json absent, log silent)
    readme_score: sww.SwwScore | None  # the same with the README's 1 s window, for the record
    duty: sww.DutyCycle | None
    detections_source: str  # "results.json", "log.txt" or ""
    detections_ms: list[int] = field(default_factory=list)  # as scored: the sync pulse first
    windows_s: list[tuple[float, float]] = field(default_factory=list)  # the truth windows scored against


@dataclass
class ScoredRun:
    run: Run
    benchmark: str
    window_throughputs: list[float | None] = field(default_factory=list)
    median_throughput: float | None = None
    accuracy: AccuracyScore | None = None
    energy: EnergyScore | None = None
    sww: SwwResult | None = None
    claimed: dict = field(default_factory=dict)
    recomputed: dict = field(default_factory=dict)


def _claimed_metrics(run: Run) -> dict:
    claims = run.claims
    out: dict = {}
    if claims.median_throughput is not None:
        out["throughput_ips"] = claims.median_throughput.value
    if claims.windows:
        out["window_throughputs_ips"] = [w.throughput.value for w in claims.windows.values() if w.throughput]
        out["window_runtimes_s"] = [w.runtime_s.value for w in claims.windows.values() if w.runtime_s]
    if claims.top1_pct is not None:
        out["top1_pct"] = claims.top1_pct.value
    if claims.auc is not None:
        out["auc"] = claims.auc.value
    if claims.median_energy_uj is not None:
        out["energy_uj_per_inf"] = claims.median_energy_uj.value
    powers = [w.power.value / (1000.0 if w.power_unit == "uW" else 1.0)
              for w in claims.energy_windows.values() if w.power is not None]
    if powers:
        out["power_mw"] = median_like_runner(powers)
    if claims.energy_windows:
        out["window_energies_uj_per_inf"] = [w.energy_per_inf_uj.value for w in claims.energy_windows.values()
                                             if w.energy_per_inf_uj]
    if claims.sww_tp is not None:
        out.update(sww_tp=claims.sww_tp, sww_fn=claims.sww_fn, sww_fp=claims.sww_fp)
    if claims.duty_cycle is not None:
        out["duty_cycle"] = claims.duty_cycle.value
    return out


def _segment_key(window) -> str:
    name = window.input_file or "?"
    return f"{name}@{window.offset}" if window.offset is not None else name


def score_accuracy(run: Run, bench: Benchmark, label_sets: list[LabelSet]) -> AccuracyScore:
    files = {w.input_file for w in run.windows if w.input_file}
    model = "ic01" if bench.model_id == "ic02" else bench.model_id
    candidates = [s for s in label_sets if s.model == model]
    chosen = choose_label_set(files, candidates)
    # With label sets for this model but none naming the inputs, every input is unlabelled
    # (ACC002); the outputs are still scored with the labels results.json carries, if any.
    unmatched = sorted(files) if candidates and chosen is None else []
    if chosen is not None:
        def labels_for(window):
            entry = chosen.entries.get(window.input_file or "")
            return entry.label if entry else None
        classes = next(iter(chosen.entries.values())).classes
        source = f"label set {chosen.name}"
    elif run.runner == MLC and any(w.label is not None for w in run.windows):
        def labels_for(window):
            return window.label
        classes = None
        source = "results.json"
    else:
        return AccuracyScore(classes=None, label_set=None, label_source="", unlabelled=unmatched,
                             candidates=[c.name for c in candidates])
    predictions, unlabelled = acc.group_by_file(run.windows, labels_for)
    if classes is None:
        widths = Counter(len(v) for p in predictions for v in p.vectors)
        classes = widths.most_common(1)[0][0] if widths else None
    score = AccuracyScore(classes=classes, label_set=chosen, label_source=source, predictions=predictions,
                          unlabelled=unmatched or sorted(set(unlabelled)), candidates=[c.name for c in candidates])
    counts = Counter(_segment_key(w) for w in run.windows)
    score.repeated = {k: n for k, n in counts.items() if n > 1}
    if chosen is not None:
        score.missing = sorted(set(chosen.entries) - files)
    if any(math.isnan(v) for p in predictions for vector in p.vectors for v in vector):
        return score  # outputs that are not numbers (ACC008): nothing trustworthy to recompute
    is_ad = bench.metric == "auc"
    if run.runner == EEMBC:
        score.top1_pct = None if is_ad else acc.top1_pct(predictions)
        score.auc_runner = None if is_ad else acc.eembc_auc(predictions, classes or 0)
    else:
        score.top1_pct = acc.mlc_top1_pct(predictions)
        score.auc_runner = acc.sklearn_auc(predictions)
    score.auc = acc.sklearn_auc(predictions)
    return score


def score_energy(run: Run) -> EnergyScore | None:
    if run.runner == MLC and run.energy_trials:
        windows = [energy.mlc_trial(trial, i) for i, trial in enumerate(run.energy_trials)]
        problems = [f"trial {i}: {p}" for i, t in enumerate(run.energy_trials) for p in energy.check_mlc_events(t)]
        return EnergyScore(windows, energy.median_like_runner([w.energy_per_inf_uj for w in windows]), problems)
    if run.runner == EEMBC and run.trace is not None and run.trace_timestamps_s is not None:
        stamps = run.trace_timestamps_s
        windows = energy.eembc_windows(run.trace, stamps, [w.iterations for w in run.windows],
                                       claims=run.claims.energy_windows)
        score = EnergyScore(windows, energy.median_like_runner([w.energy_per_inf_uj for w in windows]),
                            energy.check_timestamps(stamps, trace=run.trace),
                            energy.eembc_alignment(windows, run.windows))
        score.window_throughputs = {w.number: w.iterations / w.duration_s for w in windows
                                    if w.duration_s > 0 and w.iterations}
        return score
    return None


def score_sww(run: Run, truth: list[tuple[float, float]] | None) -> SwwResult:
    if run.sww is not None:
        detections, windows, source = run.sww.detections_ms, run.sww.detection_windows, "results.json"
    elif run.sww_detections_from_log is not None and truth is not None:
        detections, windows, source = run.sww_detections_from_log, truth, "log.txt"
    else:
        return SwwResult(None, None, None, "")
    duty = sww.duty_cycle(run.sww.start_times_s, run.sww.stop_times_s) if run.sww is not None else None
    return SwwResult(sww.score_detections(detections, windows),
                     sww.score_detections(detections, windows, as_runner=False), duty, source,
                     list(detections), list(windows))


def score_run(run: Run, bench: Benchmark, label_sets: list[LabelSet],
              sww_truth: list[tuple[float, float]] | None = None) -> ScoredRun:
    scored = ScoredRun(run=run, benchmark=bench.name, claimed=_claimed_metrics(run))
    if bench.name == "sww":
        scored.sww = score_sww(run, sww_truth)
        if scored.sww.score is not None:
            s = scored.sww.score
            scored.recomputed.update(sww_tp=s.tp, sww_fn=s.fn, sww_fp=s.fp)
        if scored.sww.duty is not None:
            scored.recomputed["duty_cycle"] = scored.sww.duty.duty_cycle
    if run.mode == "energy":
        scored.energy = score_energy(run)
        if scored.energy is not None and scored.energy.windows:
            per_inf = [w.energy_per_inf_uj for w in scored.energy.windows]
            scored.recomputed["window_energies_uj_per_inf"] = per_inf
            if scored.energy.median_energy_per_inf_uj is not None and not math.isnan(
                    scored.energy.median_energy_per_inf_uj):
                scored.recomputed["energy_uj_per_inf"] = scored.energy.median_energy_per_inf_uj
            powers = [w.power_mw for w in scored.energy.windows if not math.isnan(w.power_mw)]
            if powers:
                scored.recomputed["power_mw"] = median_like_runner(powers)
    if run.mode == "performance" and run.windows:
        scored.window_throughputs = [window_throughput(w) for w in run.windows]
        timed = [t for t in scored.window_throughputs if t is not None]
        if timed:
            scored.median_throughput = median_like_runner(timed)
            scored.recomputed["throughput_ips"] = scored.median_throughput
            scored.recomputed["window_throughputs_ips"] = timed
            scored.recomputed["window_runtimes_s"] = [w.runtime_us / 1e6 for w in run.windows if w.runtime_us]
    if run.mode == "accuracy" and run.windows:
        scored.accuracy = score_accuracy(run, bench, label_sets)
        a = scored.accuracy
        if a.top1_pct is not None:
            scored.recomputed["top1_pct"] = a.top1_pct
        if a.auc is not None:
            scored.recomputed["auc"] = a.auc
        if a.auc_runner is not None:
            scored.recomputed["auc_runner"] = a.auc_runner
    return scored
