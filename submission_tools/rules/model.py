"""MODEL0xx: closed-division models held to the reference weights (model-equivalence.md 1.6).

Which model a result ran is declared in <division>/<submitter>/code/models.yaml
(schemas/model_manifest); each named .tflite is verified against the round's float reference
from --reference.
"""

from __future__ import annotations

from functools import lru_cache

import jsonschema

from submission_tools.findings import Severity
from submission_tools.resources import load_schema
from submission_tools.rules.base import Rule, register
from submission_tools.yamldoc import load_yaml_document

RULES = ("MLPerf Tiny rules, closed division: the reference model's weights, post-training quantized with the "
         "provided calibration data; no retraining, no weight replacement, no pruning")
MANIFEST = "models.yaml"
ERROR_VERDICTS = ("FAIL", "STRUCTURE_MISMATCH")
REVIEW_VERDICTS = ("WARN_NON_RTN", "WARN_RESCALED")


@lru_cache(maxsize=1)
def _validator():
    return jsonschema.Draft202012Validator(load_schema("model_manifest"))


def manifest_of(ctx, submitter):
    """(manifest entry, parsed document or None, problem or None); (None, None, None) without one."""
    if submitter.code_dir is None:
        return None, None, None
    entry = ctx.tree.index.child(submitter.code_dir.path, MANIFEST)
    if entry is None or not entry.is_file:
        return None, None, None
    document, problem = load_yaml_document(entry.os_path)
    if problem:
        return entry, None, problem
    errors = list(_validator().iter_errors(document))
    if errors:
        first = min(errors, key=lambda e: list(e.absolute_path))
        where = "/".join(str(p) for p in first.absolute_path) or "top level"
        return entry, None, f"does not follow the model manifest format at {where}: {first.message[:160]}"
    return entry, document, None


def entries_for(document, benchmark: str, system: str) -> list[dict]:
    return [m for m in (document or {}).get("models", [])
            if m["benchmark"] == benchmark and ("systems" not in m or system in m["systems"])]


def _closed_units(ctx):
    """(submitter, system name, benchmark) of every closed result."""
    for submitter in ctx.tree.submitters:
        if submitter.division != "closed":
            continue
        for system in submitter.results.values():
            for bench in system.benchmarks:
                if bench in ctx.ruleset.benchmarks:
                    yield submitter, system.name, bench


@register
class ModelNotNamed(Rule):
    id = "MODEL001"
    name = "model.not-named"
    title = "Every closed result names the model it ran"
    severity = Severity.WARNING
    spec = f"{RULES}; code/models.yaml names the .tflite each closed result ran, or says the reference int8 was used."
    rationale = "A model nobody names cannot be checked for retraining, pruning or replaced weights."
    fix = ("Add code/models.yaml (`submit schema model_manifest`) with an entry for the benchmark: its .tflite "
           "under code/, `reference_int8: true`, or the format of a model that is not a .tflite.")

    def check(self, ctx):
        unnamed: dict = {}
        for submitter, system, bench in _closed_units(ctx):
            if submitter.code_dir is None:
                continue  # no code/ at all is TREE014's; the manifest would live there
            entry, document, problem = manifest_of(ctx, submitter)
            if problem:
                continue  # MODEL002
            if entry is None:
                unnamed.setdefault(submitter.path, (submitter, []))[1].append(f"{bench} on '{system}'")
            elif not entries_for(document, bench, system):
                yield self.finding(entry.path, f"no entry names the model of {bench} on '{system}'")
        for submitter, units in unnamed.values():
            yield self.finding(submitter.code_dir.path, f"no code/{MANIFEST}: the models of {len(units)} closed "
                                                        f"result(s) are not named (e.g. {units[0]})")


@register
class ModelManifestInvalid(Rule):
    id = "MODEL002"
    name = "model.manifest-invalid"
    title = "The model manifest is valid and every model it names is a readable file under code/"
    severity = Severity.ERROR
    spec = f"{RULES}; code/models.yaml follows schemas/model_manifest.schema.json."
    rationale = "A manifest that names a missing or unreadable model verifies nothing."
    fix = "Fix the manifest (`submit schema model_manifest`) and name files that exist under code/."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            entry, document, problem = manifest_of(ctx, submitter)
            if entry is None:
                continue
            if problem:
                yield self.finding(entry.path, f"{MANIFEST} {problem}")
                continue
            for number, model in enumerate(document["models"], start=1):
                if "file" not in model:
                    continue
                target = ctx.model_path(submitter, model["file"])
                if target is None:
                    yield self.finding(entry.path, f"model {number}: '{model['file']}' is not a file under code/")
                    continue
                outcome = ctx.verify_model(target, model["benchmark"]) if model.get("format", "tflite") == "tflite" \
                    else None
                if outcome is not None and outcome.problem:
                    yield self.finding(target.path, f"model {number} ({model['benchmark']}): {outcome.problem}")


