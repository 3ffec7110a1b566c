"""`submit report`: what it writes and its exit codes, through the real `submit` entry point.

The command lives in submission_tools/report_cli.py; until cli.py registers it, the fixture below
registers it on the app for the duration of a test (and leaves an existing registration alone).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from submission_tools import cli
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report.csv_report import OFFICIAL_COLUMNS
from submission_tools.report_cli import report


@pytest.fixture()
def submit(monkeypatch):
    """`submit ARGS...` in-process: (exit code, stdout, stderr)."""
    names = {(c.name or c.callback.__name__).replace("_", "-") for c in cli.app.registered_commands}
    if "report" not in names:
        monkeypatch.setattr(cli.app, "registered_commands", list(cli.app.registered_commands))
        cli.app.command()(report)

    def run(capsys, *args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return run


@pytest.fixture()
def clean_tree(tmp_path: Path) -> Path:
    return build_example_tree(tmp_path / "tree", ExampleSpec(benchmarks=("ad", "kws")))


def test_html_written_to_the_default_place(submit, capsys, clean_tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = submit(capsys, "report", str(clean_tree))
    assert code == 0 and out == ""
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "PASSED" in page
    assert "PASSED: html report of 4 results written to report.html" in err


def test_errors_give_exit_1_and_the_report_is_still_written(submit, capsys, clean_tree, tmp_path):
    (clean_tree / "closed" / "example_org" / "systems" / "virtual_dut_host.json").write_text('{"Submitter": ')
    out = tmp_path / "deep" / "folder" / "page.html"
    code, _out, err = submit(capsys, "report", str(clean_tree), "--out", str(out))
    assert code == 1 and "FAILED" in err
    assert "SYS001" in out.read_text(encoding="utf-8")


def test_warnings_fail_only_with_strict(submit, capsys, clean_tree, tmp_path):
    (clean_tree / "closed" / "example_org" / "code" / ".notes").write_text("x")
    out = tmp_path / "r.html"
    assert submit(capsys, "report", str(clean_tree), "-o", str(out))[0] == 0
    code, _out, err = submit(capsys, "report", str(clean_tree), "-o", str(out), "--strict")
    assert code == 1 and "FAILED" in err and out.is_file()


def test_csv_to_standard_output(submit, capsys, clean_tree):
    code, out, _err = submit(capsys, "report", str(clean_tree), "--format", "csv", "--out", "-")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:len(OFFICIAL_COLUMNS)] == OFFICIAL_COLUMNS
    assert [r["Model"] for r in rows] == ["ad", "kws"]


def test_xlsx_file(submit, capsys, clean_tree, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, _err = submit(capsys, "report", str(clean_tree), "-f", "xlsx", "--jobs", "2", "--round", "v1.4")
    assert code == 0
    with zipfile.ZipFile(tmp_path / "report.xlsx") as archive:
        assert "xl/worksheets/sheet1.xml" in archive.namelist()


@pytest.mark.parametrize("args, message", [
    (["report", "/no/such/tree"], "InputError: /no/such/tree: no such file or folder"),
    (["report", "{tree}", "-f", "xlsx", "-o", "-"], "UsageError: an xlsx workbook cannot go to standard output"),
    (["report", "{tree}", "--round", "v9.9"], "UsageError: no rule set for round v9.9"),
    (["report", "{tree}", "--reference", "/no/such/checkout"], "ReferenceCheckoutError: /no/such/checkout"),
    (["report", "{tree}", "--format", "pdf"], "pdf"),
    (["report", "{tree}", "--no-such-flag"], "No such option"),
    (["report", "{tree}", "--jobs", "0"], "--jobs"),
])
def test_usage_and_input_errors_exit_2(submit, capsys, clean_tree, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _out, err = submit(capsys, *[a.replace("{tree}", str(clean_tree)) for a in args])
    assert code == 2 and message in err
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "report.xlsx").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_unwritable_output_is_a_usage_error(submit, capsys, clean_tree, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _out, err = submit(capsys, "report", str(clean_tree), "-o", str(locked / "r.html"))
    assert code == 2 and "cannot write the report" in err


def test_output_path_that_is_a_folder_is_a_usage_error(submit, capsys, clean_tree, tmp_path):
    code, _out, err = submit(capsys, "report", str(clean_tree), "-o", str(tmp_path))
    assert code == 2 and "cannot write the report" in err


def test_internal_error_exits_3(submit, capsys, clean_tree, tmp_path, monkeypatch):
    from submission_tools.report import html

    def boom(*_args, **_kwargs):
        raise RuntimeError("plot exploded")
    monkeypatch.setattr(html, "build_view", boom)
    monkeypatch.setenv("SUBMIT_CRASH_DIR", str(tmp_path / "crash"))
    code, _out, err = submit(capsys, "report", str(clean_tree), "-o", str(tmp_path / "r.html"))
    assert code == 3 and "InternalError: RuntimeError: plot exploded" in err


def test_the_function_registers_on_a_plain_typer_app(clean_tree, tmp_path):
    """What the lead does in cli.py: `app.command()(report)`; the command's options are its own."""
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """A stand-in for the submit app."""

    app.command()(report)
    result = CliRunner().invoke(app, ["report", str(clean_tree), "-o", str(tmp_path / "x.csv"), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x.csv").read_text().startswith("Organization,")
    help_text = CliRunner().invoke(app, ["report", "--help"]).output
    for option in ("--out", "--format", "--strict", "--round", "--reference", "--labels", "--jobs", "--max-file-mb"):
        assert option in help_text
