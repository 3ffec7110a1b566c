"""The `submit` command. Each subcommand builds its parts, runs them, and exits with their code.

Exit codes (a contract): 0 ok, 1 the checked thing has errors, 2 usage or input error,
3 internal error (the traceback goes to a log file; --debug prints it).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import traceback
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from submission_tools import __version__
from submission_tools.cli_options import (labels_option, max_file_option, reference_option, round_option,
                                          tree_argument)
from submission_tools.demo_cli import demo
from submission_tools.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, SubmitError, UsageError
from submission_tools.models.cli_model import model_app
from submission_tools.reference import ENV_VAR
from submission_tools.report_cli import report

app = typer.Typer(
    name="submit",
    help="Measure, check, package and report MLPerf Tiny submissions.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(model_app, name="model")


class ReportFormat(str, Enum):
    text = "text"
    json = "json"
    csv = "csv"
    sarif = "sarif"
    github = "github"


class RulesFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"submit {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", "-V", callback=_print_version, is_eager=True,
                                 help="Print the tool version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Print the traceback of an internal error."),
) -> None:
    """Measure, check, package and report MLPerf Tiny submissions."""


def _write(text: str, output: Optional[Path]) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the report ({exc.strerror or exc})") from None


@app.command()
def check(
    path: Path = tree_argument(),
    format: ReportFormat = typer.Option(ReportFormat.text, "--format", "-f", help="Report format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report to FILE."),
    strict: bool = typer.Option(False, "--strict", help="Fail (exit 1) on warnings too."),
    round_version: Optional[str] = round_option(),
    reference: Optional[Path] = reference_option(),
    labels: Optional[list[Path]] = labels_option(),
    max_file_mb: float = max_file_option(),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64,
                             help="Processes that parse and recompute runs in parallel."),
) -> None:
    """Check a results tree against the round's rules and report every finding."""
    from submission_tools.check import CheckOptions, run_check
    from submission_tools.report import FORMATS

    options = CheckOptions(version=round_version, reference=reference, labels=list(labels or []),
                           max_file_bytes=int(max_file_mb * 1024 * 1024), jobs=jobs)
    result = run_check(path, options)
    renderer = FORMATS[format.value]
    if format is ReportFormat.text:
        color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        text = renderer(result, strict=strict, color=color)
    else:
        text = renderer(result, strict=strict)
    _write(text, output)
    if output is not None:
        typer.echo(f"{result.status_line(strict)}: report written to {output}", err=True)
    raise typer.Exit(result.exit_code(strict))


