"""Rule sets per round, as data, and how the round of a tree is chosen."""

from pathlib import Path

import pytest

from submission_tools.errors import UsageError
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.rulesets import SUPPORTED_ROUNDS, load_ruleset, nearest_supported
from submission_tools.rulesets.detect import choose_round
from submission_tools.tree import read_tree


@pytest.mark.parametrize("version", SUPPORTED_ROUNDS)
def test_every_round_loads(version):
    rs = load_ruleset(version)
    assert rs.version == version
    assert {"kws", "vww", "ic", "ad"} <= set(rs.benchmarks)
    assert rs.required_modes("kws") == ("performance", "accuracy")
    assert rs.checklist_name == f"TinyMLPerf_{version}_Submission_Checklist.pdf"


def test_round_differences():
    assert load_ruleset("v1.1").runners == ("eembc",)
    assert load_ruleset("v1.3").runners == ("eembc", "mlc")
    assert load_ruleset("v1.4").runners == ("mlc",)
    assert "sww" not in load_ruleset("v1.2").benchmarks
    assert load_ruleset("v1.3").runners_for("sww") == ("mlc",)
    assert load_ruleset("v1.3").required_modes("sww") == ("energy",)
    assert "ic2" not in load_ruleset("v1.3").benchmarks
    assert load_ruleset("v1.4").benchmarks["ic2"].requires == ("ic",)
    assert load_ruleset("v1.1").benchmarks["ad"].label_sets == ("ad01",)
    assert load_ruleset("v1.2").benchmarks["ad"].label_sets == ("ad01", "ad01_alt")
    assert not load_ruleset("v1.2").eembc_marker_required and load_ruleset("v1.3").eembc_marker_required


def test_nearest():
    assert nearest_supported("v0.5") == nearest_supported("v0.7") == "v1.0"
    assert nearest_supported("v2.1") == "v1.4"


def _tree(tmp_path: Path, readme: str | None, checklist: str | None = None, name: str = "tree"):
    root = build_example_tree(tmp_path / name, ExampleSpec(round="v1.2", runner="eembc"))
    systems = root / "closed" / "example_org" / "systems"
    if readme is None:
        (root / "README.md").unlink()
    else:
        (root / "README.md").write_text(readme)
    if checklist is not None:
        (systems / "TinyMLPerf_v1.2_Submission_Checklist.pdf").rename(systems / checklist)
    return read_tree(root)


def test_detect_from_readme_title(tmp_path):
    choice = choose_round(_tree(tmp_path, "# MLPerf™ Tiny v1.1 results\n"), None)
    assert choice.ruleset.version == "v1.1" and "README.md title" in choice.note


def test_detect_from_checklist_names(tmp_path):
    choice = choose_round(_tree(tmp_path, None, "TinyMLPerf v1.3 Submission Checklist.pdf"), None)
    assert choice.ruleset.version == "v1.3" and "checklist" in choice.source


def test_detect_from_folder_name(tmp_path):
    choice = choose_round(_tree(tmp_path, None, "Checklist.pdf", name="tiny_results_v1.1"), None)
    assert choice.ruleset.version == "v1.1" and "folder name" in choice.note


def test_undetectable_uses_latest_and_says_so(tmp_path):
    choice = choose_round(_tree(tmp_path, "# Our results\n", "Checklist.pdf"), None)
    assert choice.ruleset.version == SUPPORTED_ROUNDS[-1] and "--version" in choice.note


@pytest.mark.parametrize("old", ["v0.5", "v0.7"])
def test_older_rounds_use_the_nearest_rule_set_and_say_so(tmp_path, old):
    choice = choose_round(_tree(tmp_path, f"# MLPerf™ Tiny {old} results\n"), None)
    assert choice.detected == old and choice.ruleset.version == "v1.0"
    assert "no rule set for it" in choice.note and "v1.0" in choice.note


def test_requested_round_wins(tmp_path):
    tree = _tree(tmp_path, "# MLPerf™ Tiny v1.1 results\n")
    assert choose_round(tree, "1.3").ruleset.version == "v1.3"
    assert choose_round(tree, "v0.7").ruleset.version == "v1.0"
    with pytest.raises(UsageError):
        choose_round(tree, "v3.0")
