"""`submit report`: check a results tree, then write the reviewer's HTML page or the final table.

Registered on the `submit` app with `app.command()(report)`. Exit codes as for `submit check`:
0 the report was written and the tree passes, 1 it was written and the tree has errors (or
warnings with --strict), 2 usage or input error (nothing written), 3 internal error.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from submission_tools.cli_options import (labels_option, max_file_option, reference_option, round_option,
                                          tree_argument)
from submission_tools.errors import UsageError

STDOUT = Path("-")


class FinalFormat(str, Enum):
    html = "html"
    csv = "csv"
    xlsx = "xlsx"


def report(
    path: Path = tree_argument(),
    out: Optional[Path] = typer.Option(
        None, "--out", "-o", metavar="FILE",
        help="Where to write the report (default report.html, report.csv or report.xlsx in the current "
             "folder; '-' writes html or csv to standard output)."),
    format: FinalFormat = typer.Option(
        FinalFormat.html, "--format", "-f",
        help="html: the reviewer's page with plots; csv or xlsx: the final-report table, one row per "
             "system and benchmark, the official summary columns plus recomputed values."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 on warnings too (the report is still written)."),
    round_version: Optional[str] = round_option(),
    reference: Optional[Path] = reference_option(),
    labels: Optional[list[Path]] = labels_option(),
    max_file_mb: float = max_file_option(),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64,
                             help="Processes that parse, recompute and draw the plots in parallel."),
) -> None:
    """Write a report of a results tree: an HTML page with plots, or the round's final table."""
    from submission_tools.check import CheckOptions, run_check

    target = out if out is not None else Path(f"report.{format.value}")
    if target == STDOUT and format is FinalFormat.xlsx:
        raise UsageError("an xlsx workbook cannot go to standard output; give --out FILE.xlsx")
    options = CheckOptions(version=round_version, reference=reference, labels=list(labels or []),
                           max_file_bytes=int(max_file_mb * 1024 * 1024), jobs=jobs)
    result = run_check(path, options)
    payload = render_report(result, format.value, strict=strict, processes=jobs)
    write_output(payload, target)
    if target != STDOUT:
        typer.echo(f"{result.status_line(strict)}: {format.value} report of {len(result.results)} results "
                   f"written to {target}", err=True)
    raise typer.Exit(result.exit_code(strict))


def render_report(result, format: str, strict: bool = False, processes: int = 1) -> str | bytes:
    """The report of a CheckResult in `format` (html, csv or xlsx)."""
    if format == "html":
        from submission_tools.report.html import render_html
        return render_html(result, strict=strict, processes=processes)
    from submission_tools.report.final_table import render_final_csv, render_final_xlsx
    if format == "csv":
        return render_final_csv(result)
    if format == "xlsx":
        return render_final_xlsx(result)
    raise UsageError(f"unknown report format {format!r}; choose html, csv or xlsx")


def write_output(payload: str | bytes, target: Path) -> None:
    if target == STDOUT:
        sys.stdout.write(payload if isinstance(payload, str) else payload.decode("utf-8"))
        sys.stdout.flush()
        return
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write the report ({exc.strerror or exc})") from None
