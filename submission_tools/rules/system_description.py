"""SYS0xx: the system description JSON files in systems/ (official field set: schemas/system_description)."""

from __future__ import annotations

import json
import re
from functools import lru_cache

import jsonschema

from submission_tools.findings import Severity
from submission_tools.resources import load_schema
from submission_tools.rules.base import Rule, register

TEMPLATE = "system_description_template.json of the results repository (v0.5 to v1.3)"
# Template fill-ins; "N/A" and "none" are left alone: they are real answers for some systems.
_PLACEHOLDER = re.compile(r"^\s*(tbd|todo|fixme|xxx+|\?+|-+|<[^>]*>|\[[^\]]*\])\s*$", re.I)
_CANONICAL_STATUS = {"available": "Available", "preview": "Preview", "rdi": "RDI"}


def _system_jsons(ctx):
    """(submitter, LoadedJson) for every *.json directly in a systems/ folder."""
    for submitter in ctx.tree.submitters:
        for name, entry in sorted(submitter.system_files.items()):
            if entry.is_file and name.lower().endswith(".json") and not name.startswith("._"):
                yield submitter, ctx.load_json(entry)


def _fields(ctx):
    """(submitter, LoadedJson, fields with keys stripped of stray spaces) for readable descriptions."""
    for submitter, loaded in _system_jsons(ctx):
        if loaded.fields is not None:
            yield submitter, loaded, normalised_fields(loaded.fields)


def normalised_fields(fields: dict) -> dict:
    """Keys without surrounding white space; an exact key wins over a padded twin."""
    out = {}
    for key, value in fields.items():
        if key.strip() not in out or key == key.strip():
            out[key.strip()] = value
    return out


def _key_line(loaded, key: str) -> int | None:
    """Line of the occurrence of a top-level field that readers keep (the last one)."""
    if loaded.parsed is None:
        return None
    places = [p for p in loaded.parsed.keys if p.pointer == "" and p.key.strip() == key]
    exact = [p for p in places if p.key == key]
    chosen = (exact or places)[-1:]
    return chosen[0].line if chosen else None


@lru_cache(maxsize=1)
def _schema():
    schema = load_schema("system_description")
    return schema, jsonschema.Draft202012Validator(schema)


def official_fields() -> list[str]:
    return list(_schema()[0]["properties"])


def required_fields() -> list[str]:
    return list(_schema()[0]["required"])


def json_kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "null")


@register
class InvalidJson(Rule):
    id = "SYS001"
    name = "sys.invalid-json"
    title = "System descriptions are valid JSON objects"
    severity = Severity.ERROR
    spec = "directory_structure.adoc: <system_desc_id>.json combines hardware and software stack information."
    rationale = "A description that does not parse drops the system from every results table and tool."
    fix = "Fix the JSON at the line and column given (a missing comma or quote is the usual cause)."

    def check(self, ctx):
        for _submitter, loaded in _system_jsons(ctx):
            if loaded.problem:
                where = f" (line {loaded.line}, column {loaded.column})" if loaded.line else ""
                yield self.finding(loaded.entry.path, f"{loaded.entry.name} {loaded.problem}{where}",
                                   line=loaded.line, column=loaded.column)
            elif loaded.fields is None:
                yield self.finding(loaded.entry.path,
                                   f"top level is {json_kind(loaded.value)}, expected an object of fields",
                                   "Start from the round's system_description_template.json.")


@register
class DuplicateKey(Rule):
    id = "SYS002"
    name = "sys.duplicate-key"
    title = "No key appears twice in a system description"
    severity = Severity.ERROR
    spec = f"RFC 8259 (names within an object should be unique); {TEMPLATE} repeats four software keys."
    rationale = ("JSON readers keep only one of the two values, silently; which one differs between tools, "
                 "so the published table may show the empty template value instead of yours.")
    fix = "Keep one occurrence of the key with the right value and delete the other."

    def check(self, ctx):
        for _submitter, loaded in _system_jsons(ctx):
            if loaded.parsed is None:
                continue
            for dup in loaded.parsed.duplicates:
                first, second = dup.first, dup.second
                where = f" in {first.pointer}" if first.pointer else ""
                lost = ""
                if dup.first_value != dup.second_value:
                    lost = (f"; readers keep line {second.line} ({_short(dup.second_value)}) and lose "
                            f"line {first.line} ({_short(dup.first_value)})")
                yield self.finding(loaded.entry.path,
                                   f"key '{first.key}'{where} appears twice, at lines {first.line} and "
                                   f"{second.line}{lost}", line=second.line, column=second.column)


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


