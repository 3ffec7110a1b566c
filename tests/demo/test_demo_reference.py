"""`submit demo --reference DIR --datasets DIR` with the mlcommons/tiny reference data beside the
checkout: keyword spotting runs the reference int8 model on the 1000 real EEMBC inputs (Top-1 as
the reference measures it), every other benchmark keeps its built-in model, and the tree passes.
Skipped, saying why, without ../shared or without the sim extra (ai-edge-litert)."""

from __future__ import annotations

import io
import json

import pytest

from harness.progress import Progress
from helpers.demo_runs import SYSTEM
from helpers.shared import shared_path
from helpers.live_sessions import live_findings
from submission_tools.demo import DemoOptions, run_demo, summary_lines


def test_the_reference_model_runs_where_real_inputs_exist(tmp_path, _virtual_dataset_cache):
    pytest.importorskip("ai_edge_litert", reason="needs the sim extra: pip install -e '.[sim]'")
    reference = shared_path("data", "mlperf_tiny")
    datasets = shared_path("data", "energyrunner", "datasets")
    said = io.StringIO()
    result = run_demo(DemoOptions(out=tmp_path / "demo-out", reference=reference, datasets=datasets, sww=False),
                      Progress(said))
    assert result.exit_code() == 0
    assert [(f.rule, f.message) for f in live_findings(result.check.findings)] == []
    assert [p.bench for p in result.plans if p.runs_reference_model] == ["kws"]
    assert "kws01: reference model kws_ref_model.tflite, real inputs in " in said.getvalue()
    assert "  reference models ran on real inputs for: kws01" in summary_lines(result)
    accuracy = next(m.session for m in result.measured if (m.bench, m.mode) == ("kws", "accuracy"))
    records = json.loads((accuracy / "results.json").read_text())
    assert len(records) == 1000
    top1 = float(next(line for line in (accuracy / "results.txt").read_text().splitlines()
                      if "Top 1% =" in line).rsplit("=", 1)[1])
    assert 90.0 <= top1 <= 90.3
    for m in result.measured:
        model = json.loads((m.session / "manifest.json").read_text())["config"]["document"]["virtual"]["model"]
        assert model.endswith("kws_ref_model.tflite") if m.bench == "kws" else model == "builtin"
    labels = result.reference / "benchmark/evaluation/datasets/kws01/y_labels.csv"
    assert labels.read_bytes() == (reference / "benchmark/evaluation/datasets/kws01/y_labels.csv").read_bytes()
    readme = (result.packaged / "code" / "kws" / "virtual" / "README.md").read_text()
    assert "reference model kws_ref_model.tflite" in readme
    assert (result.packaged / "results" / SYSTEM / "kws" / "energy").is_dir()
