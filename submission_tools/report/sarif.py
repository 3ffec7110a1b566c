"""`--format sarif`: SARIF 2.1.0 for code-scanning upload (one run, every rule described)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from submission_tools.check import CheckResult
from submission_tools.findings import Severity
from submission_tools.rules import REGISTRY

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
INFORMATION_URI = "https://github.com/mlcommons/tiny"


def _rule_descriptor(rule) -> dict:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.spec} {rule.rationale}"},
        "help": {"text": f"How to fix: {rule.fix}",
                 "markdown": f"**Rule:** {rule.spec}\n\n**Why:** {rule.rationale}\n\n**Fix:** {rule.fix}"},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {"family": rule.family},
    }


def sarif_document(result: CheckResult) -> dict:
    rules = list(REGISTRY)
    index = {rule.id: i for i, rule in enumerate(rules)}
    results = []
    for finding in result.findings:
        uri = quote(finding.path, safe="/") if finding.path != "." else "./"
        location: dict = {"artifactLocation": {"uri": uri, "uriBaseId": "ROOT"}}
        if finding.line:
            region = {"startLine": finding.line}
            if finding.column:
                region["startColumn"] = finding.column
            location["region"] = region
        text = finding.message + (f" (how to fix: {finding.hint})" if finding.hint else "")
        entry = {
            "ruleId": finding.rule,
            "level": _LEVEL[finding.severity],
            "message": {"text": text},
            "locations": [{"physicalLocation": location}],
        }
        if finding.rule in index:
            entry["ruleIndex"] = index[finding.rule]
        results.append(entry)
    root_uri = Path(result.root).resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "submit", "version": result.tool["version"],
                                "informationUri": INFORMATION_URI,
                                "rules": [_rule_descriptor(rule) for rule in rules]}},
            "originalUriBaseIds": {"ROOT": {"uri": root_uri}},
            "results": results,
            "properties": {"ruleset": result.round.ruleset.version, "verdict": result.verdict()},
        }],
    }


def render_sarif(result: CheckResult, strict: bool = False) -> str:
    return json.dumps(sarif_document(result), indent=2, ensure_ascii=False) + "\n"
