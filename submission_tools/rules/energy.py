"""ENERGY0xx: energy claims held to the trace (EEMBC) or the samples (MLCommons runner)."""

from __future__ import annotations

import math

from submission_tools.findings import Severity
from submission_tools.rules.base import Rule, register, results_txt_path
from submission_tools.scoring.energy import eembc_tolerance

RULES = "MLPerf Tiny rules, Measurement (energy)"
MIN_WINDOW_S = 10.0


def _energy_runs(ctx):
    """(mode folder, ScoredRun) for energy runs whose measurements could be read."""
    for _submitter, _system, bench, mode in ctx.known_modes():
        if mode.name == "energy":
            scored = ctx.scored_run(mode, bench)
            if scored is not None and scored.energy is not None:
                yield mode, scored


def _data_file(mode, scored) -> str:
    files = scored.run.files
    return f"{mode.path}/{files.get('timestamps') or files.get('results_json') or 'results.json'}"


@register
class EnergyWindowCount(Rule):
    id = "ENERGY001"
    name = "energy.window-count"
    title = "An energy run has exactly 5 windows (sww: 1) and the edges that delimit them"
    severity = Severity.ERROR
    spec = (f"{RULES}: the median of 5 windows (sww: one 1200 s window); EEMBC traces carry 2*5+1 timestamps "
            "(protocol.md 6.3).")
    rationale = ("A missing timestamp edge silently pairs every later window with the wrong edges, so the "
                 "runner reports download gaps as inferences and the median still looks plausible.")
    fix = "Measure again; check the timestamp wiring between the DUT and the energy monitor."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            if scored.benchmark == "sww" and scored.run.runner != "mlc":
                continue  # sww exists only on the MLCommons runner (RUN001); its window count is moot
            expected = 1 if scored.benchmark == "sww" else 5
            count = len(scored.energy.windows)
            stamps = scored.run.trace_timestamps_s
            if stamps is not None and len(stamps) != 2 * expected + 1:
                yield self.finding(_data_file(mode, scored),
                                   f"{len(stamps)} timestamps, expected 2*{expected}+1 = {2 * expected + 1}: "
                                   f"the windows pair the wrong edges", claimed=None, recomputed=len(stamps))
            elif count != expected:
                yield self.finding(_data_file(mode, scored), f"{count} energy window(s), expected {expected}",
                                   recomputed=count)


@register
class EnergyWindowTooShort(Rule):
    id = "ENERGY002"
    name = "energy.window-too-short"
    title = "Every energy window lasts at least 10 s"
    severity = Severity.ERROR
    spec = f"{RULES}: every measured window at least 10 seconds."
    rationale = "Short windows let the edges and the monitor's resolution dominate the energy per inference."
    fix = "Raise the inference count of the energy run so each window lasts over 10 s."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            short = [w for w in scored.energy.windows
                     if not math.isnan(w.duration_s) and w.duration_s < MIN_WINDOW_S]
            if short:
                shortest = min(short, key=lambda w: w.duration_s)
                yield self.finding(_data_file(mode, scored),
                                   f"{len(short)} of {len(scored.energy.windows)} window(s) last less than 10 s "
                                   f"(window {shortest.number}: {shortest.duration_s:.3f} s)",
                                   recomputed=[round(w.duration_s, 6) for w in scored.energy.windows])


@register
class EnergyClaimMismatch(Rule):
    id = "ENERGY003"
    name = "energy.window-claim-mismatch"
    title = "Each window's claimed energy, power and energy per inference follow from the measurements"
    severity = Severity.ERROR
    spec = (f"{RULES}; EEMBC: E = sum of trace samples between the window's edges (protocol.md 6.2, one sample "
            "of edge tolerance); MLCommons: the samples between the last two events of each trial (4.3).")
    rationale = "An energy figure the raw samples do not give was edited or belongs to another measurement."
    fix = "Submit the results.txt and trace (or results.json) of the same energy session, unedited."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            claims = scored.run.claims.energy_windows
            windows = {w.number: w for w in scored.energy.windows}
            for number, claim in claims.items():
                window = windows.get(number)
                if window is None or claim.energy_per_inf_uj is None:
                    continue
                if scored.run.runner == "eembc":
                    if window.edge_shift is not None:
                        continue  # reproduced exactly with at most one sample per edge
                    value, printed = window.energy_uj, claim.energy_uj
                    if printed is None or abs(value - printed.value) <= eembc_tolerance(window) * abs(value):
                        continue
                    text = f"window {number}: claimed energy {printed.text} µJ, the trace gives {value:.3f} µJ"
                else:
                    value, printed = window.energy_per_inf_uj, claim.energy_per_inf_uj
                    if printed.agrees(value):
                        continue
                    text = f"trial {number}: claimed {printed.text} µJ/inf, the samples give {value:.3f}"
                yield self.finding(results_txt_path(mode, scored), text, line=printed.line,
                                   claimed=printed.value, recomputed=value)


