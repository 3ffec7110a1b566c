"""`submit demo` used wrongly exits 2, names the problem and the fix, and writes nothing; and how the
demo chooses, per benchmark, between the built-in model and a reference model on real inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config
from helpers.demo_runs import run_cli
from submission_tools import demo
from submission_tools.demo import BenchPlan, DemoOptions, plan_benchmarks, score_line
from submission_tools.example_tree import ExampleSpec, write_example_reference
from submission_tools.reference import known_digests


def _usage(*args: str) -> str:
    code, out, err = run_cli("demo", *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err and out == ""
    return err


def test_a_non_empty_out_folder_is_refused(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    (out / "mine.txt").write_text("keep me\n")
    err = _usage("--out", str(out))
    assert f"--out {out}: the folder exists and is not empty" in err and "rm -r" in err
    assert [p.name for p in out.iterdir()] == ["mine.txt"]


def test_an_out_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "demo-out"
    out.write_text("a file\n")
    assert f"--out {out}: exists and is not a folder" in _usage("--out", str(out))


def test_an_out_that_cannot_be_created_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("a file\n")
    out = tmp_path / "a-file" / "demo-out"  # its parent is a file: no folder can be made there
    assert f"--out {out}: cannot create the folder" in _usage("--out", str(out))


def test_a_missing_reference_folder_is_refused(tmp_path):
    err = _usage("--out", str(tmp_path / "out"), "--reference", str(tmp_path / "no-such-tiny"))
    assert f"--reference {tmp_path / 'no-such-tiny'}: no such folder" in err and "mlcommons/tiny" in err
    assert not (tmp_path / "out").exists()


def test_a_reference_that_is_no_checkout_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "sim_available", lambda: True)
    (tmp_path / "empty").mkdir()
    err = _usage("--out", str(tmp_path / "out"), "--reference", str(tmp_path / "empty"))
    assert "not a checkout of mlcommons/tiny" in err
    assert not (tmp_path / "out").exists()


def test_reference_without_the_sim_extra_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "sim_available", lambda: False)
    reference = write_example_reference(tmp_path / "tiny")
    err = _usage("--out", str(tmp_path / "out"), "--reference", str(reference))
    assert "pip install -e '.[sim]'" in err and "ai-edge-litert" in err
    assert not (tmp_path / "out").exists()


def test_datasets_needs_a_reference_and_a_folder(tmp_path):
    assert "--datasets needs --reference" in _usage("--out", str(tmp_path / "o"), "--datasets", str(tmp_path))
    reference = write_example_reference(tmp_path / "tiny")
    err = _usage("--out", str(tmp_path / "o"), "--reference", str(reference), "--datasets", str(tmp_path / "none"))
    assert f"--datasets {tmp_path / 'none'}: no such folder" in err


def _real_set(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "y_labels.csv").write_text("".join(f"{n},12,{i % 12}\n" for i, n in enumerate(names)))
    for name in names:
        (folder / name).write_bytes(bytes(490))
    return folder


def test_the_reference_model_runs_only_where_its_real_inputs_all_exist(tmp_path):
    reference = write_example_reference(tmp_path / "tiny", ExampleSpec(accuracy_inputs=3))
    for key in ("kws_int8", "vww_int8"):  # stand-in model files: planning never loads them
        model = reference / known_digests()["models"][key]["path"]
        model.parent.mkdir(parents=True, exist_ok=True)
        model.write_bytes(b"TFL3")
    datasets = tmp_path / "datasets"
    _real_set(datasets / "kws01", ["a.bin", "b.bin"])
    incomplete = _real_set(datasets / "vww01", ["c.bin", "d.bin"])
    (incomplete / "d.bin").unlink()
    _real_set(datasets / "ic01", ["e.bin"])  # inputs but no reference model
    plans = {p.bench: p for p in plan_benchmarks(DemoOptions(out=tmp_path / "o", reference=reference,
                                                             datasets=datasets))}
    assert plans["kws"].model.name == "kws_ref_model.tflite"
    assert plans["kws"].dataset == (datasets / "kws01").resolve()
    assert plans["kws"].labels == reference / "benchmark/evaluation/datasets/kws01/y_labels.csv"
    assert [b for b, p in plans.items() if p.runs_reference_model] == ["kws"]
    assert list(plans) == ["kws", "vww", "ic", "ad", "sww"]


def test_the_config_of_a_session(tmp_path):
    builtin = demo.harness_config(BenchPlan("vww"), "energy")
    assert "benchmark: vww01" in builtin and "virtual: {model: builtin, pace: false, dataset_count: 50}" in builtin
    assert "interface: {name: stm32h573i-dk, port: virtual}" in builtin and "monitor: {name: lpm01a" in builtin
    assert "dataset:" not in builtin
    real = demo.harness_config(BenchPlan("kws", model=Path("/m/kws, model.tflite"), dataset=Path("/d/kws01")),
                               "accuracy")
    assert "interface" not in real and "monitor" not in real
    config = tmp_path / "harness.yaml"
    config.write_text(real)
    loaded = load_config(config)
    assert loaded.dataset == Path("/d/kws01") and loaded.virtual.model == Path("/m/kws, model.tflite")
    assert loaded.virtual.pace is False


@pytest.mark.parametrize("bench, mode, lines, expected", [
    ("ad", "accuracy", ["1.0 ulp-mlperf: Top 1% = 92.0", "1.0 ulp-mlperf: AUC = 0.965"], "AUC = 0.965"),
    ("kws", "accuracy", ["1.0 ulp-mlperf: Top 1% = 94.0", "1.0 ulp-mlperf: AUC = 0.9"], "Top 1% = 94.0"),
    ("sww", "energy", ["Power Edition Output", "  Power         : 23.9994 mW."], "Power : 23.9994 mW."),
])
def test_the_score_line_of_a_session(bench, mode, lines, expected):
    assert score_line(bench, mode, lines) == expected
