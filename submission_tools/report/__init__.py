"""Reporters: each turns a CheckResult into text; none of them decides anything."""

from __future__ import annotations

from submission_tools.report.csv_report import render_csv
from submission_tools.report.github import render_github
from submission_tools.report.json_report import render_json
from submission_tools.report.sarif import render_sarif
from submission_tools.report.text import render_text

FORMATS = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "sarif": render_sarif,
    "github": render_github,
}
