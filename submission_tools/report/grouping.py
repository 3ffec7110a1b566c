"""Where a finding belongs for display: its submitter, and the system/benchmark (or part) inside it."""

from __future__ import annotations

from submission_tools.check import CheckResult

# How many leading path components name the submitter, by tree layout.
_SUBMITTER_DEPTH = {"repository": 2, "division": 1, "submitter": 0}


def split_path(result: CheckResult, path: str) -> tuple[str, str, str]:
    """(submitter group, section inside it, rest) for a finding path."""
    depth = _SUBMITTER_DEPTH[result.tree.layout]
    parts = [] if path == "." else path.split("/")
    if len(parts) < depth:
        return "(tree)", "", path
    submitter = "/".join(parts[:depth]) or "."
    inner = parts[depth:]
    if len(inner) >= 3 and inner[0] == "results":
        return submitter, "/".join(inner[:3]), "/".join(inner[3:])
    if inner:
        return submitter, inner[0], "/".join(inner[1:])
    return submitter, "", ""
