"""results.txt of both runners (formats.md 2.2 and 3.2): the claims a run makes.

Repeated blocks (v0.7 Andes repeats every line, v1.2 bosch every block) are de-duplicated by
window number: the first block of a number counts, later ones are counted as duplicates.
"""

from __future__ import annotations

import re

from submission_tools.logs.lines import numbered_lines
from submission_tools.runmodel import Claims, ClaimedEnergyWindow, ClaimedWindow, Printed

NUM = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_PERF_WINDOW = re.compile(r"Performance results for window (\d{1,9})")
_INFERENCES = re.compile(r"# Inferences\s*:\s*(\d{1,15})")
_RUNTIME = re.compile(rf"Runtime\s*:\s*{NUM} sec")
_THROUGHPUT = re.compile(rf"Throughput\s*:\s*{NUM} inf\./sec")
_MET = re.compile(r"Runtime requirements have been met")
_MEDIAN = re.compile(rf"Median throughput is\s*{NUM} inf\./sec")
_TOP1 = re.compile(rf"Top[- ]1(?:%\s*=|:)\s*{NUM}")
_AUC = re.compile(rf"AUC\s*[:=]\s*{NUM}")
_EEMBC_ENERGY = re.compile(rf"Energy data for window (\d{{1,9}}) at time {NUM} for {NUM} sec")
_MLC_ENERGY = re.compile(r"Energy data for trial (\d{1,9})")
_ENERGY = re.compile(rf"(?<!Total )Energy\s*:\s*{NUM} uJ")
_TOTAL_ENERGY = re.compile(rf"Total Energy\s*:\s*{NUM} uJ")
_POWER = re.compile(rf"Power\s*:\s*{NUM} (uW|mW)")
_ENERGY_PER_INF = re.compile(rf"Energy/Inf\.?\s*:\s*{NUM} uJ/inf")
_ELAPSED = re.compile(rf"Elapsed time\s*:\s*{NUM}")
_ENERGY_INFERENCES = re.compile(r"^\s*(?:\S+ \S+: )?\s*Inferences\s*:\s*(\d{1,15})")
_MEDIAN_ENERGY = re.compile(rf"Median energy cost is\s*{NUM} uJ/inf")
_SWW = re.compile(r"Accuracy: (\d{1,9}) True positives, (\d{1,9}) False negatives, (\d{1,9}) False positives")
_DUTY = re.compile(rf"Average duty cycle:\s*{NUM}")
_PERIOD = re.compile(rf"Average period:\s*{NUM} s")
_SWW_THROUGHPUT = re.compile(rf"Estimated throughput:\s*{NUM} inf\./sec")
_RUNNER_ERROR = re.compile(r"(?<![\w-])(e-\[[^\]]{0,1024}\]|ERROR\b.{0,1024})")


def _printed(match: re.Match, group: int, line: int) -> Printed:
    text = match.group(group)
    return Printed(float(text), text, line)


def parse_results_txt(data: bytes) -> Claims:
    claims = Claims()
    window: ClaimedWindow | None = None
    energy: ClaimedEnergyWindow | None = None
    seen_windows: set[int] = set()
    seen_energy: set[int] = set()
    previous = None
    for number, line in numbered_lines(data):
        if line.strip() and line == previous:
            # v0.7 Andes files repeat every line 2-5 times in a row: one line, one claim.
            claims.repeated_lines += 1
            continue
        previous = line
        if m := _PERF_WINDOW.search(line):
            key = int(m.group(1))
            energy = None
            if key in seen_windows:
                claims.duplicated_blocks += 1
                window = None  # ignore the repeated block
                continue
            seen_windows.add(key)
            window = claims.windows[key] = ClaimedWindow(number=key, line=number)
            continue
        if m := _EEMBC_ENERGY.search(line):
            window = None
            energy = _open_energy(claims, seen_energy, int(m.group(1)), number)
            if energy is not None:
                energy.start_s, energy.duration_s = _printed(m, 2, number), _printed(m, 3, number)
                energy.power_unit = "uW"
            continue
        if m := _MLC_ENERGY.search(line):
            window = None
            energy = _open_energy(claims, seen_energy, int(m.group(1)), number)
            if energy is not None:
                energy.power_unit = "mW"
            continue
        if m := _RUNNER_ERROR.search(line):
            claims.runner_errors.append((number, m.group(1).strip()))
            if window is not None and m.group(1).startswith("e-["):
                window.error = m.group(1)
        if window is not None:
            if m := _INFERENCES.search(line):
                window.iterations = int(m.group(1))
            elif m := _RUNTIME.search(line):
                window.runtime_s = _printed(m, 1, number)
            elif m := _THROUGHPUT.search(line):
                window.throughput = _printed(m, 1, number)
            elif _MET.search(line):
                window.requirements_met = True
        if energy is not None:
            if m := _TOTAL_ENERGY.search(line):
                energy.energy_uj = _printed(m, 1, number)
            elif m := _ENERGY_PER_INF.search(line):
                energy.energy_per_inf_uj = _printed(m, 1, number)
            elif m := _ENERGY.search(line):
                energy.energy_uj = _printed(m, 1, number)
            elif m := _POWER.search(line):
                energy.power = _printed(m, 1, number)
            elif m := _ELAPSED.search(line):
                energy.duration_s = _printed(m, 1, number)
            elif m := _ENERGY_INFERENCES.search(line):
                energy.iterations = int(m.group(1))
        if m := _MEDIAN.search(line):
            claims.median_throughput = claims.median_throughput or _printed(m, 1, number)
            window = None
        elif m := _MEDIAN_ENERGY.search(line):
            claims.median_energy_uj = claims.median_energy_uj or _printed(m, 1, number)
            energy = None
        elif m := _TOP1.search(line):
            claims.top1_pct = _printed(m, 1, number)  # the last one wins, as in the official checker
        elif m := _AUC.search(line):
            claims.auc = _printed(m, 1, number)
        elif m := _SWW.search(line):
            claims.sww_tp, claims.sww_fn, claims.sww_fp = (int(g) for g in m.groups())
            claims.sww_line = number
        elif m := _DUTY.search(line):
            claims.duty_cycle = _printed(m, 1, number)
        elif m := _PERIOD.search(line):
            claims.period_s = _printed(m, 1, number)
        elif m := _SWW_THROUGHPUT.search(line):
            claims.sww_throughput = _printed(m, 1, number)
    return claims


def _open_energy(claims: Claims, seen: set[int], key: int, line: int) -> ClaimedEnergyWindow | None:
    if key in seen:
        claims.duplicated_blocks += 1
        return None
    seen.add(key)
    claims.energy_windows[key] = ClaimedEnergyWindow(number=key, line=line)
    return claims.energy_windows[key]
