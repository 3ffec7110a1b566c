"""Human report: findings grouped by submitter and system/benchmark, a summary table, the verdict."""

from __future__ import annotations

import io
from collections import defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from submission_tools.check import CheckResult
from submission_tools.findings import Severity
from submission_tools.report.grouping import split_path

_MARK = {Severity.ERROR: ("✗", "bold red"), Severity.WARNING: ("!", "yellow"), Severity.INFO: ("i", "cyan")}
_VERDICT_STYLE = {"PASSED": "bold green", "PASSED with warnings": "bold yellow", "FAILED": "bold red"}


def render_text(result: CheckResult, strict: bool = False, color: bool = False, width: int = 110) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width,
                      highlight=False, emoji=False, soft_wrap=True)
    console.print(Text(f"submit {result.tool['version']}: checking {result.root}", style="bold"))
    console.print(f"Rule set {result.round.ruleset.version}: {result.round.note}")
    if result.reference is not None:
        console.print(f"Reference: {result.reference.root}")
        for note in result.reference.notes:
            console.print(Text(f"  note: {note}", style="yellow"))

    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for finding in result.findings:
        submitter, section, rest = split_path(result, finding.path)
        groups[submitter][section].append((rest, finding))
    for submitter in sorted(groups):
        console.print()
        console.print(Text(submitter, style="bold underline"))
        for section in sorted(groups[submitter]):
            if section:
                console.print(Text(f"  {section}", style="bold"))
            for rest, finding in groups[submitter][section]:
                mark, style = _MARK[finding.severity]
                where = rest + (f":{finding.line}" if finding.line else "")
                line = Text("    ")
                line.append(f"{mark} {finding.rule}", style=style)
                line.append(f"  {where + '  ' if where else ''}{finding.message}")
                console.print(line)
                if finding.hint:
                    console.print(Text(f"        → {finding.hint}", style="dim"))

    console.print()
    console.print(_summary_table(result))
    if result.agreement:
        console.print(_agreement_table(result))
    counts = result.counts
    status = result.status_line(strict)
    verdict = Text(status, style=_VERDICT_STYLE[status])
    verdict.append(f": {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info "
                   f"({len(result.results)} results, rule set {result.round.ruleset.version}, "
                   f"{result.elapsed_s:.2f} s)", style="")
    if strict and counts["warning"] and not counts["error"]:
        verdict.append(" — --strict counts warnings as failures")
    console.print(verdict)
    return buffer.getvalue()


def _agreement_table(result: CheckResult) -> Table:
    table = Table(title="Claims recomputed from the raw files", title_justify="left", show_edge=False)
    for column, justify in (("metric", "left"), ("agreed", "right"), ("different", "right"),
                            ("not recomputable", "right")):
        table.add_column(column, justify=justify)
    for row in result.agreement:
        table.add_row(row["metric"], str(row["agreed"]), str(row["different"]), str(row["not_recomputable"]))
    return table


def _summary_table(result: CheckResult) -> Table:
    table = Table(title="Summary", title_justify="left", show_edge=False)
    for column, justify in (("submitter", "left"), ("systems", "right"), ("results", "right"),
                            ("valid", "right"), ("errors", "right"), ("warnings", "right"), ("info", "right")):
        table.add_column(column, justify=justify)
    rows: dict[str, dict] = defaultdict(lambda: {"systems": set(), "results": 0, "valid": 0,
                                                   "error": 0, "warning": 0, "info": 0})
    for entry in result.results:
        submitter, _section, _rest = split_path(result, entry.path)
        row = rows[submitter]
        row["systems"].add(entry.system)
        row["results"] += 1
        row["valid"] += entry.valid
    for finding in result.findings:
        submitter, _section, _rest = split_path(result, finding.path)
        rows[submitter][finding.severity.value] += 1
    for submitter in sorted(rows):
        row = rows[submitter]
        table.add_row(submitter, str(len(row["systems"])), str(row["results"]), str(row["valid"]),
                      str(row["error"]), str(row["warning"]), str(row["info"]))
    return table
