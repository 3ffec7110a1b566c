"""MLCommons runner results.json (formats.md 3.3): validated against schemas/mlc_results first.

Python's json writes NaN for missing power samples; they are read as NaN and left for the
energy rules to report, never silently summed.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import jsonschema

from submission_tools.logs.eembc_log import lap_span
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
    segments_seen: dict[str | None, int] = {}
    for position, record in enumerate(records):
        if "error" in record:
            run.claims.runner_errors.append((0, f"results.json: {record['error']}"))
            continue
        infer = record["infer"]
        if "detections" in infer:
            duty = record.get("dutycycle", {})
            detections = [_int(d) for d in infer.get("detections", [])]
            if any(d is None for d in detections):
                run.problems.append(ParseProblem(name, f"record {position + 1}: detections that are not finite numbers"))
            run.sww = SwwRun(
                detections_ms=[d for d in detections if d is not None],
                detection_windows=[(_float(a), _float(b)) for a, b in infer.get("detection_windows", [])],
                start_times_s=list(duty.get("start_times_s", [])),
                stop_times_s=list(duty.get("stop_times_s", [])),
                length_s=infer.get("length_sec"),
            )
            power = record.get("power")
            if power is not None:  # sww energy: one trial over the whole wav
                run.energy_trials.append(_trial(power, int(infer.get("iterations", 1))))
            continue
        window = Window(index=len(run.windows) + 1, line=position + 1,
                        iterations=int(infer.get("iterations", 1)), warmups=int(infer.get("warmups", 0)),
                        input_file=record.get("file"))
        length = _int(record.get("bytes_to_send"))
        if length is not None:
            # AD: records of one file are its segments in order; the offset is not stored, so it is
            # derived from the position of the record among the file's records and the stride.
            window.length = length
            stride = _int(record.get("stride")) or length
            segment = segments_seen.get(window.input_file, 0)
            segments_seen[window.input_file] = segment + 1
            window.offset = segment * stride
        if "start_time" in infer and "end_time" in infer:
            window.laps_us = [int(infer["start_time"]), int(infer["end_time"])]
            window.runtime_us = lap_span(window.laps_us)
            if window.runtime_us is None:
                run.problems.append(ParseProblem(name, f"record {position + 1}: end_time comes before start_time"))
        outputs = infer.get("results")
        if outputs is not None:
            window.outputs = [_float(v) for v in outputs]
            window.outputs_text = ",".join(str(v) for v in outputs)
        window.label = _int(record.get("class"))
        run.windows.append(window)
        power = record.get("power")
        if power is not None:
            run.energy_trials.append(_trial(power, window.iterations))


def _float(value) -> float:
    """A JSON number as a float; null, or an integer beyond float range, is NaN (not a crash)."""
    try:
        return float("nan") if value is None else float(value)
    except (OverflowError, ValueError, TypeError):
        return float("nan")


def _int(value) -> int | None:
    """An integer the runner wrote as a number or a string ("2560"); None when it is neither."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None  # "²".isdigit() too


def _trial(power: dict, iterations: int) -> EnergyTrial:
    return EnergyTrial(samples_j=[_float(v) for v in power["samples"]],
                       events=[(str(c), int(i)) for c, i in power["timestamps"]], iterations=iterations)
