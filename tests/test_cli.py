"""The `submit` command line: exit codes, subcommands and error messages (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from submission_tools import __version__
from submission_tools import check as check_module
from submission_tools.cli import main
from submission_tools.example_tree import build_example_tree


@pytest.fixture()
def clean_tree(tmp_path: Path) -> Path:
    return build_example_tree(tmp_path / "tree")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"submit {__version__}"


def test_no_arguments_is_usage(capsys):
    code, _out, _err = run(capsys)
    assert code == 2


def test_check_clean_tree_passes(capsys, clean_tree):
    code, out, _ = run(capsys, "check", str(clean_tree))
    assert code == 0
    assert out.rstrip().splitlines()[-1].startswith("PASSED: 0 errors, 0 warnings")
    assert "round v1.4 detected from README.md" in out


def test_warnings_fail_only_with_strict(capsys, clean_tree):
    (clean_tree / "closed" / "example_org" / "code" / ".notes").write_text("x")
    code, out, _ = run(capsys, "check", str(clean_tree))
    assert code == 0 and "PASSED with warnings" in out
    code, out, _ = run(capsys, "check", "--strict", str(clean_tree))
    assert code == 1 and "FAILED" in out


def test_errors_fail(capsys, clean_tree):
    (clean_tree / "closed" / "example_org" / "systems" / "virtual_dut_host.json").write_text('{"Submitter": ')
    code, out, _ = run(capsys, "check", str(clean_tree))
    assert code == 1
    assert "SYS001" in out and "virtual_dut_host.json:1" in out


@pytest.mark.parametrize("args, message", [
    (["check", "/no/such/tree"], "InputError: /no/such/tree: no such file or folder"),
    (["check", "--format", "yaml", "."], "'yaml' is not one of"),
    (["check", "--bogus", "."], "No such option: --bogus"),
    (["check", "--version", "v9.9", "."], "UsageError: no rule set for round v9.9"),
    (["check", "--version", "banana", "."], "'banana' is not a round version"),
    (["check", "--reference", "/no/such/ref", "."], "ReferenceCheckoutError: /no/such/ref: no such folder"),
    (["rules", "NOPE001"], "UsageError: no rule 'NOPE001'"),
    (["schema", "nope"], "UsageError: no bundled schema named 'nope'"),
])
def test_usage_and_input_errors_exit_2(capsys, args, message):
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_file_instead_of_folder(capsys, clean_tree):
    code, _out, err = run(capsys, "check", str(clean_tree / "README.md"))
    assert code == 2 and "is a file, not a folder" in err


def test_output_file(capsys, clean_tree, tmp_path):
    target = tmp_path / "out" / "report.json"
    code, out, err = run(capsys, "check", str(clean_tree), "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert "report written to" in err
    assert json.loads(target.read_text())["verdict"] == "pass"


def test_internal_error_exits_3_with_crash_log(capsys, clean_tree, monkeypatch, tmp_path):
    monkeypatch.setenv("SUBMIT_CRASH_DIR", str(tmp_path / "crashes"))

    def explode(*_args, **_kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(check_module, "run_check", explode)
    code, _out, err = run(capsys, "check", str(clean_tree))
    assert code == 3
    assert "InternalError: ZeroDivisionError: boom" in err and "Traceback" not in err
    logs = list((tmp_path / "crashes").glob("submit-crash-*.log"))
    assert len(logs) == 1 and "ZeroDivisionError: boom" in logs[0].read_text()
    code, _out, err = run(capsys, "--debug", "check", str(clean_tree))
    assert code == 3 and "Traceback" in err


def test_rules_table_and_one_rule(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0 and "TREE001" in out and "SYS002" in out
    code, out, _ = run(capsys, "rules", "sys002")
    assert code == 0 and out.startswith("SYS002  sys.duplicate-key")
    assert "How to fix:" in out
    code, out, _ = run(capsys, "rules", "--format", "json")
    assert code == 0 and {r["id"] for r in json.loads(out)} >= {"TREE001", "SYS010", "RUN001"}


def test_schema_command(capsys):
    code, out, _ = run(capsys, "schema", "--list")
    assert code == 0 and {"check_report", "system_description"} <= set(out.split())
    code, out, _ = run(capsys, "schema", "system_description")
    assert code == 0 and json.loads(out)["title"].startswith("MLPerf Tiny system description")
