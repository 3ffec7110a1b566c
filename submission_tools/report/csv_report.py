"""`--format csv`: one row per system and benchmark, the official summary.csv columns first.

The official checker (tools/submission/submission_checker.py) writes these columns; ours
follow them, then what this tool adds (round, runner, validity, counts, recomputed values).
Result, Accuracy and Power are the runner's claims; the Recomputed* columns are ours.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict

from submission_tools.check import CheckResult
from submission_tools.findings import Severity

OFFICIAL_COLUMNS = [
    "Organization", "Availability", "Division", "BoardName", "SystemDesc", "Model", "MlperfModel",
    "Result", "ResultUnit", "Accuracy", "HasPower", "Power", "PowerUnit",
    "HostProcessorModelName", "HostProcessorFrequency", "HostProcessorMemory",
    "AcceleratorModelName", "AcceleratorFrequency", "AcceleratorMemory", "HardwareNotes",
    "InferenceFramework", "SoftwareLibraries", "SoftwareNotes",
]
OUR_COLUMNS = ["Round", "Runner", "Modes", "Valid", "Errors", "Warnings",
               "RecomputedResult", "RecomputedAccuracy", "RecomputedPower", "Path"]
_SYSTEM_FIELDS = {
    "BoardName": "Board Name", "HostProcessorModelName": "Processor(s) Name",
    "HostProcessorFrequency": "Processor(s) Frequencies", "HostProcessorMemory": "Processor memory type and capacity",
    "AcceleratorModelName": "Accelerator", "AcceleratorFrequency": "Accelerator(s) Frequencies",
    "AcceleratorMemory": "Accelerator memory type and capacity", "HardwareNotes": "Hardware Notes",
    "InferenceFramework": "Inference Framework", "SoftwareLibraries": "Software Libraries",
    "SoftwareNotes": "Software Notes",
}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def summary_records(result: CheckResult) -> list[dict]:
    """One record per system and benchmark, keyed by OFFICIAL_COLUMNS + OUR_COLUMNS, values as
    Python values (None, numbers, strings, lists); `render_csv` turns them into cells. The
    extra record key "_entries" holds the ResultEntry objects of the row (not a column)."""
    records = []
    by_unit: dict[tuple, list] = defaultdict(list)
    for entry in result.results:
        by_unit[(entry.division, entry.submitter, entry.system, entry.benchmark)].append(entry)
    submitters = {(s.division, s.name): s for s in result.tree.submitters}
    for (division, submitter, system, benchmark), entries in by_unit.items():
        unit_path = entries[0].path.rsplit("/", 1)[0]
        fields = result.system_fields(submitters[(division, submitter)], system)
        errors = sum(1 for f in result.findings if f.severity is Severity.ERROR and _within(f.path, unit_path))
        warnings = sum(1 for f in result.findings if f.severity is Severity.WARNING and _within(f.path, unit_path))
        spec = result.round.ruleset.benchmarks.get(benchmark)
        claimed = {k: v for e in entries for k, v in e.claimed.items()}
        recomputed = {k: v for e in entries for k, v in e.recomputed.items()}
        has_energy = any(e.mode == "energy" for e in entries)
        accuracy_key = "auc" if spec and spec.metric == "auc" else "top1_pct"
        row = {
            "Organization": submitter, "Availability": fields.get("Status"), "Division": division,
            "SystemDesc": system, "Model": benchmark, "MlperfModel": spec.model_id if spec else "",
            "Result": claimed.get("throughput_ips"), "ResultUnit": "inf./sec.",
            "Accuracy": claimed.get(accuracy_key), "HasPower": str(has_energy),
            "Power": claimed.get("energy_uj_per_inf"), "PowerUnit": "uJ/inf." if has_energy else "",
            "Round": result.round.ruleset.version,
            "Runner": "/".join(sorted({e.runner for e in entries if e.runner})),
            "Modes": "/".join(sorted(e.mode for e in entries)),
            "Valid": str(all(e.valid for e in entries)), "Errors": errors, "Warnings": warnings,
            "RecomputedResult": recomputed.get("throughput_ips"),
            "RecomputedAccuracy": recomputed.get(accuracy_key),
            "RecomputedPower": recomputed.get("energy_uj_per_inf"),
            "Path": unit_path,
        }
        for column, field in _SYSTEM_FIELDS.items():
            row[column] = fields.get(field)
        row["_entries"] = entries
        records.append(row)
    return records


def render_csv(result: CheckResult, strict: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=OFFICIAL_COLUMNS + OUR_COLUMNS, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for record in summary_records(result):
        writer.writerow({column: _cell(record.get(column)) for column in OFFICIAL_COLUMNS + OUR_COLUMNS})
    return buffer.getvalue()


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")
