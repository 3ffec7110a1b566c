"""MLCommons runner results.json (formats.md 3.3): validated against schemas/mlc_results first.

Python's json writes NaN for missing power samples; they are read as NaN and left for the
energy rules to report, never silently summed.
"""

from __future__ import annotations

import json
from functools import lru_cache

import jsonschema

from submission_tools.resources import load_schema
from submission_tools.runmodel import EnergyTrial, ParseProblem, Run, SwwRun, Window
from submission_tools.textio import TextProblem, decode_text


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(load_schema("mlc_results"))


_BULK = ("samples",)  # long number lists: checked below, far faster than item by item in jsonschema


def _without_bulk(records):
    """The records with power sample lists emptied, for schema validation of everything else."""
    if not isinstance(records, list):
        return records
    out = []
    for record in records:
        power = record.get("power") if isinstance(record, dict) else None
        if isinstance(power, dict) and isinstance(power.get("samples"), list):
            record = {**record, "power": {**power, "samples": []}}
        out.append(record)
    return out


class _BulkError:
    def __init__(self, path, message):
        self.absolute_path, self.message = path, message


def _bulk_errors(records) -> list:
    errors = []
    if not isinstance(records, list):
        return errors
    for position, record in enumerate(records):
        power = record.get("power") if isinstance(record, dict) else None
        samples = power.get("samples") if isinstance(power, dict) else None
        if isinstance(samples, list) and not all(
                v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in samples):
            errors.append(_BulkError([position, "power", "samples"], "samples must all be numbers"))
    return errors


def parse_mlc_results_json(data: bytes, run: Run, name: str = "results.json") -> None:
    run.sources.append(name)
    try:
        records = json.loads(decode_text(data))
    except (TextProblem, ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "line", None)
        run.problems.append(ParseProblem(name, f"is not valid JSON ({exc})", line))
        return
    errors = sorted(_validator().iter_errors(_without_bulk(records)), key=lambda e: list(e.absolute_path))
    errors += _bulk_errors(records)
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "top level"
        run.problems.append(ParseProblem(
            name, f"does not follow the MLCommons runner format at {where}: {first.message[:200]} "
                  f"({len(errors)} problem(s); `submit schema mlc_results` describes the format)"))
        return
    for position, record in enumerate(records):
        if "error" in record:
            run.claims.runner_errors.append((0, f"results.json: {record['error']}"))
            continue
        infer = record["infer"]
        if "detections" in infer:
            duty = record.get("dutycycle", {})
            run.sww = SwwRun(
                detections_ms=[int(d) for d in infer.get("detections", [])],
                detection_windows=[(float(a), float(b)) for a, b in infer.get("detection_windows", [])],
                start_times_s=list(duty.get("start_times_s", [])),
                stop_times_s=list(duty.get("stop_times_s", [])),
                length_s=infer.get("length_sec"),
            )
            continue
        window = Window(index=len(run.windows) + 1, line=position + 1,
                        iterations=int(infer.get("iterations", 1)), warmups=int(infer.get("warmups", 0)),
                        input_file=record.get("file"))
        if record.get("bytes_to_send") not in (None, ""):
            window.length = int(record["bytes_to_send"])
        if "start_time" in infer and "end_time" in infer:
            window.laps_us = [int(infer["start_time"]), int(infer["end_time"])]
            window.runtime_us = window.laps_us[1] - window.laps_us[0]
        outputs = infer.get("results")
        if outputs is not None:
            window.outputs = [float("nan") if v is None else float(v) for v in outputs]
            window.outputs_text = ",".join(str(v) for v in outputs)
        if record.get("class") not in (None, ""):
            window.label = int(record["class"])
        run.windows.append(window)
        power = record.get("power")
        if power is not None:
            run.energy_trials.append(EnergyTrial(
                samples_j=[float("nan") if v is None else float(v) for v in power["samples"]],
                events=[(str(c), int(i)) for c, i in power["timestamps"]],
                iterations=window.iterations))
