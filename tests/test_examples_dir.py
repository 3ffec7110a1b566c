"""examples/clean-submission is what the builder writes today, and it checks clean."""

from pathlib import Path

from submission_tools.check import CheckOptions, run_check
from submission_tools.example_tree import build_example_tree, write_example_reference

SHIPPED = Path(__file__).resolve().parents[1] / "examples" / "clean-submission"


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_shipped_example_is_current(tmp_path):
    fresh = build_example_tree(tmp_path / "clean-submission")
    assert _files(SHIPPED) == _files(fresh), (
        "examples/clean-submission is stale: rm -rf it and run `python -m submission_tools.example_tree "
        "examples/clean-submission`")


def test_shipped_example_passes(tmp_path):
    result = run_check(SHIPPED)
    # Without --reference the accuracy labels cannot be verified: said, as info, and nothing else.
    assert {f.rule for f in result.findings} == {"ACC001"} and result.exit_code(strict=True) == 0
    result = run_check(SHIPPED, CheckOptions(reference=write_example_reference(tmp_path / "reference")))
    assert result.findings == [] and result.exit_code(strict=True) == 0
