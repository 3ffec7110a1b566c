"""Runs every package-stage rule fixture (tests/rules/fixtures/PKG*.yaml, `stage: package`).

fail cases: `submit package` refuses with findings of exactly the fixture's rule, exits 1, and
writes nothing; every finding names an input that exists (or the manifest, with its line).
pass cases: nothing is refused, and the tree is written and passes the `submit check` gate.
"""

from __future__ import annotations

import os

import pytest

from helpers.fixture_trees import MIB, fixture_files, load_fixture_file
from helpers.package_inputs import build_package_fixture
from submission_tools.cli import main
from submission_tools.package import PackageOptions, run_package

CASES = [case for path in fixture_files() for case in load_fixture_file(path)[1] if case.stage == "package"]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _options(case, built, out):
    options = PackageOptions(out=out, reference=built.reference)
    if case.max_file_mb is not None:
        options.max_file_bytes = int(case.max_file_mb * MIB)
    return options


def _describe(findings) -> str:
    return "\n".join(f"  {f.rule} {f.path}{f':{f.line}' if f.line else ''}: {f.message}" for f in findings) \
        or "  (no findings)"


def test_every_pkg_rule_has_package_fixtures():
    assert {c.rule for c in CASES} == {f"PKG{n:03d}" for n in range(1, 9)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_package_rule_fixture(case, tmp_path):
    if case.needs_permissions and IS_ROOT:
        pytest.skip("running as root, which ignores file permissions")
    built = build_package_fixture(tmp_path, case.spec(), case.ops)
    out = tmp_path / "out"
    try:
        result = run_package(built.manifest, _options(case, built, out))
    finally:
        built.restore_permissions()
    refusals = result.plan.refusals
    report = f"{case.id} ({case.source.name}), refusals:\n{_describe(refusals)}"
    if case.kind == "pass":
        assert refusals == [], report
        gate = result.gate
        assert gate is not None and not gate.failed(), f"{report}\ngate:\n{_describe(gate.findings)}"
        assert result.exit_code() == 0 and result.written == out / "closed" / "example_org"
        return
    assert {f.rule for f in refusals} == {case.rule, *case.also}, report
    assert result.exit_code() == 1 and result.gate is None and result.written is None, report
    assert not out.exists(), "a refused package must write nothing"
    own = [f for f in refusals if f.rule == case.rule]
    if case.count is not None:
        assert len(own) == case.count, report
    if case.message_contains is not None:
        assert any(case.message_contains in f.message for f in own), report
    if case.hint_contains is not None:
        assert any(case.hint_contains in f.hint for f in own), report
    if case.lines is not None:
        assert sorted(f.line for f in own) == case.lines, report
    for finding in own:
        assert not finding.path.startswith("/") and ".." not in finding.path.split("/"), report
        assert os.path.lexists(built.root / finding.path), f"{finding.path!r} is not an input\n{report}"


FAIL_CASES = [c for c in CASES if c.kind == "fail" and not c.needs_permissions]


@pytest.mark.parametrize("case", FAIL_CASES, ids=[c.id for c in FAIL_CASES])
def test_refusal_through_the_command(case, tmp_path, capsys):
    built = build_package_fixture(tmp_path, case.spec(), case.ops)
    args = ["package", str(built.manifest), "--out", str(tmp_path / "out"), "--reference", str(built.reference)]
    if case.max_file_mb is not None:
        args += ["--max-file-mb", str(case.max_file_mb)]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert f"{case.rule} error" in printed and "Nothing was written." in printed
    assert not (tmp_path / "out").exists()
