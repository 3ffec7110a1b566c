"""The submission manifest of `submit package`: read, validated and turned into plain objects.

The YAML is read once for values and once as nodes, so that every problem names its line:
schema violations (schemas/submission_manifest.schema.json) and what the schema cannot say
(the round's benchmarks and modes, closed versus open requirements, official system fields).
Every problem is collected and reported together; the CLI exits 2 with them.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from submission_tools.errors import UsageError
from submission_tools.package.problems import ManifestError, Problem
from submission_tools.package.schema_problems import kind_of, schema_problems
from submission_tools.package.yamllines import line_of, load_yaml_with_lines, place_of
from submission_tools.rules.system_description import official_fields
from submission_tools.rulesets import Ruleset, load_ruleset
from submission_tools.textio import TextProblem, read_text

MANIFEST_LIMIT = 1024 * 1024
DEVIATION_FIELDS = ("model", "training_data", "training_procedure", "quantization", "numerics", "unchanged")
MODES = ("performance", "accuracy", "energy")


@dataclass(frozen=True)
class Located:
    """A path string from the manifest, with where it was written."""

    value: str
    line: int | None
    where: str


@dataclass
class BenchmarkEntry:
    name: str
    implementation: str
    code: list[Located]
    models: list[Located]
    reference_int8: bool
    sessions: dict[str, Located]  # mode -> session folder
    deviations: dict | None
    line: int | None
    where: str


@dataclass
class SystemEntry:
    id: str
    fields: dict | None  # the description's fields, when given inline
    description_path: Located | None  # or the path of a filled JSON
    benchmarks: dict[str, BenchmarkEntry]
    line: int | None
    where: str


@dataclass
class SubmissionManifest:
    path: Path
    name: str  # how messages name the manifest (its file name)
    root: Path  # the manifest's folder (real path): every input path is relative to it
    sha256: str
    round: str
    ruleset: Ruleset
    division: str
    submitter: str
    checklist: Located
    energy_hookup: Located | None
    notes: str
    systems: list[SystemEntry]
    lines: dict = field(default_factory=dict, repr=False)  # document path tuple -> line

    def line_of(self, *path) -> int | None:
        return self.lines.get(tuple(path))


# ---------------------------------------------------------------------------------------------
# Loading


def load_manifest(path: Path) -> SubmissionManifest:
    """Read and validate a submission manifest; ManifestError (exit 2) lists every problem."""
    name = path.name
    if not path.exists():
        raise UsageError(f"{path}: no such file; give the submission manifest (YAML)")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; give the submission manifest file (YAML)")
    try:
        text = read_text(os.fspath(path), limit=MANIFEST_LIMIT)
    except TextProblem as exc:
        raise ManifestError(name, [Problem(exc.line, "", f"the file {exc}", "save it as UTF-8 YAML")]) from None
    document, lines = load_yaml_with_lines(text, name)
    if not isinstance(document, dict):
        raise ManifestError(name, [Problem(1, "", f"the top level is {kind_of(document)}, expected a mapping",
                                           "start from the example in `submit schema submission_manifest`")])
    problems = schema_problems(document, lines)
    if problems:
        raise ManifestError(name, problems)
    return _build(path, name, text, document, lines)


def _located(lines: dict, path: tuple, value) -> list[Located]:
    if isinstance(value, str):
        return [Located(value, line_of(lines, path), place_of(path))]
    return [Located(v, line_of(lines, path + (i,)), place_of(path + (i,))) for i, v in enumerate(value or [])]


def _build(path: Path, name: str, text: str, doc: dict, lines: dict) -> SubmissionManifest:
    problems: list[Problem] = []
    try:
        ruleset = load_ruleset(doc["round"])
    except UsageError as exc:
        raise ManifestError(name, [Problem(line_of(lines, ("round",)), "round", str(exc).rstrip("."),
                                           "name a supported round, e.g. v1.4")]) from None
    division = doc["division"]
    systems: list[SystemEntry] = []
    seen_ids: dict[str, int | None] = {}
    energy = False
    for s_index, raw in enumerate(doc["systems"]):
        s_path = ("systems", s_index)
        system_id = raw["id"]
        if system_id.lower() in seen_ids:
            first = seen_ids[system_id.lower()]
            problems.append(Problem(line_of(lines, s_path + ("id",)), place_of(s_path + ("id",)),
                                    f"system '{system_id}' is listed twice (also at line {first})",
                                    "give each system once, with all its benchmarks"))
        seen_ids[system_id.lower()] = line_of(lines, s_path + ("id",))
        description = raw["description"]
        fields, description_path = None, None
        if isinstance(description, str):
            description_path = Located(description, line_of(lines, s_path + ("description",)),
                                       place_of(s_path + ("description",)))
        else:
            fields = description
            problems += _field_problems(description, lines, s_path + ("description",), division)
        benchmarks = {}
        for bench, spec in raw["benchmarks"].items():
            b_path = s_path + ("benchmarks", bench)
            entry, bench_problems = _benchmark(bench, spec, lines, b_path, ruleset, division)
            problems += bench_problems
            energy |= "energy" in entry.sessions
            benchmarks[bench] = entry
        systems.append(SystemEntry(id=system_id, fields=fields, description_path=description_path,
                                   benchmarks=benchmarks, line=line_of(lines, s_path), where=place_of(s_path)))
    hookup = doc.get("energy_hookup")
    if energy and hookup is None:
        problems.append(Problem(line_of(lines, ()), "", "energy results are submitted but 'energy_hookup' is missing",
                                "add energy_hookup: PATH (a .pdf, image or text describing the energy wiring)"))
    if problems:
        raise ManifestError(name, problems)
    return SubmissionManifest(
        path=path, name=name, root=Path(os.path.realpath(os.path.dirname(os.path.abspath(path)))),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), round=ruleset.version, ruleset=ruleset,
        division=division, submitter=doc["submitter"],
        checklist=_located(lines, ("checklist",), doc["checklist"])[0],
        energy_hookup=_located(lines, ("energy_hookup",), hookup)[0] if hookup is not None else None,
        notes=doc.get("notes", ""), systems=systems, lines=lines)


def _benchmark(bench: str, spec: dict, lines: dict, b_path: tuple, rs: Ruleset,
               division: str) -> tuple[BenchmarkEntry, list[Problem]]:
    problems: list[Problem] = []
    where, line = place_of(b_path), line_of(lines, b_path)
    if bench not in rs.benchmarks:
        problems.append(Problem(line, where, f"round {rs.version} has no benchmark '{bench}'",
                                f"use one of {', '.join(rs.benchmarks)}, or another round"))
    sessions = {mode: Located(p, line_of(lines, b_path + ("sessions", mode)), place_of(b_path + ("sessions", mode)))
                for mode, p in sorted(spec["sessions"].items(), key=lambda kv: MODES.index(kv[0]))}
    if bench in rs.benchmarks:
        allowed, required = rs.allowed_modes(bench), rs.required_modes(bench)
        for mode in sessions:
            if mode not in allowed:
                problems.append(Problem(sessions[mode].line, sessions[mode].where, f"{bench} has no {mode} mode",
                                        f"{bench} takes {', '.join(allowed)}"))
        missing = [m for m in required if m not in sessions]
        if missing:
            problems.append(Problem(line_of(lines, b_path + ("sessions",)), place_of(b_path + ("sessions",)),
                                    f"no session for the required mode(s) {', '.join(missing)}",
                                    f"add {missing[0]}: SESSION_FOLDER (round {rs.version} requires "
                                    f"{', '.join(required)} for {bench})"))
    code = _located(lines, b_path + ("code",), spec["code"])
    models = _located(lines, b_path + ("models",), spec.get("models"))
    reference_int8 = bool(spec.get("reference_int8", False))
    if division == "closed":
        if not models and not reference_int8:
            problems.append(Problem(line, where, "a closed result must name the model it ran",
                                    "add models: [PATH.tflite] or reference_int8: true"))
        if models and reference_int8:
            problems.append(Problem(line_of(lines, b_path + ("reference_int8",)), where,
                                    "both models and reference_int8 are given", "keep one of them"))
        if "deviations" in spec:
            problems.append(Problem(line_of(lines, b_path + ("deviations",)), where,
                                    "deviations apply to the open division only",
                                    "remove them, or set division: open"))
    else:
        if "deviations" not in spec:
            problems.append(Problem(line, where, "an open result must document its deviations",
                                    f"add deviations: with {', '.join(DEVIATION_FIELDS)}"))
        if reference_int8:
            problems.append(Problem(line_of(lines, b_path + ("reference_int8",)), where,
                                    "reference_int8 applies to the closed division only",
                                    "name the model with models: [PATH] instead"))
    implementation = spec.get("implementation")
    if implementation is None and code:
        implementation = os.path.basename(code[0].value.replace("\\", "/").rstrip("/"))
        if not _portable(implementation):
            problems.append(Problem(code[0].line, where, f"no implementation name, and the code folder's name "
                                                         f"'{implementation}' is not a portable name",
                                    "add implementation: NAME (letters, digits, '.', '_', '-')"))
    return BenchmarkEntry(name=bench, implementation=implementation or "", code=code, models=models,
                          reference_int8=reference_int8, sessions=sessions, deviations=spec.get("deviations"),
                          line=line, where=where), problems


def _portable(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name)) and name not in (".", "..")


def _field_problems(fields: dict, lines: dict, path: tuple, division: str) -> list[Problem]:
    """Inline description fields: official names only (after stripping stray spaces)."""
    problems = []
    official = official_fields()
    seen: dict[str, str] = {}
    for key in fields:
        stripped = key.strip()
        key_line = line_of(lines, path + (key,))
        if stripped not in official:
            near = difflib.get_close_matches(stripped, official, n=1, cutoff=0.6)
            problems.append(Problem(key_line, place_of(path), f"'{key}' is not an official system description field"
                                    + (f" (did you mean '{near[0]}'?)" if near else ""),
                                    "use the names of `submit schema system_description`"))
        elif stripped in seen:
            problems.append(Problem(key_line, place_of(path), f"'{key}' and '{seen[stripped]}' are the same field",
                                    "keep one of them"))
        seen[stripped] = key
    value = fields.get("Division", "")
    if isinstance(value, str) and value.strip() and value.strip().lower() != division:
        problems.append(Problem(line_of(lines, path + ("Division",)), place_of(path),
                                f"Division is '{value}' but the manifest's division is {division}",
                                "remove Division (it defaults to the manifest's) or make them agree"))
    return problems
