"""`--format json`: one document following schemas/check_report.schema.json."""

from __future__ import annotations

import json

from submission_tools.check import CheckResult


def report_document(result: CheckResult, strict: bool = False) -> dict:
    return {
        "tool": result.tool,
        "ruleset": result.round.to_dict(),
        "root": str(result.root),
        "strict": strict,
        "verdict": result.verdict(strict),
        "counts": result.counts,
        "elapsed_s": round(result.elapsed_s, 3),
        "reference": result.reference.to_dict() if result.reference else None,
        "results": [entry.to_dict() for entry in result.results],
        "findings": [finding.to_dict() for finding in result.findings],
    }


def render_json(result: CheckResult, strict: bool = False) -> str:
    return json.dumps(report_document(result, strict), indent=2, ensure_ascii=False) + "\n"