@register
class ModelNotEquivalent(Rule):
    id = "MODEL003"
    name = "model.not-equivalent"
    title = "A closed model is the reference model, post-training quantized"
    severity = Severity.ERROR
    spec = f"{RULES}; verdicts FAIL and STRUCTURE_MISMATCH of the tiered check (model-equivalence.md 1.6)."
    rationale = "Retrained, pruned or replaced weights make a closed result incomparable with the others."
    fix = "Quantize the reference float model with the provided calibration data, or submit in the open division."

    def check(self, ctx):
        yield from _verdict_findings(self, ctx, ERROR_VERDICTS)


@register
class ModelNeedsReview(Rule):
    id = "MODEL004"
    name = "model.needs-review"
    title = "A closed model whose weights are not plain round-to-nearest quantization is reviewed"
    severity = Severity.WARNING
    spec = f"{RULES}; verdicts WARN_NON_RTN and WARN_RESCALED of the tiered check (model-equivalence.md 1.6)."
    rationale = ("Stochastic rounding, equalization or tiny perturbations cannot be told apart from the weights "
                 "alone; the documented quantization method has to be reproduced by a reviewer.")
    fix = "Document the quantization method in the code README so that reviewers can reproduce the weights."

    def check(self, ctx):
        yield from _verdict_findings(self, ctx, REVIEW_VERDICTS)


def _named_models(ctx):
    """(submitter, manifest entry, model dict, file entry) for every .tflite a valid manifest names."""
    for submitter in ctx.tree.submitters:
        entry, document, problem = manifest_of(ctx, submitter)
        if entry is None or problem:
            continue
        for model in document["models"]:
            if "file" in model and model.get("format", "tflite") == "tflite":
                target = ctx.model_path(submitter, model["file"])
                if target is not None:
                    yield submitter, entry, model, target


def _verdict_findings(rule, ctx, verdicts):
    for submitter, _entry, model, target in _named_models(ctx):
        if submitter.division != "closed":
            continue
        outcome = ctx.verify_model(target, model["benchmark"])
        if outcome is not None and outcome.verdict in verdicts:
            yield rule.finding(target.path, f"{model['benchmark']} model: {outcome.verdict} against the reference "
                                            f"float model ({outcome.summary})", recomputed=outcome.verdict)


@register
class ModelUnnamedFile(Rule):
    id = "MODEL005"
    name = "model.unnamed-file"
    title = "Every .tflite under code/ is named by the model manifest"
    severity = Severity.WARNING
    spec = f"{RULES}; code/models.yaml names the models the results ran."
    rationale = "A model file nothing names is either unused or the model a result really ran."
    fix = "Name it in code/models.yaml for the results that ran it, or remove it."

    def check(self, ctx):
        named = {target.path for _s, _e, _m, target in _named_models(ctx)}
        for submitter in ctx.tree.submitters:
            if submitter.code_dir is None:
                continue
            for item in ctx.tree.index.descendants(submitter.code_dir.path):
                if item.is_file and item.name.lower().endswith(".tflite") and item.path not in named:
                    yield self.finding(item.path, f"'{item.name}' is not named in code/{MANIFEST}")


@register
class ModelNotVerifiable(Rule):
    id = "MODEL006"
    name = "model.not-verifiable"
    title = "Closed models that cannot be verified are said so"
    severity = Severity.INFO
    spec = f"{RULES}; only .tflite models can be compared with the reference weights here."
    rationale = "A reviewer must know which closed models were verified and which were not."
    fix = "Provide the .tflite the model was built from, and pass --reference to verify it."

    def check(self, ctx):
        for submitter in ctx.tree.submitters:
            if submitter.division != "closed":
                continue
            entry, document, problem = manifest_of(ctx, submitter)
            if entry is None or problem:
                continue
            for model in document["models"]:
                if model.get("format", "tflite") != "tflite":
                    yield self.finding(entry.path, f"{model['benchmark']}: a {model['format']} model cannot be "
                                                   f"compared with the reference weights")
                elif "file" in model and ctx.reference is None:
                    yield self.finding(entry.path, f"{model['benchmark']}: '{model['file']}' not verified; "
                                                   f"pass --reference")
