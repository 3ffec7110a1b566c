"""System descriptions as `submit package` writes them: the official field set, nothing else.

Fields come inline from the manifest or from a filled JSON, which may have been copied from the
official template: a key repeated with the same value, or padded with a space ("Operating
System "), is the official field; a key repeated with two values, or outside the official set,
is a problem (exit 2). Submitter and Division default to the manifest's, Status is written in
its canonical case.
"""

from __future__ import annotations

import os

from submission_tools.package.problems import Problem
from submission_tools.package.safety import ScannedFile
from submission_tools.rules.system_description import official_fields
from submission_tools.strictjson import JsonProblem, parse_strict_json
from submission_tools.textio import TextProblem, read_text

_CANONICAL_STATUS = {"available": "Available", "preview": "Preview", "rdi": "RDI"}
_EMPTY = ("", None)


def complete_fields(raw: dict, manifest) -> dict:
    """Keys stripped, Submitter and Division filled in from the manifest, Status canonical."""
    fields = {key.strip(): value for key, value in raw.items()}
    if not str(fields.get("Submitter", "")).strip():
        fields["Submitter"] = manifest.submitter
    if not str(fields.get("Division", "")).strip():
        fields["Division"] = manifest.division
    status = fields.get("Status")
    if isinstance(status, str) and status.strip().lower() in _CANONICAL_STATUS:
        fields["Status"] = _CANONICAL_STATUS[status.strip().lower()]
    return fields


def fields_from_file(scanned: ScannedFile, division: str) -> tuple[dict | None, list[Problem]]:
    """The fields of a filled system description JSON, or None with the problems found in it."""
    rel = scanned.rel
    try:
        parsed = parse_strict_json(read_text(os.fspath(scanned.source), limit=1024 * 1024))
    except TextProblem as exc:
        return None, [Problem(exc.line, "", f"the system description {exc}", "save it as UTF-8 JSON", rel)]
    except JsonProblem as exc:
        return None, [Problem(exc.line, "", f"the system description is not valid JSON: {exc.message}",
                              "fix the JSON at that line (a missing comma or quote is the usual cause)", rel)]
    if not isinstance(parsed.value, dict):
        return None, [Problem(1, "", "the system description is not a JSON object of fields",
                              "start from `submit schema system_description`", rel)]
    problems = []
    for dup in parsed.duplicates:
        if dup.first.pointer == "" and dup.first_value != dup.second_value:
            problems.append(Problem(dup.second.line, "", f"'{dup.first.key}' is given twice with different values "
                                                         f"(lines {dup.first.line} and {dup.second.line})",
                                    "keep the right value once", rel))
    fields: dict = {}
    official = official_fields()
    for place in parsed.keys:
        if place.pointer != "":
            continue
        key, stripped = place.key, place.key.strip()
        value = parsed.value[key]
        if stripped not in official:
            problems.append(Problem(place.line, "", f"'{key}' is not an official system description field",
                                    "use the names of `submit schema system_description`", rel))
        elif stripped in fields and fields[stripped] != value and value not in _EMPTY \
                and fields[stripped] not in _EMPTY:
            problems.append(Problem(place.line, "", f"'{key}' and '{stripped}' hold different values",
                                    "keep one of them", rel))
        elif stripped not in fields or fields[stripped] in _EMPTY:
            fields[stripped] = value
    value = fields.get("Division")
    if isinstance(value, str) and value.strip() and value.strip().lower() != division:
        place = parsed.last_place("Division")
        problems.append(Problem(place.line if place else None, "", f"Division is '{value}' but the manifest's "
                                                                   f"division is {division}", "make them agree", rel))
    return (None, problems) if problems else (fields, [])
