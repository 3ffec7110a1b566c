"""Schema violations of a submission manifest, said plainly: what is wrong, where, how to fix it.

jsonschema's own messages name validators ("is not valid under any of the given schemas"); these
name the manifest's keys and the forms they accept, with a suggestion for a misspelt key.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

import jsonschema

from submission_tools.package.problems import Problem
from submission_tools.package.yamllines import line_of, place_of
from submission_tools.resources import load_schema


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(load_schema("submission_manifest"))


_EXPECTED = {
    ("benchmark", "code"): "a folder path, or a list of folder paths",
    ("benchmark", "models"): "a file path, or a list of file paths",
    ("system", "description"): "the path of a filled system description JSON, or a mapping of its fields",
}
_TYPES = {"string": "a string", "object": "a mapping", "array": "a list", "boolean": "true or false",
          "integer": "a whole number", "number": "a number", "null": "nothing"}


def kind_of(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _schema_problem(error, lines: dict) -> Problem:
    path = tuple(error.absolute_path)
    where = place_of(path)
    line = line_of(lines, path)
    validator = error.validator
    instance = error.instance
    if validator == "required":
        missing = error.message.split("'")[1]
        return Problem(line, where, f"'{missing}' is missing",
                       f"add {missing}: ... (`submit schema submission_manifest` describes it)")
    if validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        extra = sorted(set(instance) - set(known)) if isinstance(instance, dict) else []
        problems = []
        for key in extra:
            near = difflib.get_close_matches(str(key), known, n=1)
            problems.append(f"unknown key '{key}'" + (f" (did you mean '{near[0]}'?)" if near else ""))
        key_line = line_of(lines, path + (extra[0],)) if extra else line
        return Problem(key_line, where, "; ".join(problems) or error.message,
                       f"use only {', '.join(known)}")
    if validator in ("oneOf", "anyOf"):
        last = path[-1] if path else ""
        expected = _EXPECTED.get(("system" if last == "description" else "benchmark", last), "another form")
        return Problem(line, where, f"is {kind_of(instance)}, expected {expected}",
                       "see `submit schema submission_manifest`")
    if validator == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        expected = " or ".join(_TYPES.get(w, w) for w in wanted)
        return Problem(line, where, f"is {kind_of(instance)}, expected {expected}",
                       "quote paths and text, and indent mappings under their key")
    if validator == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return Problem(line, where, f"'{instance}' is not one of {allowed}", f"write one of {allowed}")
    if validator == "propertyNames":
        bad = error.instance
        return Problem(line_of(lines, path + (bad,)) or line, where, f"'{bad}' is not allowed here",
                       f"use one of {', '.join(error.validator_value.get('enum', []))}")
    if validator == "pattern":
        return Problem(line, where, f"'{instance}' is not a portable name",
                       "use letters, digits, '.', '_' and '-' only, starting with a letter or digit")
    if validator in ("minLength", "minItems", "minProperties"):
        return Problem(line, where, "is empty", "fill it in, or remove the key")
    if validator == "const":
        return Problem(line, where, f"is {instance!r}, expected {error.validator_value!r}",
                       "write true, or remove the key")
    if validator == "maxLength":
        return Problem(line, where, "is too long", "shorten it")
    return Problem(line, where, error.message, "see `submit schema submission_manifest`")


def _best_errors(errors) -> list:
    """One error per place: for a oneOf, the branch error that says the most."""
    out = []
    for error in errors:
        if error.validator in ("oneOf", "anyOf") and error.context:
            # If the value has the shape of one branch, report what is wrong inside that branch.
            deeper = [e for e in error.context if len(e.absolute_path) > len(error.absolute_path)]
            if deeper:
                out.extend(_best_errors(deeper))
                continue
        out.append(error)
    return out


def schema_problems(document, lines: dict) -> list[Problem]:
    """Every schema violation of `document`, one per place, in document order."""
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    out: list[Problem] = []
    for problem in (_schema_problem(e, lines) for e in _best_errors(errors)):
        if problem not in out:
            out.append(problem)
    return out
