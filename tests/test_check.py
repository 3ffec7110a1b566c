"""run_check on whole trees: older rounds, hostile names, and which results an error invalidates."""

from __future__ import annotations

import json
from pathlib import Path

from submission_tools.check import CheckOptions, run_check
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec, build_example_tree, write_example_reference


def test_older_round_tree_with_prefixed_names_is_checked_not_crashed(tmp_path):
    root = build_example_tree(tmp_path / "v05", ExampleSpec(round="v1.2", runner="eembc", benchmarks=("kws",)))
    (root / "README.md").write_text("# MLPerf™ Tiny v0.5 results\n")
    perf = root / "closed" / "example_org" / "results" / "virtual_dut_host" / "kws" / "performance"
    for name in ("log.txt", "script.async"):
        (perf / name).rename(perf / f"performance_{name}")
    (perf / "results.txt").unlink()  # v0.5 dirs often had none
    result = run_check(root)
    assert result.round.detected == "v0.5" and result.round.ruleset.version == "v1.0"
    assert "nearest one, v1.0" in result.round.note
    missing = {f.message: f.hint for f in result.findings if f.rule == "TREE009"}
    assert missing == {
        "performance/ has no log.txt": "Rename performance_log.txt to log.txt.",
        "performance/ has no results.txt": f"Copy results.txt from the runner's session folder into "
                                           f"{perf.relative_to(root).as_posix()}/.",
        "performance/ has no script.async": "Rename performance_script.async to script.async.",
    }


def test_hostile_names_do_not_break_any_report(tmp_path, capsys):
    root = build_example_tree(tmp_path / "tree")
    code = root / "closed" / "example_org" / "code"
    (code / "[bold red]markup[link=x].txt").write_text("x")
    (code / "new\nline.txt").write_text("x")
    (code / "pipe|and:colon.txt").write_text("x")
    for fmt in ("text", "json", "csv", "sarif", "github"):
        assert main(["check", str(root), "--format", fmt]) == 1
        out = capsys.readouterr().out
        if fmt == "text":
            assert "[bold red]markup[link=x].txt" in out  # shown literally, not interpreted
        if fmt == "json":
            paths = {f["path"] for f in json.loads(out)["findings"]}
            assert "closed/example_org/code/new\nline.txt" in paths
        if fmt == "github":
            assert all(line.startswith("::") or line.startswith("FAILED") for line in out.splitlines())


def test_an_error_invalidates_only_its_own_results(tmp_path):
    root = build_example_tree(tmp_path / "tree")
    (root / "closed/example_org/results/virtual_dut_host/ic/accuracy/results.json").unlink()
    result = run_check(root)
    validity = {(r.benchmark, r.mode): r.valid for r in result.results}
    assert validity == {("ic", "accuracy"): False, ("ic", "performance"): True,
                        ("kws", "accuracy"): True, ("kws", "performance"): True}


def test_division_and_submitter_folders_can_be_checked_alone(tmp_path):
    root = build_example_tree(tmp_path / "tree")
    options = CheckOptions(reference=write_example_reference(tmp_path / "reference"))
    for sub in (Path("closed"), Path("closed/example_org")):
        result = run_check(root / sub, options)
        assert result.findings == [] and len(result.results) == 4
        assert result.round.ruleset.version == "v1.4"
