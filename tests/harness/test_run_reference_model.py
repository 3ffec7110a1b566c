"""The real keyword-spotting reference model in the virtual DUT (LiteRT), fed the 1000 real EEMBC
inputs through the serial protocol end to end: Top-1 as the reference measures it (90.0-90.3 %)."""

from __future__ import annotations

import json

import pytest

from helpers.harness_runs import quiet_run
from helpers.shared import shared_path


def test_kws_reference_model_accuracy_through_the_protocol(tmp_path):
    pytest.importorskip("ai_edge_litert", reason="needs the sim extra: pip install -e '.[sim]'")
    model = shared_path("data", "mlperf_tiny", "benchmark", "training", "keyword_spotting", "trained_models",
                        "kws_ref_model.tflite")
    dataset = shared_path("data", "energyrunner", "datasets", "kws01")
    config = tmp_path / "kws.yaml"
    config.write_text(f"benchmark: kws01\ndataset: {dataset}\ndevices:\n  dut: {{port: virtual}}\n"
                      f"virtual: {{model: {model}, pace: false}}\n", encoding="utf-8")
    outcome = quiet_run(config, "accuracy", tmp_path / "sessions")
    records = json.loads((outcome.session_dir / "results.json").read_text())
    assert len(records) == 1000 and len({r["file"] for r in records}) == 1000
    top1_line = next(line for line in outcome.results_txt if "Top 1% =" in line)
    top1 = float(top1_line.rsplit("=", 1)[1])
    assert 90.0 <= top1 <= 90.3
    manifest = json.loads((outcome.session_dir / "manifest.json").read_text())
    assert len(manifest["inputs"]) == 1000
    assert manifest["config"]["document"]["virtual"]["model"] == str(model)