@register
class EnergyMedianMismatch(Rule):
    id = "ENERGY004"
    name = "energy.median-mismatch"
    title = "The claimed median energy per inference follows from the measurements"
    severity = Severity.ERROR
    spec = f"{RULES}: the energy score is the median energy per inference of the windows."
    rationale = "The median is the published energy score; it must follow from the raw samples."
    fix = "Submit the runner's unedited results.txt next to its trace or results.json."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            printed = scored.run.claims.median_energy_uj
            value = scored.energy.median_energy_per_inf_uj
            if value is None or math.isnan(value) or "results_txt" not in scored.run.files:
                continue
            if printed is None:
                yield self.finding(results_txt_path(mode, scored), "results.txt has no 'Median energy cost' line",
                                   recomputed=value)
                continue
            tolerance = max(eembc_tolerance(w) for w in scored.energy.windows) if scored.run.runner == "eembc" else 0
            if not printed.agrees(value) and abs(value - printed.value) > tolerance * abs(value):
                yield self.finding(results_txt_path(mode, scored),
                                   f"claimed median {printed.text} µJ/inf, the measurements give {value:.3f}",
                                   line=printed.line, claimed=printed.value, recomputed=value)


@register
class EnergyTimestampsInvalid(Rule):
    id = "ENERGY005"
    name = "energy.timestamps-invalid"
    title = "Timestamps and events are in order and inside the measurement"
    severity = Severity.ERROR
    spec = f"{RULES}; protocol.md 4.3 (consecutive event counters) and 6.1 (edge times within the trace)."
    rationale = "Edges out of order or outside the trace make the energy windows meaningless."
    fix = "Measure again; the energy monitor lost or reordered edges."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            for problem in scored.energy.problems:
                if "timestamps instead of" in problem:
                    continue  # ENERGY001
                yield self.finding(_data_file(mode, scored), problem)


@register
class EnergyWindowMisaligned(Rule):
    id = "ENERGY006"
    name = "energy.window-misaligned"
    title = "Each EEMBC energy window lines up with the DUT's own inference in log.txt"
    severity = Severity.ERROR
    spec = f"{RULES}; protocol.md 6.3: a window's trace duration equals the DUT's infer duration in log.txt."
    rationale = "A window that does not match the inference it claims to measure measured something else."
    fix = "Measure again; check that the timestamp pin toggles exactly at the start and end of inference."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            where = f"{mode.path}/{scored.run.files.get('timestamps', 'trace1-timestamps.json')}"
            for row in scored.energy.alignment:
                if row.ok or row.trace_duration_s is None:
                    continue  # a window missing from the trace is ENERGY001's
                if row.log_duration_s is None:
                    yield self.finding(where, f"window {row.number}: log.txt has no m-infer-start and m-infer-done "
                                              f"for it, so the trace window cannot be tied to an inference")
                    continue
                yield self.finding(where, f"window {row.number}: {row.trace_duration_s:.3f} s in the trace but "
                                          f"{row.log_duration_s:.3f} s between m-infer-start and m-infer-done in log.txt",
                                   claimed=row.trace_duration_s, recomputed=row.log_duration_s)


@register
class EnergyNanSamples(Rule):
    id = "ENERGY007"
    name = "energy.nan-samples"
    title = "No missing (NaN) samples inside an energy window"
    severity = Severity.ERROR
    spec = f"{RULES}; every sample of the window is summed."
    rationale = "A missing sample makes the window's energy undefined (the runner prints nan or drops it)."
    fix = "Measure again; the monitor dropped samples."

    def check(self, ctx):
        for mode, scored in _energy_runs(ctx):
            for window in scored.energy.windows:
                if window.nan_samples:
                    yield self.finding(_data_file(mode, scored),
                                       f"window {window.number} holds {window.nan_samples} NaN sample(s)")