@register
class KeyWhitespace(Rule):
    id = "SYS003"
    name = "sys.key-whitespace"
    title = "Keys have no leading or trailing spaces"
    severity = Severity.WARNING
    spec = f"{TEMPLATE}: its \"Operating System \" key has a trailing space next to \"Operating System\"."
    rationale = "A padded key is a different key: tools looking for \"Operating System\" find nothing."
    fix = "Remove the spaces around the key name."

    def check(self, ctx):
        for _submitter, loaded in _system_jsons(ctx):
            if loaded.parsed is None:
                continue
            for place in loaded.parsed.keys:
                if place.key != place.key.strip():
                    yield self.finding(loaded.entry.path, f"key {place.key!r} has stray white space",
                                       f"Rename it to \"{place.key.strip()}\".", line=place.line, column=place.column)


@register
class RequiredField(Rule):
    id = "SYS004"
    name = "sys.required-field"
    title = "The fields the results table needs are present and filled in"
    severity = Severity.ERROR
    spec = (f"{TEMPLATE}; the official checker copies Submitter, Status, Division, Board Name, Processor(s) Name, "
            "Processor(s) Frequencies and Inference Framework into the published results table.")
    rationale = "An empty or placeholder value shows up as a blank or 'TBD' in the published results."
    fix = "Fill in the field with the real value (schema: `submit schema system_description`)."

    def check(self, ctx):
        _schema_doc, validator = _schema()
        for _submitter, loaded, fields in _fields(ctx):
            path = loaded.entry.path
            for error in sorted(validator.iter_errors(fields), key=lambda e: list(e.path)):
                if error.validator == "required":
                    missing = error.message.split("'")[1]
                    yield self.finding(path, f"field '{missing}' is missing",
                                       f"Add \"{missing}\": \"...\" with the real value.")
                    continue
                key = str(error.path[0]) if error.path else ""
                if error.validator == "minLength":
                    message = f"field '{key}' is empty"
                elif error.validator == "type":
                    message = f"field '{key}' is {type(error.instance).__name__}, expected {error.validator_value}"
                else:
                    message = f"field '{key}': {error.message}"
                yield self.finding(path, message, line=_key_line(loaded, key))
            for key in required_fields():
                value = fields.get(key)
                if isinstance(value, str) and value and _PLACEHOLDER.match(value):
                    yield self.finding(path, f"field '{key}' holds a placeholder ({value!r})",
                                       line=_key_line(loaded, key))


@register
class MissingOfficialField(Rule):
    id = "SYS005"
    name = "sys.missing-official-field"
    title = "Every field of the official template is present"
    severity = Severity.WARNING
    spec = f"{TEMPLATE}: the field set every system description follows."
    rationale = "Missing fields make systems hard to compare; an empty string says 'not applicable' explicitly."
    fix = "Add the missing fields, with an empty string where a field does not apply."

    def check(self, ctx):
        required = set(required_fields())
        for _submitter, loaded, fields in _fields(ctx):
            missing = [k for k in official_fields() if k not in fields and k not in required]
            if missing:
                yield self.finding(loaded.entry.path, f"{len(missing)} official field(s) missing: {', '.join(missing)}")


@register
class UnknownField(Rule):
    id = "SYS006"
    name = "sys.unknown-field"
    title = "Fields outside the official set are noted"
    severity = Severity.INFO
    spec = f"{TEMPLATE}: the field set every system description follows."
    rationale = "An unknown field is often a misspelt official one whose value then never reaches the results table."
    fix = "Check the spelling against `submit schema system_description`; keep the field only if it is deliberate."

    def check(self, ctx):
        official = set(official_fields())
        for _submitter, loaded, fields in _fields(ctx):
            for key in fields:
                if key not in official:
                    yield self.finding(loaded.entry.path, f"field '{key}' is not in the official set",
                                       line=_key_line(loaded, key))


