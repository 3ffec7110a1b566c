"""`--format github`: GitHub Actions workflow commands, one annotation per finding."""

from __future__ import annotations

import os
from pathlib import Path

from submission_tools.check import CheckResult
from submission_tools.findings import Severity
from submission_tools.rules import REGISTRY

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _workspace_path(result: CheckResult, path: str) -> str:
    """The finding's path as GitHub wants it: relative to the workspace (the current folder)."""
    full = Path(result.root) / ("" if path == "." else path)
    try:
        return Path(os.path.relpath(full.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return full.resolve().as_posix()


def render_github(result: CheckResult, strict: bool = False) -> str:
    lines = []
    for finding in result.findings:
        rule = REGISTRY.get(finding.rule)
        props = [f"file={_escape_property(_workspace_path(result, finding.path))}"]
        if finding.line:
            props.append(f"line={finding.line}")
            if finding.column:
                props.append(f"col={finding.column}")
        title = f"{finding.rule} {rule.title}" if rule else finding.rule
        props.append(f"title={_escape_property(title)}")
        message = finding.message + (f"\n{finding.hint}" if finding.hint else "")
        lines.append(f"::{_COMMAND[finding.severity]} {','.join(props)}::{_escape_data(message)}")
    counts = result.counts
    lines.append(f"{result.status_line(strict)}: {counts['error']} errors, {counts['warning']} warnings, "
                 f"{counts['info']} info (rule set {result.round.ruleset.version})")
    return "\n".join(lines) + "\n"
