"""`submit report`: one self-contained HTML page for a checked results tree.

The page (templates/report.html.j2) has, per submitter and system, a table of claimed against
recomputed scores with each result's verdict; per result its windows, its plots (window
runtimes against the 10 s minimum, the energy trace with the timed windows shaded, the ROC
curve of AD, the confusion matrix of a classifier) and its findings; and the documentation of
every rule a finding cites, which each finding links to. Images are PNG data: URIs and a
Content-Security-Policy forbids anything else, so the page works offline and loads nothing.

This module turns a CheckResult into the template's view (plain dicts and lists) and draws the
plots (plots.py) serially or in worker processes; it decides nothing about the tree.
"""

from __future__ import annotations

import base64
import math
import multiprocessing
import re
import struct
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jinja2
import numpy as np

from submission_tools.check import CheckResult, ResultEntry
from submission_tools.findings import Finding, Severity
from submission_tools.logs.energy_trace import TraceProblem, read_energy_trace
from submission_tools.recompute import ScoredRun
from submission_tools.report import plots
from submission_tools.report.grouping import split_path
from submission_tools.resources import templates_dir
from submission_tools.rules import REGISTRY
from submission_tools.runners import EEMBC, MLC
from submission_tools.scoring.energy import MLC_RATE_HZ

TEMPLATE = "report.html.j2"

# (key, label, unit) of the scalar metrics, in table order (keys of the JSON report contract).
# "auc" claimed is the runner's own number; it is set against the runner's algorithm where there is
# one (auc_runner) and the official sklearn AUC is shown on its own row.
METRICS = [
    ("throughput_ips", "throughput", "inf./s"),
    ("top1_pct", "top-1", "%"),
    ("auc", "AUC", ""),
    ("auc_official", "AUC (official: sklearn on file averages)", ""),
    ("energy_uj_per_inf", "energy", "µJ/inf."),
    ("power_mw", "power", "mW"),
    ("sww_tp", "true positives", ""),
    ("sww_fn", "false negatives", ""),
    ("sww_fp", "false positives", ""),
    ("duty_cycle", "duty cycle", ""),
]
SYSTEM_FIELDS = ["Status", "Board Name", "Processor(s) Name", "Processor(s) Frequencies", "Accelerator",
                 "Inference Framework", "Software Libraries"]
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


# ---------------------------------------------------------------------------------------------
# numbers


def format_number(value, claimed: bool = False) -> str:
    """How a number reads on the page, never in exponent notation. A claim was parsed from
    printed text, and its shortest representation gives that text back (trailing zeros aside); a
    recomputed number is shown with 7 significant digits, enough to see every printed digit it
    is compared with."""
    if value is None:
        return "—"
    if isinstance(value, (bool, int, str)):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if claimed:  # 12 significant digits hide float noise of derived claims (µW / 1000)
        return np.format_float_positional(value, precision=12, unique=True, fractional=False, trim="-")
    if abs(value) >= 1:  # 7 significant digits, but never rounding away integer digits
        integer_digits = len(str(int(abs(value))))
        return np.format_float_positional(value, precision=max(0, 7 - integer_digits), unique=True, trim="-")
    return np.format_float_positional(value, precision=7, unique=True, fractional=False, trim="-")


