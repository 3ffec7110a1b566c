"""Model equivalence on the reference models and on simulated submissions (model-equivalence 1.5).

Each simulated submission is a copy of the reference int8 file whose int8 weights, weight scales,
biases, bias scales (and, for A6, activation scales) are overwritten in place, in the same byte
ranges, so the file layout is kept. The weights come from the float reference (dequantized where
it is hybrid), modified as the case says, then quantized by an emulation of the TFLite converter:
symmetric, max|w|/127 per output channel (CONV/DW) or per tensor (FC), round half away from zero,
bias = round(b / (s_in s_w)) with the weight scale enlarged so that no bias exceeds 2**30.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from helpers.shared import shared_path
from submission_tools.models.equivalence import (MAX_ERR_LIMIT, Verdict, compare_models,
                                                 structure_digest, structure_differences, worst)
from submission_tools.models.tflite_reader import read_model, read_model_bytes

from helpers.model_variants import BENCHMARKS, TRAINING, models, pair_paths, simulate  # shared with MODEL fixtures


def verify(bench: str, case: str, seed: int = 0):
    flt, _ = models(bench)
    return compare_models(read_model_bytes(simulate(bench, case, seed), f"{bench}-{case}.tflite"), flt)


# ------------------------------------------------------------------------------------------
# The verdicts of model-equivalence section 1.5 (ic2 is not in that table: it behaves as ic)

E, P, N, R, F = Verdict.EXACT, Verdict.PASS, Verdict.WARN_NON_RTN, Verdict.WARN_RESCALED, Verdict.FAIL
TABLE = {  # case: verdicts for kws, vww, ic, ic2, ad
    "A0": (P, E, E, E, E),  # the reference int8 file itself
    "A1": (E, E, E, E, E),  # re-PTQ with the emulated converter
    "A2": (N, N, N, N, N),  # stochastic rounding (seeded)
    "A3": (P, P, P, P, E),  # per-tensor weight scales (AD's FC layers are per-tensor already)
    "A4": (P, P, P, P, P),  # weight clipping at the 99.9th percentile
    "A5": (P, P, P, P, P),  # 4-bit grid (qmax = 7)
    "A6": (E, E, E, E, E),  # other calibration: activation scales x e^U(-.3, .3)
    "A7": (R, R, R, R, R),  # cross-layer equalization
    "F1-1": (F, F, F, F, F),  # noise 1% of the layer std
    "F1c0.1": (N, N, N, N, N),  # noise 0.1% of each channel's std
    "F1c1": (F, F, F, F, F),  # noise 1% of each channel's std
    "F1c3": (F, F, F, F, F),
    "F2-10": (F, F, F, F, F),  # prune the smallest 10% per layer
    "F2-30": (F, F, F, F, F),
    "F3": (F, F, F, F, F),  # one layer replaced with random weights
    "F4": (F, F, F, F, F),  # all layers replaced
}


@pytest.mark.parametrize("case", list(TABLE))
@pytest.mark.parametrize("bench", BENCHMARKS)
def test_simulated_submission_verdict(bench, case):
    result = verify(bench, case)
    expected = TABLE[case][BENCHMARKS.index(bench)]
    assert result.verdict is expected, f"{bench} {case}: {result.verdict} ({result.reason})"
    assert result.verdict is worst(l.verdict for l in result.layers)
    if expected in (E, P):
        assert result.max_err_tol <= MAX_ERR_LIMIT and result.min_frac_le_half == 1.0
    if expected is N:
        assert result.max_err_tol <= MAX_ERR_LIMIT and result.min_frac_le_half < 0.999
    if expected in (R, F):
        assert result.max_err_tol > MAX_ERR_LIMIT
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("bench", BENCHMARKS)
def test_reference_int8_against_its_float(bench):
    result = verify(bench, "A0")
    assert len(result.layers) == {"kws": 10, "vww": 28, "ic": 10, "ic2": 10, "ad": 10}[bench]
    if bench == "kws":  # the hybrid float reference: within the widened tolerance, not EXACT
        assert result.verdict is P and 0.8 < result.max_err_tol < 0.9
        assert any("hybrid" in note for note in result.notes)
        conv = [l for l in result.layers if l.op == "CONV_2D"]
        assert all("hybrid" in l.reference_weights for l in conv)
        assert all(l.scale_ratio_maxdev > 1e-3 for l in conv)
    else:
        assert result.verdict is E and 0.49 < result.max_err_tol <= 0.5005
        assert all(l.scale_ratio_maxdev < 1e-5 for l in result.layers)
    assert all(l.correlation > 0.997 for l in result.layers)
    assert all(l.bias_ok and (l.bias_scale_maxdev or 0) < 1e-6 for l in result.layers)
    assert all(l.pruned == 0 for l in result.layers)


def test_vww_dead_channels_are_skipped_and_their_biases_tolerated():
    result = verify("vww", "A0")
    dead = [l for l in result.layers if l.dead_channels]
    assert dead and sum(l.dead_channels for l in dead) > 500
    # biases at +-2**30 are off by many bias steps, at a relative error of 1e-7: tolerated
    assert max(l.bias_max_err_steps for l in dead) > 50 and all(l.bias_ok for l in dead)


def test_stochastic_rounding_stays_within_one_step():
    result = verify("ic", "A2")
    assert 0.9 < result.max_err_tol <= MAX_ERR_LIMIT and 0.6 < result.min_frac_le_half < 0.85
    assert "not round-to-nearest" in result.reason


def test_equalization_is_recognised_by_rescaling():
    result = verify("ad", "A7")
    rescaled = [l for l in result.layers if l.verdict is R]
    assert rescaled and all(l.rescaled_max_err_tol <= MAX_ERR_LIMIT < l.max_err_tol for l in rescaled)
    assert "rescaling" in result.reason


def test_one_replaced_layer_is_pinpointed():
    result = verify("vww", "F3")
    failed = [l for l in result.layers if l.verdict is F]
    assert len(failed) == 1 and failed[0].layer == len(result.layers) // 2
    assert abs(failed[0].correlation) < 0.5 and any("looks replaced" in n for n in failed[0].notes)
    assert all(l.verdict is E for l in result.layers if l is not failed[0])
    assert f"layer {failed[0].layer}" in result.reason


def test_all_layers_replaced_all_fail():
    result = verify("kws", "F4")
    assert all(l.verdict is F for l in result.layers)


def test_pruning_is_counted():
    result = verify("ic", "F2-10")
    assert sum(l.pruned for l in result.layers) > 1000
    assert any("pruned" in note for l in result.layers for note in l.notes)


def test_noise_one_percent_of_channel_std_fails_every_seed():
    for seed in (1, 2, 3):
        assert verify("ad", "F1c1", seed).verdict is F


def test_result_dict():
    result = verify("ic", "A0")
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert d["verdict"] == "EXACT" and d["blocking"] is False and len(d["layers"]) == 10
    layer = d["layers"][0]
    for key in ("max_err_tol", "frac_le_half", "correlation", "pruned", "scale_ratio_maxdev", "bias_ok",
                "bias_scale_maxdev", "verdict", "op", "shape"):
        assert key in layer
    assert d["thresholds"]["max_err_tol"] == MAX_ERR_LIMIT


# ------------------------------------------------------------------------------------------
# Structure


@pytest.mark.parametrize("bench", BENCHMARKS)
def test_reference_pairs_have_the_same_structure(bench):
    float_path, int8_path = pair_paths(bench)
    flt, int8 = read_model(float_path), read_model(int8_path)
    assert structure_differences(int8, flt) == []
    assert structure_digest(int8) == structure_digest(flt)


def _mismatch(submitted: Path, reference: Path):
    result = compare_models(read_model(submitted), read_model(reference))
    assert result.verdict is Verdict.STRUCTURE_MISMATCH and result.exit_code == 1 and not result.layers
    return result


def test_vww_float_against_ic_int8():
    result = _mismatch(pair_paths("vww")[0], pair_paths("ic")[1])
    assert "31 operators in the submitted model, 16 in the reference" in result.reason
    assert "op 1: DEPTHWISE_CONV_2D vs CONV_2D" in result.reason


def test_large_ic_int8_against_ic_float():
    result = _mismatch(pair_paths("ic2")[1], pair_paths("ic")[0])
    assert "op 0 CONV_2D: input 1 (weights) has shape (40,3,3,3) vs (16,3,3,3) in the reference" in result.reason
    assert len(result.structure_differences) > 1


def test_kws_against_streaming_wakeword():
    sww = shared_path(*TRAINING, "streaming_wakeword", "trained_models", "str_ww_ref_model.tflite")
    result = _mismatch(pair_paths("kws")[1], sww)
    assert "13 operators in the submitted model, 11 in the reference" in result.reason


def test_changed_stride_is_a_mismatch():
    import struct

    import tflite
    _, int8_path = pair_paths("kws")
    data = bytearray(int8_path.read_bytes())
    op = tflite.Model.GetRootAs(bytes(data), 0).Subgraphs(0).Operators(0)
    options = op.BuiltinOptions()
    table = tflite.Conv2DOptions()
    table.Init(options.Bytes, options.Pos)
    pos = table._tab.Pos + table._tab.Offset(6)  # stride_w
    struct.pack_into("<i", data, pos, 1)
    result = compare_models(read_model_bytes(bytes(data)), read_model(pair_paths("kws")[0]))
    assert result.verdict is Verdict.STRUCTURE_MISMATCH
    assert "op 0 CONV_2D: option stride_w = 1 vs 2 in the reference" in result.reason


def test_float_model_against_itself_is_exact():
    float_path = pair_paths("vww")[0]
    result = compare_models(read_model(float_path), read_model(float_path))
    assert result.verdict is Verdict.EXACT and result.max_err_tol == 0
    assert all(l.submitted_quantization == "float" for l in result.layers)


def test_int8_model_against_itself():
    _, int8_path = pair_paths("ic")
    result = compare_models(read_model(int8_path), read_model(int8_path))
    assert result.verdict is Verdict.EXACT and result.max_err_tol == 0


def _builder():
    spec = importlib.util.spec_from_file_location("tflite_builder_for_tests",
                                                  Path(__file__).with_name("test_tflite_reader.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_interface_quantize_and_dequantize_are_looked_through():
    import tflite
    b = _builder()
    Q, DQ, ADD = tflite.BuiltinOperator.QUANTIZE, tflite.BuiltinOperator.DEQUANTIZE, tflite.BuiltinOperator.ADD
    plain = b.build_tflite([{"shape": [1, 4]} for _ in range(3)], [{"inputs": [0, 1], "outputs": [2]}],
                           inputs=[0, 1], outputs=[2])
    wrapped = b.build_tflite(
        [{"shape": [1, 4]} for _ in range(5)],
        [{"opcode": 1, "inputs": [0], "outputs": [3]}, {"opcode": 0, "inputs": [3, 1], "outputs": [4]},
         {"opcode": 2, "inputs": [4], "outputs": [2]}],
        inputs=[0, 1], outputs=[2], opcodes=[ADD, Q, DQ])
    plain_model, wrapped_model = read_model_bytes(plain), read_model_bytes(wrapped)
    assert structure_digest(plain_model) == structure_digest(wrapped_model)
    result = compare_models(wrapped_model, plain_model)
    assert result.verdict is Verdict.EXACT and any("QUANTIZE of the graph input" in n for n in result.notes)
