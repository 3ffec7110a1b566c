"""Reading a mode folder into a Run, whichever runner wrote it (parsers in logs/)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from submission_tools.logs.eembc_log import parse_eembc_log
from submission_tools.reference import sha256_of
from submission_tools.logs.energy_trace import TraceProblem, read_energy_trace, read_trace_timestamps
from submission_tools.scoring.sww import parse_detections_from_log
from submission_tools.logs.mlc_results_json import parse_mlc_results_json
from submission_tools.logs.results_txt import parse_results_txt
from submission_tools.runmodel import ParseProblem, Run
from submission_tools.runners import EEMBC, MLC
from submission_tools.tree import ModeDir

# Traces are compared byte for byte (RUN006) up to this size; a larger one is not hashed.
TRACE_DIGEST_LIMIT = 256 * 1024 * 1024
_MLC_SESSION = re.compile(r"sessions[\\/](\d{8})_(\d{6})")


def _file(mode: ModeDir, name: str):
    """A runner file, also under the v0.5-style prefixed name (performance_log.txt)."""
    return mode.files.get(name) or mode.files.get(f"{mode.name}_{name}")


def _read(run: Run, mode: ModeDir, name: str, role: str, max_bytes: int) -> bytes | None:
    entry = _file(mode, name)
    if entry is None:
        return None
    run.files[role] = entry.name
    if entry.size > max_bytes:
        run.problems.append(ParseProblem(entry.name, f"is {entry.size / 1048576:.0f} MiB, over the size limit; "
                                                     "not read"))
        return None
    try:
        with open(entry.os_path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        run.problems.append(ParseProblem(entry.name, f"cannot be read ({exc.strerror or exc})"))
        return None
    run.digests[role] = hashlib.sha256(data).hexdigest()
    return data


def _read_trace(run: Run, mode: ModeDir) -> None:
    """The EEMBC trace (memory-mapped, never read whole) and its timestamps."""
    for role, name, reader in (("trace", "trace1-energy.bin", read_energy_trace),
                               ("timestamps", "trace1-timestamps.json", read_trace_timestamps)):
        entry = mode.files.get(name)
        if entry is None:
            continue
        run.files[role] = entry.name
        try:
            value = reader(entry.os_path)
        except TraceProblem as exc:
            message = str(exc)
            if message.startswith(entry.os_path):  # the reader names the file; the finding does too
                message = message[len(entry.os_path):].lstrip(": ")
            run.problems.append(ParseProblem(entry.name, message))
            continue
        if role == "trace":
            run.trace = value
            if entry.size <= TRACE_DIGEST_LIMIT:
                run.digests[role] = sha256_of(Path(entry.os_path))
        else:
            run.trace_timestamps_s = value


def timing_file_parsed(run: Run) -> bool:
    """True when the file the windows come from (EEMBC log.txt, MLC results.json) was read and
    parsed without a problem: a run without windows then really logged none."""
    name = run.files.get("results_json" if run.runner == MLC else "log")
    return name is not None and not any(problem.file == name for problem in run.problems)


def load_run(mode: ModeDir, runner: str | None, max_bytes: int) -> Run:
    """Parse every file of a mode folder that the runner wrote. Problems go to `run.problems`."""
    run = Run(mode=mode.name, runner=runner or "unknown")
    results_txt = _read(run, mode, "results.txt", "results_txt", max_bytes)
    if results_txt is not None:
        run.claims = parse_results_txt(results_txt)
    if runner == EEMBC:
        log = _read(run, mode, "log.txt", "log", max_bytes)
        if log is not None:
            parse_eembc_log(log, run, run.files["log"])
        if mode.name == "energy":
            _read_trace(run, mode)
    elif runner == MLC:
        records = _read(run, mode, "results.json", "results_json", max_bytes)
        if records is not None:
            parse_mlc_results_json(records, run, run.files["results_json"])
        log = _read(run, mode, "log.txt", "log", max_bytes)
        if log is not None:
            if run.sww is None and (detections := parse_detections_from_log(log.decode("utf-8", "replace"))):
                run.sww_detections_from_log = detections
            match = _MLC_SESSION.search(log[:4096].decode("utf-8", "replace"))
            if match:
                run.session_id = match.group(1) + match.group(2)
    return run
