"""Runs every per-rule fixture in tests/rules/fixtures/*.yaml (see helpers/fixture_trees.py).

fail cases: the check reports findings of exactly the fixture's rule and of no other, the
strict exit code says so (1; 0 for an info-only rule, since info never fails a check), and
every finding names a place in the tree.
pass cases: the check reports nothing at all.
Package-stage fixtures (the PKG refusals of `submit package`) run in
tests/package/test_package_rule_fixtures.py; the coverage test here counts every stage.
"""

from __future__ import annotations

import json
import os

import pytest

from helpers.fixture_trees import build_fixture_tree, fixture_files, load_fixture_file
from submission_tools.check import run_check
from submission_tools.cli import main
from submission_tools.findings import Severity
from submission_tools.rules import REGISTRY


def _load_all():
    by_rule, cases = {}, []
    for path in fixture_files():
        rule, file_cases = load_fixture_file(path)
        by_rule[rule] = file_cases
        cases.extend(file_cases)
    return by_rule, cases


FIXTURES, ALL_CASES = _load_all()
CASES = [c for c in ALL_CASES if c.stage == "check"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _describe(findings) -> str:
    if not findings:
        return "  (no findings)"
    return "\n".join(
        f"  {f.rule} {f.severity.value:7} {f.path}{f':{f.line}' if f.line else ''}: {f.message}"
        f"{f'  [hint: {f.hint}]' if f.hint else ''}"
        for f in findings)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_fixture(case, tmp_path):
    if case.needs_permissions and IS_ROOT:
        pytest.skip("running as root, which ignores file permissions")
    built = build_fixture_tree(tmp_path, case.spec(), case.ops)
    try:
        options = case.options()
        options.reference = built.reference  # labels for the example inputs, as --reference gives them
        result = run_check(built.root, options)
    finally:
        built.restore_permissions()
    report = f"{case.id} ({case.source.name}), round {result.round.ruleset.version}, findings:\n" \
             f"{_describe(result.findings)}"

    if case.kind == "pass":
        assert result.findings == [], f"expected no findings\n{report}"
        assert result.exit_code(strict=True) == 0, report
        return

    rule = REGISTRY.get(case.rule)
    expected_rules = {case.rule, *case.also}
    assert {f.rule for f in result.findings} == expected_rules, \
        f"expected findings of {sorted(expected_rules)} only\n{report}"
    own = [f for f in result.findings if f.rule == case.rule]
    # Info findings never fail a check, not even a strict one; errors and warnings always do.
    expected_exit = 0 if all(f.severity is Severity.INFO for f in result.findings) else 1
    assert rule.severity is not Severity.INFO or expected_exit == 0, report
    assert result.exit_code(strict=True) == expected_exit, report
    if case.count is not None:
        assert len(own) == case.count, f"expected {case.count} finding(s) of {case.rule}\n{report}"
    if case.lines is not None:
        assert sorted((f.line for f in own), key=lambda n: (n is None, n or 0)) == case.lines, \
            f"expected lines {case.lines}\n{report}"
    if case.message_contains is not None:
        assert any(case.message_contains in f.message for f in own), \
            f"no message contains {case.message_contains!r}\n{report}"
    if case.hint_contains is not None:
        assert any(case.hint_contains in f.hint for f in own), \
            f"no hint contains {case.hint_contains!r}\n{report}"
    for finding in own:
        assert not finding.path.startswith("/") and ".." not in finding.path.split("/"), report
        on_disk = built.root if finding.path == "." else built.root / finding.path
        assert os.path.lexists(on_disk) or on_disk.parent.is_dir(), \
            f"finding names {finding.path!r}, which is not in the tree\n{report}"


def test_every_registered_rule_has_fail_and_pass_fixtures():
    registered = {rule.id for rule in REGISTRY}
    missing = sorted(registered - set(FIXTURES))
    unknown = sorted(set(FIXTURES) - registered)
    incomplete = sorted(
        rule for rule, cases in FIXTURES.items()
        if not any(c.kind == "fail" for c in cases) or not any(c.kind == "pass" for c in cases))
    assert not missing, f"rules without a fixture file: {missing}"
    assert not unknown, f"fixture files for rules that are not registered: {unknown}"
    assert not incomplete, f"fixture files without both a fail and a pass case: {incomplete}"
    staged = {rule: {c.stage for c in cases} for rule, cases in FIXTURES.items()}
    assert all(stages == {REGISTRY.get(rule).stage} for rule, stages in staged.items()), staged


def test_case_ids_are_unique():
    ids = [c.id for c in ALL_CASES]
    assert len(ids) == len(set(ids))


FAIL_CASES = [c for c in CASES if c.kind == "fail"]


@pytest.mark.parametrize("case", FAIL_CASES, ids=[c.id for c in FAIL_CASES])
def test_negative_fixture_through_the_command(case, tmp_path, capsys):
    """`submit check --strict` on each negative fixture exits 1 (0 for info) with exactly its rule."""
    if case.needs_permissions and IS_ROOT:
        pytest.skip("running as root, which ignores file permissions")
    built = build_fixture_tree(tmp_path, case.spec(), case.ops)
    args = ["check", "--strict", "--format", "json", "--reference", str(built.reference), str(built.root)]
    if case.version:
        args += ["--version", case.version]
    if case.max_file_mb is not None:
        args += ["--max-file-mb", str(case.max_file_mb)]
    try:
        code = main(args)
    finally:
        built.restore_permissions()
    report = json.loads(capsys.readouterr().out)
    assert {f["rule"] for f in report["findings"]} == {case.rule, *case.also}, report["findings"]
    expected = 0 if all(f["severity"] == "info" for f in report["findings"]) else 1
    assert code == expected and report["verdict"] == ("fail" if expected else "pass")
