"""`--format json`: one document following schemas/check_report.schema.json."""

from __future__ import annotations

import json
import math

from submission_tools.check import CheckResult


def _finite(value):
    """JSON has no NaN or infinity: a number that is not finite becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def report_document(result: CheckResult, strict: bool = False) -> dict:
    return _finite({
        "tool": result.tool,
        "ruleset": result.round.to_dict(),
        "root": str(result.root),
        "strict": strict,
        "verdict": result.verdict(strict),
        "counts": result.counts,
        "elapsed_s": round(result.elapsed_s, 3),
        "reference": result.reference.to_dict() if result.reference else None,
        "agreement": result.agreement,
        "results": [entry.to_dict() for entry in result.results],
        "findings": [finding.to_dict() for finding in result.findings],
    })


def render_json(result: CheckResult, strict: bool = False) -> str:
    return json.dumps(report_document(result, strict), indent=2, ensure_ascii=False) + "\n"