@app.command()
def rules(
    rule_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one rule in full."),
    format: RulesFormat = typer.Option(RulesFormat.text, "--format", "-f",
                                       help="text (table), markdown (docs/rules.md) or json."),
) -> None:
    """List every rule, or explain one (`submit rules SYS002`)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from submission_tools.rules import REGISTRY
    from submission_tools.rules.docs import rule_markdown, rule_text, rules_markdown

    if rule_id is not None:
        rule = REGISTRY.get(rule_id)
        if rule is None:
            known = ", ".join(r.id for r in REGISTRY)
            raise UsageError(f"no rule '{rule_id}'; known rules: {known}")
        if format is RulesFormat.json:
            typer.echo(json.dumps(_rule_dict(rule), indent=2))
        else:
            typer.echo(rule_markdown(rule) if format is RulesFormat.markdown else rule_text(rule), nl=False)
        return
    if format is RulesFormat.markdown:
        sys.stdout.write(rules_markdown())
    elif format is RulesFormat.json:
        typer.echo(json.dumps([_rule_dict(r) for r in REGISTRY], indent=2))
    else:
        table = Table(show_edge=False)
        for column in ("ID", "severity", "name", "title"):
            table.add_column(column)
        for rule in REGISTRY:
            table.add_row(rule.id, rule.severity.value, rule.name, rule.title)
        Console(highlight=False).print(table)


def _rule_dict(rule) -> dict:
    return {"id": rule.id, "name": rule.name, "family": rule.family, "title": rule.title,
            "severity": rule.severity.value, "spec": rule.spec, "rationale": rule.rationale, "fix": rule.fix}


@app.command()
def schema(
    name: Optional[str] = typer.Argument(None, help="Schema name, e.g. system_description."),
    list_names: bool = typer.Option(False, "--list", help="List the bundled schemas."),
) -> None:
    """Print a bundled JSON Schema (`submit schema --list` names them)."""
    from submission_tools.resources import schema_names, schema_path

    if list_names or name is None:
        for schema_name in schema_names():
            typer.echo(schema_name)
        return
    sys.stdout.write(schema_path(name).read_text(encoding="utf-8"))


@app.command()
def run(
    config: Optional[Path] = typer.Argument(None, help="Harness config YAML (`submit schema harness_config`)."),
    mode: Optional[str] = typer.Option(None, "--mode", "-m",
                                       help="performance|accuracy|energy|streaming (or p, a, e, sww)."),
    out: Path = typer.Option(Path("sessions"), "--out", "-o", help="Folder the session folder is created in."),
    resume: Optional[Path] = typer.Option(None, "--resume", metavar="SESSION",
                                          help="Continue an interrupted session (same DUT, same config)."),
    list_ports: bool = typer.Option(False, "--list-ports", help="List serial ports with USB VID/PID and exit."),
    mlc_devices: Optional[Path] = typer.Option(None, "--devices", metavar="YAML",
                                               help="The MLCommons runner's devices_*.yaml instead of CONFIG."),
    mlc_tests: Optional[Path] = typer.Option(None, "--tests", metavar="YAML",
                                             help="The MLCommons runner's tests_*.yaml (with --devices)."),
    dataset_path: Optional[Path] = typer.Option(None, "--dataset-path", metavar="DIR",
                                                help="With --devices: the folder holding <model>/ datasets."),
) -> None:
    """Measure a DUT (or the virtual DUT) in one mode and write a session folder."""
    from harness.config import load_config, normalise_mode
    from harness.mlc_config import load_mlcommons
    from harness.ports import format_ports_table, list_ports as serial_ports
    from harness.run import run as run_session

    if list_ports:
        for line in format_ports_table(serial_ports()):
            typer.echo(line)
        return
    if mode is None:
        raise UsageError("--mode is required: performance, accuracy, energy or streaming")
    mode_name = normalise_mode(mode)
    if mlc_devices is not None or mlc_tests is not None:
        if config is not None or mlc_devices is None or mlc_tests is None or dataset_path is None:
            raise UsageError("--devices, --tests and --dataset-path go together, instead of CONFIG")
        harness_config = load_mlcommons(mlc_devices, mlc_tests, dataset_path, mode_name)
    elif config is None:
        raise UsageError("give a harness CONFIG (or --devices/--tests/--dataset-path)")
    else:
        harness_config = load_config(config)
    outcome = run_session(harness_config, mode_name, out=out, resume=resume)
    for line in outcome.results_txt:
        typer.echo(line)
    typer.echo(f"session: {outcome.session_dir}", err=True)
    if outcome.invalid:
        typer.echo("The session is complete but not valid for submission (see the ERROR lines).", err=True)
        raise typer.Exit(1)


@app.command()
def package(
    manifest: Path = typer.Argument(..., help="Submission manifest, YAML (`submit schema submission_manifest`)."),
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR",
                             help="Root of the results tree (holds closed/ and open/); "
                                  "<division>/<submitter>/ is written (or replaced) there."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan (what goes where) and change nothing."),
    use_git: bool = typer.Option(False, "--git", help="Commit the packaged folder in DIR (a clean git repository, "
                                                      "or a new one created there)."),
    allow_errors: bool = typer.Option(False, "--allow-errors",
                                      help="Write (and commit) the tree even when `submit check` finds errors "
                                           "in it; the exit code is still 1."),
    reference: Optional[Path] = typer.Option(
        None, "--reference", envvar=ENV_VAR, help=f"Checkout of mlcommons/tiny for the gate (or ${ENV_VAR})."),
    max_file_mb: float = typer.Option(100.0, "--max-file-mb", min=0.001,
                                      help="Largest input file allowed, in MiB (also the gate's limit)."),
) -> None:
    """Assemble <division>/<submitter>/ for peer review from a manifest, gate it with `submit check`."""
    from submission_tools.package import PackageOptions, run_package
    from submission_tools.package.text import render_result

    options = PackageOptions(out=out, dry_run=dry_run, git=use_git, allow_errors=allow_errors,
                             reference=reference, max_file_bytes=int(max_file_mb * 1024 * 1024))
    result = run_package(manifest, options)
    sys.stdout.write(render_result(result, str(manifest)))
    sys.stdout.flush()
    raise typer.Exit(result.exit_code())


app.command()(report)  # defined in report_cli.py with its own options
app.command()(demo)  # demo_cli.py; the work is in demo.py


def _crash_log(exc: BaseException) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_dir = Path(os.environ.get("SUBMIT_CRASH_DIR", tempfile.gettempdir()))
    path = log_dir / f"submit-crash-{stamp}-{os.getpid()}.log"
    text = (f"submit {__version__}\npython {platform.python_version()} on {platform.platform()}\n"
            f"argv: {sys.argv}\n\n" + "".join(traceback.format_exception(exc)))
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError:
        sys.stderr.write(text)
    return path


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app and maps every outcome to the exit-code contract."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        code = app(args=args, prog_name="submit", standalone_mode=False)
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument, bad value
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"Error: {exc}\n")
        code = EXIT_USAGE
    except typer.Abort:
        sys.stderr.write("Aborted.\n")
        code = EXIT_USAGE
    except SubmitError as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        code = exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        code = 130
    except Exception as exc:  # anything else is a bug in this tool
        log = _crash_log(exc)
        if debug:
            traceback.print_exception(exc)
        sys.stderr.write(f"InternalError: {type(exc).__name__}: {exc}\n"
                         f"This is a bug in submit {__version__}; the traceback was written to {log}"
                         f"{'' if debug else ' (--debug prints it)'}.\n")
        code = EXIT_INTERNAL
    if argv is None:
        sys.exit(code or EXIT_OK)
    return code or EXIT_OK