def relative_difference(claimed, recomputed) -> str:
    """(recomputed − claimed) / claimed in percent, '' when it does not apply."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (claimed, recomputed)):
        return ""
    if not (math.isfinite(claimed) and math.isfinite(recomputed)) or claimed == 0:
        return ""
    delta = 100.0 * (recomputed - claimed) / abs(claimed)
    if delta == 0:
        return "0"
    return "≈0" if abs(delta) < 1e-6 else f"{delta:+.2g}%"


# ---------------------------------------------------------------------------------------------
# plots: described as picklable jobs, drawn here or in worker processes


def draw(job: tuple[str, dict]) -> bytes | None:
    """Render one plot job to PNG bytes (None when there is nothing to draw)."""
    kind, args = job
    if kind == "windows":
        figure = plots.window_runtimes(**args)
    elif kind == "eembc_trace":
        try:
            trace = read_energy_trace(args["path"])
        except TraceProblem:
            return None
        windows = [(name, i0 / trace.rate_hz, i1 / trace.rate_hz) for name, i0, i1 in args["windows"]]
        figure = plots.energy_trace(trace.samples_uj, trace.rate_hz, windows, args["edges"])
    elif kind == "mlc_trials":
        figure = plots.energy_trials(args["trials"], MLC_RATE_HZ)
    elif kind == "sww":
        figure = plots.sww_timeline(**args)
    elif kind == "roc":
        figure = plots.roc_curve(args["predictions"], args["auc"])
    elif kind == "confusion":
        figure = plots.confusion_matrix(args["matrix"], args["top1_pct"], args["unit"])
    else:
        raise ValueError(f"unknown plot kind {kind!r}")
    return None if figure is None else plots.png_bytes(figure)


def draw_all(jobs: list[tuple[str, dict]], processes: int = 1) -> list[bytes | None]:
    if processes <= 1 or len(jobs) < 8:
        return [draw(job) for job in jobs]
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        return list(pool.map(draw, jobs, chunksize=4))


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _trace_path(result: CheckResult, entry: ResultEntry, scored: ScoredRun) -> str | None:
    trace = scored.run.trace
    if trace is not None:
        return trace.path
    name = scored.run.files.get("trace")
    if name is None:
        return None
    path = Path(result.root) / entry.path / name
    return str(path) if path.is_file() else None


def plot_jobs(result: CheckResult, entry: ResultEntry, scored: ScoredRun | None) -> list[tuple[str, str, tuple]]:
    """(title, caption, job) for every plot a result can show."""
    if scored is None:
        return []
    run = scored.run
    out = []
    if run.mode == "performance" and run.windows and any(w.runtime_us for w in run.windows):
        claimed = [c.throughput.value if c.throughput else None for c in run.claims.windows.values()]
        out.append(("Window runtimes", (
            "Each timed window's runtime from the raw timing file, against the 10 s minimum (dashed); "
            "a red bar is shorter. Labels: inferences and recomputed throughput (the runner's claim in "
            "brackets)."), ("windows", {
                "runtimes_s": [w.runtime_us / 1e6 if w.runtime_us else None for w in run.windows],
                "iterations": [w.iterations for w in run.windows],
                "claimed_ips": claimed, "median_ips": scored.median_throughput})))
    if run.mode == "energy" and scored.energy is not None:
        if run.runner == EEMBC:
            path = _trace_path(result, entry, scored)
            if path is not None:
                # sample indices: the trace's own rate turns them into seconds where it is read
                windows = [(f"w{w.number}", w.start_index, w.stop_index) for w in scored.energy.windows]
                out.append(("Energy trace", (
                    "Power from trace1-energy.bin (min/max envelope and mean per bin); shaded: the timed "
                    "windows the energy is summed over; dotted: every edge of trace1-timestamps.json."),
                    ("eembc_trace", {"path": path, "windows": windows,
                                     "edges": list(run.trace_timestamps_s or [])})))
        elif run.runner == MLC and run.energy_trials:
            out.append(("Energy samples", (
                "Power of each trial's samples (results.json), trials end to end; dotted: the events; "
                "shaded: the window between each trial's last two events, which the energy is summed over."),
                ("mlc_trials", {"trials": [(t.samples_j, t.events) for t in run.energy_trials]})))
    if scored.sww is not None and scored.sww.score is not None:
        score = scored.sww.score
        out.append(("Wakeword detections", (
            "The streamed wav, in seconds from the DUT's sync pulse: each wakeword (green: detected, "
            "red: missed) and every detection (red: a false positive the score counts), from "
            f"{scored.sww.detections_source}, as the MLCommons runner scores them."),
            ("sww", {"detections_ms": scored.sww.detections_ms, "windows_s": scored.sww.windows_s,
                     "missed_s": score.false_negative_windows, "false_positives_s": score.false_positive_times_s})))
    if run.mode == "accuracy" and scored.accuracy is not None and scored.accuracy.predictions:
        a = scored.accuracy
        spec = result.round.ruleset.benchmarks.get(entry.benchmark)
        if spec is not None and spec.metric == "auc":
            out.append(("ROC curve", (
                "ROC of the file-averaged anomaly scores (the official AUC's inputs); dashed: chance."),
                ("roc", {"predictions": a.predictions, "auc": a.auc})))
        else:
            per_file = run.runner == MLC
            matrix = plots.confusion_counts(a.predictions, a.classes, per_file)
            if matrix is not None:
                out.append(("Confusion matrix", (
                    "True against predicted class, " + ("per file (normalised, averaged outputs), as the "
                                                        "MLCommons runner scores" if per_file else
                                                        "per inference (lowest-index argmax), as the EEMBC "
                                                        "runner scores") + "; colour: share of the true class."),
                    ("confusion", {"matrix": matrix, "top1_pct": a.top1_pct,
                                   "unit": "files" if per_file else "inferences"})))
    return out


# ---------------------------------------------------------------------------------------------
# the view


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-").lower() or "x"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def rule_anchor(rule_id: str) -> str:
    return f"rule-{rule_id.lower()}"


def _finding_view(finding: Finding, where: str) -> dict:
    rule = REGISTRY.get(finding.rule)
    return {
        "rule": finding.rule, "anchor": rule_anchor(finding.rule), "title": rule.title if rule else "",
        "severity": finding.severity.value, "path": finding.path, "where": where,
        "line": finding.line, "message": finding.message, "hint": finding.hint,
        "claimed": None if finding.claimed is None else _value_text(finding.claimed, claimed=True),
        "recomputed": None if finding.recomputed is None else _value_text(finding.recomputed),
    }


def _value_text(value, claimed: bool = False) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(v, claimed) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value_text(v, claimed)}" for k, v in value.items())
    return format_number(value, claimed) if isinstance(value, (int, float)) else str(value)


def _metric_rows(entry: ResultEntry) -> list[dict]:
    claimed, recomputed = entry.claimed, dict(entry.recomputed)
    # The runner's AUC claim is compared with the runner's algorithm where it has one of its own.
    recomputed["auc_official"] = recomputed.get("auc")
    recomputed["auc"] = recomputed.get("auc_runner", recomputed.get("auc"))
    rows = []
    for key, label, unit in METRICS:
        c, r = claimed.get(key), recomputed.get(key)
        if key == "auc_official" and (r is None or r == recomputed.get("auc")):
            continue  # same as the row above: nothing to add
        if c is None and r is None:
            continue
        rows.append({"key": key, "label": label, "unit": unit, "claimed": format_number(c, claimed=True),
                     "recomputed": format_number(r), "delta": relative_difference(c, r),
                     "missing": r is None and c is not None})
    return rows


def _window_rows(entry: ResultEntry) -> dict:
    """Per-window lists, claimed and recomputed, side by side by position."""
    tables = {}
    for title, columns in (
        ("Performance windows", [("runtime, s", "window_runtimes_s"),
                                 ("throughput, inf./s", "window_throughputs_ips")]),
        ("Energy windows", [("energy, µJ/inf.", "window_energies_uj_per_inf")]),
    ):
        lists = [(label, entry.claimed.get(key) or [], entry.recomputed.get(key) or []) for label, key in columns]
        count = max((max(len(c), len(r)) for _l, c, r in lists), default=0)
        if not count:
            continue
        rows = []
        for i in range(count):
            cells = []
            for _label, c, r in lists:
                cv, rv = (c[i] if i < len(c) else None), (r[i] if i < len(r) else None)
                cells.append({"claimed": format_number(cv, claimed=True), "recomputed": format_number(rv),
                              "delta": relative_difference(cv, rv)})
            rows.append({"number": i + 1, "cells": cells})
        tables[title] = {"columns": [label for label, _c, _r in lists], "rows": rows}
    return tables


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


def build_view(result: CheckResult, strict: bool = False, processes: int = 1, with_plots: bool = True) -> dict:
    """Everything the template shows, as plain data (PNG plots already drawn unless `with_plots`
    is False)."""
    taken: set[str] = set()
    findings_of: dict[str, list[Finding]] = defaultdict(list)
    result_paths = {entry.path for entry in result.results}
    loose: list[Finding] = []
    for finding in result.findings:
        owner = next((p for p in _ancestors(finding.path) if p in result_paths), None)
        (findings_of[owner] if owner else loose).append(finding)

    groups: dict[str, dict] = {}

    def group(name: str) -> dict:
        if name not in groups:
            # a tree that is one submitter folder has the group "."; it is shown by the folder's name
            groups[name] = {"name": Path(result.root).resolve().name if name == "." else name,
                            "anchor": _slug(f"g-{name}", taken), "systems": {}, "loose": defaultdict(list),
                            "counts": {s.value: 0 for s in Severity}, "results": 0, "valid": 0}
        return groups[name]

    submitters = {(s.division, s.name): s for s in result.tree.submitters}
    pending = []  # (plot dict to fill, job)
    for entry in result.results:
        name, _section, _rest = split_path(result, entry.path)
        g = group(name)
        g["results"] += 1
        g["valid"] += entry.valid
        system = g["systems"].get(entry.system)
        if system is None:
            submitter = submitters.get((entry.division, entry.submitter))
            fields = result.system_fields(submitter, entry.system) if submitter else {}
            system = g["systems"][entry.system] = {
                "name": entry.system, "anchor": _slug(f"s-{name}-{entry.system}", taken),
                "fields": [(k, str(fields[k])) for k in SYSTEM_FIELDS if fields.get(k) not in (None, "")],
                "results": []}
        own = sorted(findings_of.get(entry.path, []), key=lambda f: (_SEVERITY_ORDER[f.severity], f.sort_key()))
        scored = result.scored.get(entry.path)
        view = {
            "anchor": _slug(f"r-{entry.path}", taken), "path": entry.path, "benchmark": entry.benchmark,
            "mode": entry.mode, "runner": entry.runner or "unknown", "valid": entry.valid,
            "errors": sum(f.severity is Severity.ERROR for f in own),
            "warnings": sum(f.severity is Severity.WARNING for f in own),
            "metrics": _metric_rows(entry), "windows": _window_rows(entry),
            "findings": [_finding_view(f, f.path[len(entry.path) + 1:] or ".") for f in own],
            "label_source": scored.accuracy.label_source if scored and scored.accuracy else "",
            "plots": [],
        }
        for title, caption, job in plot_jobs(result, entry, scored) if with_plots else []:
            plot = {"title": title, "caption": caption}
            view["plots"].append(plot)
            pending.append((plot, job))
        system["results"].append(view)
    for finding in loose:
        name, section, rest = split_path(result, finding.path)
        group(name)["loose"][section].append(_finding_view(finding, rest))
    for finding in result.findings:
        group(split_path(result, finding.path)[0])["counts"][finding.severity.value] += 1

    for (plot, _job), png in zip(pending, draw_all([job for _plot, job in pending], processes)):
        if png is not None:
            plot["uri"] = data_uri(png)
            plot["width"], plot["height"] = png_size(png)
    for g in groups.values():
        for system in g["systems"].values():
            for view in system["results"]:
                view["plots"] = [p for p in view["plots"] if "uri" in p]

    cited = sorted({f.rule for f in result.findings})
    order = {rule.id: i for i, rule in enumerate(REGISTRY)}
    rules = []
    for rule_id in sorted(cited, key=lambda r: (order.get(r, len(order)), r)):
        rule = REGISTRY.get(rule_id)
        rules.append({"id": rule_id, "anchor": rule_anchor(rule_id), "name": rule.name if rule else "",
                      "title": rule.title if rule else "(a rule this version of submit does not know)",
                      "severity": rule.severity.value if rule else "", "spec": rule.spec if rule else "",
                      "rationale": rule.rationale if rule else "", "fix": rule.fix if rule else "",
                      "count": sum(f.rule == rule_id for f in result.findings)})

    ordered = []
    for name in sorted(groups):
        g = groups[name]
        g["systems"] = list(g["systems"].values())
        g["loose"] = [{"section": s or "(submitter folder)", "findings": fs} for s, fs in sorted(g["loose"].items())]
        ordered.append(g)
    reference = result.reference
    return {
        "tool": result.tool, "root": str(result.root), "ruleset": result.round.ruleset.version,
        "round_note": result.round.note, "status": result.status_line(strict), "verdict": result.verdict(strict),
        "counts": result.counts, "results": len(result.results),
        "valid": sum(e.valid for e in result.results), "elapsed_s": result.elapsed_s,
        "reference": str(reference.root) if reference is not None else None,
        "reference_notes": list(reference.notes) if reference is not None else [],
        "agreement": result.agreement, "groups": ordered, "rules": rules, "strict": strict,
    }


def _ancestors(path: str):
    """`path` and every folder above it, deepest first."""
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        yield "/".join(parts[:end])


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)


def render_html(result: CheckResult, strict: bool = False, processes: int = 1) -> str:
    """The report page of a checked tree; `processes` draw the plots in parallel."""
    return _environment().get_template(TEMPLATE).render(page=build_view(result, strict, processes))
