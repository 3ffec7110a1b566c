"""When the demo's tree does not pass `submit check`, the demo still packages it and writes the
report (that is what the report is for), says FAILED with the findings count, and exits 1."""

from __future__ import annotations

import io

from harness.progress import Progress
from submission_tools import demo
from submission_tools.demo import DemoOptions, run_demo, summary_lines
from submission_tools.example_tree import ExampleSpec, write_example_reference


def test_a_tree_with_errors_is_still_packaged_and_reported_and_exits_1(tmp_path, monkeypatch,
                                                                       _virtual_dataset_cache):
    monkeypatch.setattr(demo, "BENCHMARKS", ("kws",))
    # labels for fewer inputs than the virtual DUT ran: the checker must say so
    monkeypatch.setattr(demo, "write_example_reference",
                        lambda dest, spec: write_example_reference(dest, ExampleSpec(accuracy_inputs=10)))
    result = run_demo(DemoOptions(out=tmp_path / "demo-out", sww=False), Progress(io.StringIO()))
    assert result.exit_code() == 1
    assert result.check.counts["error"] > 0
    assert (result.packaged / "results" / demo.SYSTEM / "kws" / "accuracy" / "results.json").is_file()
    assert (result.out / "report.html").stat().st_size > 0
    first = summary_lines(result)[0]
    assert first.startswith("submit demo: FAILED: ") and f"({len(result.check.findings)} findings)" in first
