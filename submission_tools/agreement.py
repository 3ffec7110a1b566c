"""Claimed versus recomputed, counted per metric: the agreement table of a checked tree.

Each claimed number the runner printed is compared with its recomputation at the printed
precision (EEMBC energy: within the trace's one-sample edge tolerance). A metric is
"not recomputable" when the claim exists but the raw data for it does not.
"""

from __future__ import annotations

import math
from collections import Counter

from submission_tools.scoring.energy import eembc_tolerance
from submission_tools.scoring.sww import runner_text

AGREED, DIFFERENT, MISSING = "agreed", "different", "not recomputable"


def _energy_agrees(scored, claim, window) -> bool:
    if scored.run.runner == "eembc":
        return window.edge_shift is not None or (
            claim.energy_uj is not None
            and abs(window.energy_uj - claim.energy_uj.value) <= eembc_tolerance(window) * abs(window.energy_uj))
    return claim.energy_per_inf_uj.agrees(window.energy_per_inf_uj)


def agreement_table(scored_runs) -> Counter:
    """Counter of (metric, verdict) over the ScoredRun of every checked mode folder."""
    table: Counter = Counter()

    def count(metric, printed, value, agrees=None):
        if printed is None:
            return
        if value is None or (isinstance(value, float) and math.isnan(value)):
            table[(metric, MISSING)] += 1
        else:
            ok = printed.agrees(value) if agrees is None else agrees
            table[(metric, AGREED if ok else DIFFERENT)] += 1

    for scored in scored_runs:
        run, claims = scored.run, scored.run.claims
        if run.mode == "performance" and scored.benchmark != "sww":
            count("median throughput", claims.median_throughput, scored.median_throughput)
            claimed = list(claims.windows.values())
            for i, claim in enumerate(claimed):
                value = scored.window_throughputs[i] if i < len(scored.window_throughputs) else None
                count("window throughput", claim.throughput, value)
        if run.mode == "accuracy" and scored.accuracy is not None:
            a = scored.accuracy
            is_eembc_ad = run.runner == "eembc" and scored.benchmark == "ad"
            count("Top-1", claims.top1_pct, None if is_eembc_ad else a.top1_pct)
            count("AUC (runner's algorithm)", claims.auc, a.auc if is_eembc_ad else a.auc_runner)
        elif run.mode == "accuracy":
            count("Top-1", claims.top1_pct, None)
            count("AUC (runner's algorithm)", claims.auc, None)
        if run.mode == "energy":
            windows = {w.number: w for w in scored.energy.windows} if scored.energy else {}
            median = scored.energy.median_energy_per_inf_uj if scored.energy else None
            if claims.median_energy_uj is not None:
                tolerance = max((eembc_tolerance(w) for w in windows.values()), default=0) if run.runner == "eembc" else 0
                count("median energy", claims.median_energy_uj, median,
                      None if median is None else (claims.median_energy_uj.agrees(median)
                                                   or abs(median - claims.median_energy_uj.value) <= tolerance * abs(median)))
            for number, claim in claims.energy_windows.items():
                window = windows.get(number)
                if claim.energy_per_inf_uj is not None:
                    count("window energy", claim.energy_per_inf_uj, window.energy_per_inf_uj if window else None,
                          None if window is None else _energy_agrees(scored, claim, window))
        if scored.sww is not None and claims.sww_tp is not None:
            score = scored.sww.score
            if score is None:
                table[("sww TP/FN/FP", MISSING)] += 1
            else:
                same = (claims.sww_tp, claims.sww_fn, claims.sww_fp) == (score.tp, score.fn, score.fp)
                table[("sww TP/FN/FP", AGREED if same else DIFFERENT)] += 1
            duty = scored.sww.duty
            if claims.duty_cycle is not None:
                if duty is None:
                    table[("sww duty cycle", MISSING)] += 1
                else:
                    same = runner_text(duty.duty_cycle) == claims.duty_cycle.text
                    table[("sww duty cycle", AGREED if same else DIFFERENT)] += 1
    return table


def agreement_rows(table: Counter) -> list[dict]:
    """The table as rows {metric, agreed, different, not_recomputable}, in a stable order."""
    metrics = sorted({metric for metric, _ in table})
    return [{"metric": m, "agreed": table[(m, AGREED)], "different": table[(m, DIFFERENT)],
             "not_recomputable": table[(m, MISSING)]} for m in metrics]
