"""The example trees that rule fixtures start from are clean: zero findings, even with --strict,
when checked with the stand-in reference that labels their inputs."""

from __future__ import annotations

from collections import Counter

import pytest

from submission_tools.check import CheckOptions, run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree, write_example_reference

CASES = {
    "default": (ExampleSpec(), "v1.4", {"mlc": 4}),
    "eembc-v1.3-energy": (
        ExampleSpec(round="v1.3", runner="eembc", benchmarks=("kws", "vww", "ic", "ad"), energy=("kws",)),
        "v1.3", {"eembc": 9}),
    "mlc-v1.3-sww": (
        ExampleSpec(round="v1.3", runner="mlc", benchmarks=("kws", "vww", "ic", "ad", "sww")),
        "v1.3", {"mlc": 10}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_example_tree_checks_clean(tmp_path, name):
    spec, round_, runners = CASES[name]
    root = build_example_tree(tmp_path / name, spec)
    reference = write_example_reference(tmp_path / "reference", spec)
    result = run_check(root, CheckOptions(reference=reference))
    assert result.findings == [], "\n".join(f"{f.rule} {f.path}: {f.message}" for f in result.findings)
    assert result.exit_code(strict=True) == 0
    # The round comes from the tree itself, and every mode folder is a valid result of the right runner.
    assert result.round.ruleset.version == round_ and result.round.source != "default"
    assert Counter(r.runner for r in result.results) == runners
    assert all(r.valid for r in result.results)


def test_eembc_tree_has_markers_and_energy_files(tmp_path):
    spec, _round, _runners = CASES["eembc-v1.3-energy"]
    root = build_example_tree(tmp_path / "t", spec)
    results = root / "closed" / "example_org" / "results" / "virtual_dut_host"
    assert sorted(p.parent.name for p in results.glob("*/EEMBC_RUNNER")) == ["ad", "ic", "kws", "vww"]
    assert {p.name for p in (results / "kws" / "energy").iterdir()} == {
        "log.txt", "results.txt", "script.async", "trace1-energy.bin", "trace1-timestamps.json"}
    assert (root / "closed" / "example_org" / "systems" / "Energy-Hookup.pdf").read_bytes().startswith(b"%PDF-")


def test_sww_tree_has_performance_and_energy_and_a_hookup(tmp_path):
    spec, _round, _runners = CASES["mlc-v1.3-sww"]
    root = build_example_tree(tmp_path / "t", spec)
    org = root / "closed" / "example_org"
    sww = org / "results" / "virtual_dut_host" / "sww"
    assert sorted(p.name for p in sww.iterdir()) == ["energy", "performance"]
    assert (org / "systems" / "Energy-Hookup.pdf").is_file()
    assert not list(org.rglob("EEMBC_RUNNER"))