@register
class DivisionMismatch(Rule):
    id = "SYS007"
    name = "sys.division-mismatch"
    title = "\"Division\" matches the division folder"
    severity = Severity.ERROR
    spec = "MLPerf Tiny rules, Divisions: a result is closed or open; directory_structure.adoc places it by folder."
    rationale = ("The published table takes the division from the folder while the description says otherwise; "
                 "one of them misstates which rules the result was held to.")
    fix = "Make \"Division\" say the folder's division, or move the system to the other division."

    def check(self, ctx):
        for submitter, loaded, fields in _fields(ctx):
            value = fields.get("Division")
            if not submitter.division or not isinstance(value, str) or not value.strip():
                continue
            if value.strip().lower() != submitter.division:
                yield self.finding(loaded.entry.path, f"\"Division\" is '{value}' but the file is under {submitter.division}/",
                                   claimed=value, recomputed=submitter.division, line=_key_line(loaded, "Division"))


@register
class InvalidStatus(Rule):
    id = "SYS008"
    name = "sys.invalid-status"
    title = "\"Status\" is Available, Preview or RDI"
    severity = Severity.ERROR
    spec = "MLPerf Tiny rules, Divisions / availability: every system is Available, Preview, or RDI."
    rationale = "The availability category decides how a result may be compared and cited."
    fix = "Set \"Status\" to Available, Preview or RDI."

    def check(self, ctx):
        for _submitter, loaded, fields in _fields(ctx):
            value = fields.get("Status")
            if isinstance(value, str) and value.strip() and value.strip().lower() not in _CANONICAL_STATUS:
                yield self.finding(loaded.entry.path, f"\"Status\" is '{value}', not Available, Preview or RDI",
                                   line=_key_line(loaded, "Status"))


@register
class StatusCase(Rule):
    id = "SYS009"
    name = "sys.status-case"
    title = "\"Status\" is written in its canonical case"
    severity = Severity.WARNING
    spec = "MLPerf Tiny rules: the categories are Available, Preview and RDI."
    rationale = "Case variants (rdi, available) split one category into several in tables built from the files."
    fix = "Write the category exactly as Available, Preview or RDI."

    def check(self, ctx):
        for _submitter, loaded, fields in _fields(ctx):
            value = fields.get("Status")
            if not isinstance(value, str):
                continue
            canonical = _CANONICAL_STATUS.get(value.strip().lower())
            if canonical and value != canonical:
                yield self.finding(loaded.entry.path, f"\"Status\" is '{value}', canonical form is '{canonical}'",
                                   f"Write \"Status\": \"{canonical}\".", line=_key_line(loaded, "Status"))


def _name_tokens(text: str) -> tuple[str, set[str]]:
    lowered = text.lower()
    return re.sub(r"[^a-z0-9]", "", lowered), {t for t in re.split(r"[^a-z0-9]+", lowered) if t}


def submitter_matches(value: str, folder: str) -> bool:
    """Same organisation, allowing case, separators and a legal-name form ('Robert Bosch GmbH' for bosch)."""
    value_flat, value_tokens = _name_tokens(value)
    folder_flat, folder_tokens = _name_tokens(folder)
    return (value_flat == folder_flat or folder_flat in value_tokens or value_flat in folder_tokens)


@register
class SubmitterMismatch(Rule):
    id = "SYS010"
    name = "sys.submitter-mismatch"
    title = "\"Submitter\" names the organisation of the folder"
    severity = Severity.WARNING
    spec = "directory_structure.adoc: <division>/<submitting_organization>/systems/<system_desc_id>.json."
    rationale = "A description naming another organisation is usually copied from someone else's submission."
    fix = "Set \"Submitter\" to the organisation the folder belongs to (or rename the folder)."

    def check(self, ctx):
        for submitter, loaded, fields in _fields(ctx):
            value = fields.get("Submitter")
            if isinstance(value, str) and value.strip() and not submitter_matches(value, submitter.name):
                yield self.finding(loaded.entry.path, f"\"Submitter\" is '{value}' but the folder is '{submitter.name}'",
                                   line=_key_line(loaded, "Submitter"))
