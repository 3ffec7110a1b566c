"""`submit model verify|identify` and the reference model registry.

The sub-app is exercised on its own (`model_app`) and mounted in a small Typer app the way the
main CLI mounts it (`app.add_typer(model_app, name="model")`).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from helpers.shared import shared_path
from submission_tools.errors import ReferenceCheckoutError
from submission_tools.models.cli_model import model_app, run_verify
from submission_tools.models.equivalence import structure_digest
from submission_tools.models.registry import (benchmark, benchmarks_for_round, file_by_sha256, identify,
                                              locate_pair, registry)
from submission_tools.models.tflite_reader import read_model, read_model_bytes
from submission_tools.reference import ENV_VAR, known_digests, sha256_of

runner = CliRunner()


def checkout() -> Path:
    return shared_path("data", "mlperf_tiny")


def ref_path(key: str) -> Path:
    root = checkout()
    return root / known_digests()["models"][key]["path"]


def mounted_app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def root() -> None:
        """The main CLI, in miniature."""

    app.add_typer(model_app, name="model")
    return app


def invoke(*args: str, mounted: bool = False, env: dict | None = None):
    if mounted:
        return runner.invoke(mounted_app(), ["model", *args], env=env)
    return runner.invoke(model_app, list(args), env=env)


def _builder():
    spec = importlib.util.spec_from_file_location("tflite_builder_for_cli_tests",
                                                  Path(__file__).with_name("test_tflite_reader.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requantized_kws(tmp_path: Path) -> Path:
    """The kws int8 reference with other activation scales (an allowed re-calibration)."""
    data = bytearray(ref_path("kws_int8").read_bytes())
    model = read_model_bytes(bytes(data))
    for op in model.operators[:9]:
        q = model.tensors[op.outputs[0]].quantization
        struct.pack_into("<f", data, q.scales_offset, float(q.scales[0]) * 1.2)
    path = tmp_path / "kws_requantized.tflite"
    path.write_bytes(bytes(data))
    return path


def one_layer_randomized(tmp_path: Path) -> Path:
    """The ic int8 reference with the weights of op 4 replaced by random int8 values."""
    data = bytearray(ref_path("ic_int8").read_bytes())
    model = read_model_bytes(bytes(data))
    w = model.tensors[model.operators[4].inputs[1]]
    noise = np.random.default_rng(3).integers(-127, 128, size=w.data_length, dtype=np.int8)
    data[w.data_offset:w.data_offset + w.data_length] = noise.tobytes()
    path = tmp_path / "ic_random_layer.tflite"
    path.write_bytes(bytes(data))
    return path


# ------------------------------------------------------------------------------------------
# Registry


def test_registry_agrees_with_reference_digests():
    digests = known_digests()["models"]
    seen = set()
    for name, models in registry().items():
        for ref in models.files:
            assert digests[ref.key]["sha256"] == ref.sha256, ref.key
            assert digests[ref.key]["path"] == ref.path, ref.key
            assert ref.key.startswith(name + "_") and ref.key.endswith(ref.role)
            seen.add(ref.key)
    assert seen == set(digests)


def test_registry_rounds_and_flags():
    assert benchmarks_for_round("v1.0") == ["kws", "vww", "ic", "ad"]
    assert benchmarks_for_round("v1.3") == ["kws", "vww", "ic", "ad", "sww"]
    assert benchmarks_for_round("1.4") == ["kws", "vww", "ic", "ic2", "ad", "sww"]
    assert benchmark("kws").float.hybrid and benchmark("kws").float.weights == "hybrid"
    assert not any(benchmark(b).float.hybrid for b in ("vww", "ic", "ic2", "ad", "sww"))
    assert benchmark("sww").int8 is None and benchmark("sww").float.weights == "int8"
    assert all(not models.float.path.endswith(".h5") for models in registry().values())


def test_registry_structures_match_the_files():
    for models in registry().values():
        for ref in models.files:
            model = read_model(checkout() / ref.path)
            assert structure_digest(model) == models.structure_sha256, ref.key
            assert len(model.operators) == models.operators
            assert sha256_of(checkout() / ref.path) == ref.sha256
    assert file_by_sha256(benchmark("ad").int8.sha256).key == "ad_int8"


def test_locate_pair():
    pair = locate_pair(checkout(), "kws")
    assert pair.float_path.name == "kws_ref_model_float32.tflite" and pair.int8_path.name == "kws_ref_model.tflite"
    assert any("hybrid" in note for note in pair.notes)
    assert locate_pair(checkout(), "sww").int8_path is None


def test_locate_pair_needs_a_checkout(tmp_path):
    with pytest.raises(ReferenceCheckoutError, match="not a checkout of mlcommons/tiny"):
        locate_pair(tmp_path, "kws")


# ------------------------------------------------------------------------------------------
# identify


@pytest.mark.parametrize("key", sorted(known_digests()["models"]))
def test_identify_each_reference_by_sha256(key):
    ident = identify(ref_path(key))
    bench, role = key.rsplit("_", 1)
    assert (ident.kind, ident.benchmark, ident.role) == ("reference", bench, role)
    assert ident.sha256 == known_digests()["models"][key]["sha256"]
    result = invoke("identify", str(ref_path(key)))
    assert result.exit_code == 0 and f"the {bench} " in result.stdout and "sha256" in result.stdout


def test_identify_requantized_by_structure(tmp_path):
    path = requantized_kws(tmp_path)
    ident = identify(path)
    assert ident.kind == "structure" and ident.benchmark == "kws" and ident.role is None
    result = invoke("identify", str(path), "--reference", str(checkout()), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["kind"] == "structure" and data["benchmark"] == "kws" and data["operators"] == 13
    assert "structurally the kws reference" in invoke("identify", str(path)).stdout


def test_identify_random_file_is_unknown(tmp_path):
    path = tmp_path / "random.tflite"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    ident = identify(path)
    assert ident.kind == "unknown" and not ident.readable and "not a readable .tflite" in ident.message
    result = invoke("identify", str(path))
    assert result.exit_code == 0 and "unknown" in result.stdout


def test_identify_an_unrelated_model_is_unknown(tmp_path):
    path = tmp_path / "adds.tflite"
    path.write_bytes(_builder().two_adds())
    ident = identify(path, checkout=checkout())
    assert ident.kind == "unknown" and ident.readable and ident.operators == 2


def test_identify_missing_file(tmp_path):
    result = invoke("identify", str(tmp_path / "absent.tflite"))
    assert result.exit_code == 2 and "InputError:" in result.stderr and "no such file" in result.stderr


# ------------------------------------------------------------------------------------------
# verify


@pytest.mark.parametrize("mounted", [False, True])
def test_verify_kws_reference_with_checkout(mounted):
    result = invoke("verify", str(ref_path("kws_int8")), "--reference", str(checkout()), mounted=mounted)
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "max err/tol" in out and "CONV_2D" in out and "hybrid" in out
    assert out.rstrip().splitlines()[-1].startswith("PASS: all 10 layers")


@pytest.mark.parametrize("bench, verdict", [("vww", "EXACT"), ("ic", "EXACT"), ("ic2", "EXACT"), ("ad", "EXACT"),
                                            ("kws", "PASS")])
def test_verify_json_against_the_float_file(bench, verdict):
    result = invoke("verify", str(ref_path(f"{bench}_int8")), "--reference", str(ref_path(f"{bench}_float")),
                    "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["verdict"] == verdict and data["benchmark"] == bench and data["blocking"] is False
    assert data["identification"]["kind"] == "reference" and data["layers"]


def test_verify_identifies_a_requantized_file(tmp_path):
    result = invoke("verify", str(requantized_kws(tmp_path)), "--reference", str(checkout()), "-f", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["benchmark"] == "kws" and data["identification"]["kind"] == "structure"
    assert data["verdict"] == "PASS"


def test_verify_reference_from_the_environment():
    result = invoke("verify", str(ref_path("ad_int8")), "-f", "json", env={ENV_VAR: str(checkout())})
    assert result.exit_code == 0 and json.loads(result.stdout)["verdict"] == "EXACT"


def test_verify_fail_exits_1(tmp_path):
    result = invoke("verify", str(one_layer_randomized(tmp_path)), "--reference", str(checkout()), mounted=True)
    assert result.exit_code == 1
    last = result.stdout.rstrip().splitlines()[-1]
    assert last.startswith("FAIL: 1 of 10 layers fail; layer 3 (op 4 CONV_2D")
    assert "looks replaced" in result.stdout


def test_verify_structure_mismatch_exits_1():
    result = invoke("verify", str(ref_path("vww_float")), "--reference", str(ref_path("ic_int8")))
    assert result.exit_code == 1 and "STRUCTURE_MISMATCH" in result.stdout
    assert "31 operators in the submitted model, 16 in the reference" in result.stdout


def test_verify_with_the_wrong_benchmark():
    result = invoke("verify", str(ref_path("ic_int8")), "--reference", str(checkout()), "--benchmark", "ic2",
                    "-f", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verdict"] == "STRUCTURE_MISMATCH" and data["benchmark"] == "ic2"
    assert any("looks like the ic model" in note for note in data["notes"])


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    data = ref_path("kws_int8").read_bytes()
    files = {"zero-length": b"", "truncated": data[: len(data) // 2], "text": b"model = 'not really'\n" * 20,
             "cycle": _builder().cyclic_model(), "truncated-end": data[:-50]}
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.tflite"
        paths[name].write_bytes(content)
    return paths


@pytest.mark.parametrize("mounted", [False, True])
def test_bad_submitted_files_exit_2_without_traceback(tmp_path, mounted):
    expected = {"zero-length": "empty file", "truncated": "truncated or corrupt", "text": "not a TensorFlow Lite model",
                "cycle": "cycle", "truncated-end": "truncated or corrupt"}
    for name, path in _bad_inputs(tmp_path).items():
        result = invoke("verify", str(path), "--reference", str(checkout()), mounted=mounted)
        assert result.exit_code == 2, (name, result.stdout, result.stderr)
        assert result.stderr.startswith(f"ModelFileError: {path}: ") and expected[name] in result.stderr, name
        assert "Traceback" not in result.stdout + result.stderr and result.stdout == ""
        assert isinstance(result.exception, SystemExit)


def test_bad_reference_file_exits_2(tmp_path):
    bad = _bad_inputs(tmp_path)["truncated"]
    result = invoke("verify", str(ref_path("kws_int8")), "--reference", str(bad))
    assert result.exit_code == 2 and "ModelFileError" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("case", ["missing-submitted", "missing-reference", "not-a-checkout", "unknown-model",
                                  "bad-benchmark"])
def test_other_bad_input_exits_2(tmp_path, case):
    submitted, reference, extra = str(ref_path("kws_int8")), str(checkout()), []
    message = ""
    if case == "missing-submitted":
        submitted, message = str(tmp_path / "absent.tflite"), "ModelFileError: "
    elif case == "missing-reference":
        reference, message = str(tmp_path / "absent"), "no such file or folder"
    elif case == "not-a-checkout":
        reference, message = str(tmp_path), "ReferenceCheckoutError: "
    elif case == "unknown-model":
        path = tmp_path / "adds.tflite"
        path.write_bytes(_builder().two_adds())
        submitted, message = str(path), "pass --benchmark kws|vww|ic|ic2|ad|sww"
    else:
        extra, message = ["--benchmark", "xyz"], "xyz"
    result = invoke("verify", submitted, "--reference", reference, *extra)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_run_verify_api():
    result = run_verify(ref_path("ad_int8"), checkout())
    assert result.verdict.value == "EXACT" and result.exit_code == 0 and result.benchmark == "ad"
