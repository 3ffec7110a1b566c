"""Session folders as `submit package` takes them: which runner wrote one, whether it is complete,
and which of its files go into the results tree.

Three kinds are accepted: `submit run` sessions (MLCommons-runner files plus our manifest.json),
sessions of the MLCommons runner itself (the same files, no manifest.json), and EEMBC
EnergyRunner sessions (log.txt, results.txt, script.async and, in energy mode, the traces).
Only the files the round wants in a mode folder are copied there, plus the energy plots.
Our manifest.json goes to code/provenance/ (see plan.py); the journal stays behind.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from submission_tools.package.manifest import Located
from submission_tools.package.problems import Problem
from submission_tools.rulesets import Ruleset
from submission_tools.runners import EEMBC, MLC, RUNNER_NAMES

SESSION_MANIFEST = "manifest.json"
JOURNAL = "progress.jsonl"
_PLOT = re.compile(r"^energy_inf_\d+\.png$")
_EEMBC_FILE = re.compile(r"^script\.async$|^trace\d+-(energy\.bin|timestamps\.json)$")
_MANIFEST_LIMIT = 64 * 1024 * 1024


@dataclass
class SessionFolder:
    folder: Path
    rel: str  # relative to the manifest's folder
    benchmark: str
    mode: str  # the results mode folder it fills
    runner: str  # EEMBC or MLC
    manifest: dict | None  # our manifest.json, when `submit run` wrote the session
    runner_files: list[str] = field(default_factory=list)  # copied into the mode folder
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (name, why)

    @property
    def runner_name(self) -> str:
        return RUNNER_NAMES[self.runner]


def read_session(folder: Path, rel: str, located: Located, benchmark: str, mode: str,
                 ruleset: Ruleset) -> tuple[SessionFolder | None, list[Problem]]:
    """The session in `folder` for `benchmark`/`mode`, or None with the problems that stop its use."""
    def problem(message: str, fix: str) -> tuple[None, list[Problem]]:
        return None, [Problem(located.line, located.where, message, fix)]

    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return problem(f"the session folder '{rel}' cannot be listed ({exc.strerror or exc})",
                       "fix its permissions")
    eembc = any(_EEMBC_FILE.match(n) for n in names)
    mlc = "results.json" in names or SESSION_MANIFEST in names
    if eembc and mlc:
        return problem(f"'{rel}' holds files of both runners (script.async or traces, and results.json)",
                       "name the folder of one session, as its runner wrote it")
    if not eembc and not mlc:
        return problem(f"'{rel}' is not a session folder: it has neither results.json (MLCommons runner, "
                       "`submit run`) nor script.async (EEMBC EnergyRunner)",
                       "name the folder the runner wrote for this mode")
    runner = EEMBC if eembc else MLC
    manifest = None
    if SESSION_MANIFEST in names:
        manifest, problems = _session_manifest(folder / SESSION_MANIFEST, rel, located, benchmark, mode, ruleset)
        if problems:
            return None, problems
    required = ruleset.required_files[runner][mode]
    missing = [n for n in required if n not in names]
    if missing:
        return problem(f"the session '{rel}' has no {', '.join(missing)}",
                       f"name a complete {RUNNER_NAMES[runner]} session (it writes {', '.join(required)})")
    session = SessionFolder(folder=folder, rel=rel, benchmark=benchmark, mode=mode, runner=runner, manifest=manifest)
    for name in names:
        if name in required or (runner == MLC and _PLOT.match(name)):
            session.runner_files.append(name)
        elif name == SESSION_MANIFEST:
            continue  # copied to code/provenance/ by the plan
        elif name == JOURNAL:
            session.left_out.append((name, "the harness journal; results.json holds the same records"))
        else:
            session.left_out.append((name, f"not a file the round wants in a {mode} folder"))
    return session, []


def _session_manifest(path: Path, rel: str, located: Located, benchmark: str, mode: str,
                      ruleset: Ruleset) -> tuple[dict | None, list[Problem]]:
    def problem(message: str, fix: str) -> tuple[None, list[Problem]]:
        return None, [Problem(located.line, located.where, message, fix)]

    try:
        if os.path.islink(path) or not path.is_file():
            return problem(f"{rel}/{SESSION_MANIFEST} is not a regular file", "name the session `submit run` wrote")
        if path.stat().st_size > _MANIFEST_LIMIT:
            return problem(f"{rel}/{SESSION_MANIFEST} is too large to be a session manifest",
                           "name the session `submit run` wrote")
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return problem(f"{rel}/{SESSION_MANIFEST} cannot be read ({exc})",
                       "name a session `submit run` wrote, unchanged")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files", {}), dict):
        return problem(f"{rel}/{SESSION_MANIFEST} is not a session manifest of `submit run`",
                       "name a session `submit run` wrote, unchanged")
    status = manifest.get("status")
    if status != "complete":
        return problem(f"the session '{rel}' is incomplete: its manifest.json says status '{status}'",
                       f"finish it with `submit run CONFIG --mode {manifest.get('mode', mode)} --resume {rel}`, "
                       "or measure again and name the complete session")
    recorded_mode = manifest.get("mode")
    # sww is measured in the harness's streaming mode, with (energy) or without the monitor.
    if recorded_mode != mode and not (benchmark == "sww" and recorded_mode == "streaming"):
        return problem(f"the session '{rel}' was measured in {recorded_mode} mode, not {mode}",
                       f"name the {mode} session of {benchmark}")
    spec = ruleset.benchmarks.get(benchmark)
    recorded = manifest.get("benchmark")
    if spec is not None and recorded not in (benchmark, spec.model_id):
        return problem(f"the session '{rel}' measured {recorded}, not {benchmark} ({spec.model_id})",
                       f"name a session of {spec.model_id}")
    return manifest, []
