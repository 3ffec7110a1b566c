"""OPEN0xx: the deviations an open-division result must document (schemas/deviations).

The document is <division>/<submitter>/code/deviations.yaml (template: templates/deviations.yaml).
Accuracy in the open division is reported, not gated (ACC006 and SWW002 apply to closed only);
the accuracy dataset is still the closed one (ACC002 applies to both divisions).
"""

from __future__ import annotations

import re
from functools import lru_cache

import jsonschema

from submission_tools.findings import Severity
from submission_tools.resources import load_schema
from submission_tools.rules.base import Rule, register
from submission_tools.yamldoc import load_yaml_document

RULES = "MLPerf Tiny rules, Divisions (open): every deviation from the reference must be documented"
DEVIATIONS = "deviations.yaml"
_PLACEHOLDER = re.compile(r"^\s*(tbd|todo|xxx+|\.\.\.|-+|n/?a|<[^>]*>)\s*$|^(Architecture and size|Data used for "
                          r"training|Optimizer, epochs|Method, bit widths|Arithmetic on the device|Task, accuracy "
                          r"dataset \(y_labels)", re.I)


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(load_schema("deviations"))


def _open_submitters(ctx):
    for submitter in ctx.tree.submitters:
        if submitter.division == "open" and submitter.results:
            yield submitter


def deviations_entry(ctx, submitter):
    """The submitter's code/deviations.yaml entry, or None."""
    if submitter.code_dir is None:
        return None
    entry = ctx.tree.index.child(submitter.code_dir.path, DEVIATIONS)
    return entry if entry is not None and entry.is_file else None


def load_deviations(entry) -> tuple[object, str | None]:
    """(parsed document, problem) of a deviations file."""
    return load_yaml_document(entry.os_path)


@register
class DeviationsMissing(Rule):
    id = "OPEN001"
    name = "open.deviations-missing"
    title = "Open-division results document their deviations"
    severity = Severity.ERROR
    spec = f"{RULES}; the document is code/deviations.yaml (template: templates/deviations.yaml)."
    rationale = "An open result is only comparable when readers know what differs from the reference."
    fix = "Copy templates/deviations.yaml to code/deviations.yaml and describe every benchmark you submit."

    def check(self, ctx):
        for submitter in _open_submitters(ctx):
            entry = deviations_entry(ctx, submitter)
            if entry is None:
                where = submitter.code_dir.path if submitter.code_dir else submitter.path
                yield self.finding(where, f"open submitter '{submitter.name}' has no code/{DEVIATIONS}")
                continue
            document, problem = load_deviations(entry)
            if problem:
                continue  # an unreadable document is OPEN002's
            covered = _covered(document)
            for system in submitter.results.values():
                for bench in system.benchmarks:
                    if bench in ctx.ruleset.benchmarks and (bench, system.name) not in covered \
                            and (bench, None) not in covered:
                        yield self.finding(entry.path, f"no deviation entry covers {bench} on system '{system.name}'",
                                           f"Add an entry with benchmarks: [{bench}] to {DEVIATIONS}.")


def _covered(document) -> set[tuple[str, str | None]]:
    covered = set()
    if isinstance(document, dict) and isinstance(document.get("deviations"), list):
        for item in document["deviations"]:
            if not isinstance(item, dict) or not isinstance(item.get("benchmarks"), list):
                continue
            systems = item.get("systems") if isinstance(item.get("systems"), list) else [None]
            covered |= {(str(b), s) for b in item["benchmarks"] for s in systems}
    return covered


@register
class DeviationsIncomplete(Rule):
    id = "OPEN002"
    name = "open.deviations-incomplete"
    title = "The deviations document is valid and every field is filled in"
    severity = Severity.ERROR
    spec = f"{RULES}: model, training data, training procedure, quantization, numerics, and what is unchanged."
    rationale = "A field left empty or at the template's text documents nothing."
    fix = "Fill in every field (`submit schema deviations` lists them); write 'unchanged: ...' where nothing changed."

    def check(self, ctx):
        for submitter in _open_submitters(ctx):
            entry = deviations_entry(ctx, submitter)
            if entry is None:
                continue
            document, problem = load_deviations(entry)
            if problem:
                yield self.finding(entry.path, f"{DEVIATIONS} {problem}")
                continue
            for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path)):
                where = "/".join(str(p) for p in error.absolute_path) or "top level"
                yield self.finding(entry.path, f"{where}: {error.message}")
            items = document.get("deviations") if isinstance(document, dict) else None
            for item_number, item in enumerate(items if isinstance(items, list) else [], start=1):
                if not isinstance(item, dict):
                    continue
                for field, value in item.items():
                    if isinstance(value, str) and _PLACEHOLDER.search(value):
                        yield self.finding(entry.path, f"deviation {item_number}: '{field}' still holds template "
                                                       f"or placeholder text ({value[:40]!r})")
