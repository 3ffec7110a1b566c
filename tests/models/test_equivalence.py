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
from itertools import pairwise
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from helpers.shared import shared_path
from submission_tools.models.equivalence import (CHANNEL_AXIS, MAX_ERR_LIMIT, WEIGHT_OPS, Verdict, compare_models,
                                                 core_graph, structure_digest, structure_differences, worst)
from submission_tools.models.tflite_reader import read_model, read_model_bytes

TRAINING = ("data", "mlperf_tiny", "benchmark", "training")
PAIRS = {  # benchmark: (folder, float reference, int8 reference)
    "kws": ("keyword_spotting", "kws_ref_model_float32.tflite", "kws_ref_model.tflite"),
    "vww": ("visual_wake_words", "vww_96_float.tflite", "vww_96_int8.tflite"),
    "ic": ("image_classification", "pretrainedResnet.tflite", "pretrainedResnet_quant.tflite"),
    "ic2": ("image_classification", "pretrainedResnet_large_float.tflite", "pretrainedResnet_large_int8.tflite"),
    "ad": ("anomaly_detection", "ad01_fp32.tflite", "ad01_int8.tflite"),
}
BENCHMARKS = list(PAIRS)
INT32_HALF = 0.5 * (2 ** 31 - 1)


def pair_paths(bench: str) -> tuple[Path, Path]:
    folder, float_name, int8_name = PAIRS[bench]
    base = shared_path(*TRAINING, folder, "trained_models")
    return base / float_name, base / int8_name


@cache
def _models(bench: str):
    float_path, int8_path = pair_paths(bench)
    return read_model(float_path), int8_path.read_bytes()


def models(bench: str):
    pair_paths(bench)  # skips when ../shared is absent
    return _models(bench)


# ------------------------------------------------------------------------------------------
# The simulator


def round_half_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def rows(a: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(a, axis, 0)
    return moved.reshape(moved.shape[0], -1)


def unrows(r: np.ndarray, like: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(r.reshape(np.moveaxis(like, axis, 0).shape), 0, axis)


class Layer:
    def __init__(self, op, flt, int8, fgraph):
        self.op = op.op
        self.x, self.w, self.b = op.inputs[0], op.inputs[1], op.inputs[2]
        self.axis = CHANNEL_AXIS[op.op]
        self.per_channel = int8.tensors[self.w].quantization.per_channel
        self.activation = op.activation
        self.output = op.outputs[0]


def layers_of(int8, flt) -> list[Layer]:
    gi, gf = core_graph(int8), core_graph(flt)
    out = []
    for oi, of in zip(gi.ops, gf.ops):
        if oi.op not in WEIGHT_OPS:
            continue
        layer = Layer(oi, flt, int8, gf)
        wt = flt.tensors[gf.source(of.inputs[1])]
        data = flt.tensor_data(wt.index).astype(np.float64)
        if wt.dtype == "INT8":  # hybrid: dequantize the per-tensor int8 weights
            data = data * float(wt.quantization.scales[0])
        layer.wf = data
        layer.bf = flt.tensor_data(gf.source(of.inputs[2])).astype(np.float64)
        out.append(layer)
    return out


def quantize(w, axis, per_channel, bias, s_in, qmax=127, clip_pct=None, rng=None):
    r = rows(w, axis)
    if per_channel:
        top = np.percentile(np.abs(r), clip_pct, axis=1) if clip_pct else np.abs(r).max(axis=1)
    else:
        top = np.full(r.shape[0], np.percentile(np.abs(r), clip_pct) if clip_pct else np.abs(r).max())
    s = (top / qmax).astype(np.float32).astype(np.float64)
    s = np.where(s > 0, s, 1.0)
    too_big = np.abs(bias) > INT32_HALF * s_in * s  # the converter's 2**30 bias rule
    if per_channel:
        s = np.where(too_big, np.abs(bias) / (s_in * INT32_HALF), s)
    elif too_big.any():
        s = np.full_like(s, (np.abs(bias) / (s_in * INT32_HALF)).max())
    s = s.astype(np.float32).astype(np.float64)
    x = r / s[:, None]
    q = np.floor(x + rng.random(x.shape)) if rng is not None else round_half_away(x)
    q = np.clip(q, -qmax, qmax)
    bias_scale = (s_in * s).astype(np.float32)
    qb = np.clip(round_half_away(bias / bias_scale.astype(np.float64)), -2 ** 31 + 1, 2 ** 31 - 1)
    return unrows(q, w, axis).astype(np.int8), s.astype(np.float32), qb.astype(np.int32), bias_scale


def write_data(buf: bytearray, model, tensor: int, array: np.ndarray) -> None:
    t = model.tensors[tensor]
    raw = np.ascontiguousarray(array).tobytes()
    assert len(raw) == t.data_length
    buf[t.data_offset:t.data_offset + len(raw)] = raw


def write_scales(buf: bytearray, model, tensor: int, scales: np.ndarray) -> None:
    q = model.tensors[tensor].quantization
    scales = np.asarray(scales, dtype="<f4")
    if scales.size != q.scales.size:  # per-tensor values into a per-channel vector: repeated
        assert scales.size == 1 or np.all(scales == scales[0])
        scales = np.full(q.scales.size, scales[0], dtype="<f4")
    buf[q.scales_offset:q.scales_offset + scales.nbytes] = scales.tobytes()


def equalize(int8, layers: list[Layer]) -> None:
    """Cross-layer equalization (Nagel et al.) of consecutive weight layers joined by ReLU."""
    for first, second in pairwise(layers):
        if second.x != first.output or first.activation not in ("RELU", "NONE") or \
                len(int8.consumers_of(first.output)) != 1:
            continue
        in_axis = 1 if second.op == "FULLY_CONNECTED" else 3
        r1 = np.abs(rows(first.wf, first.axis)).max(axis=1)
        r2 = np.abs(rows(second.wf, in_axis)).max(axis=1)
        scale = np.where((r1 > 0) & (r2 > 0), np.sqrt(r1 * r2) / np.where(r2 > 0, r2, 1), 1.0)
        shape1 = [1] * first.wf.ndim
        shape1[first.axis] = -1
        shape2 = [1] * second.wf.ndim
        shape2[in_axis] = -1
        first.wf = first.wf / scale.reshape(shape1)
        first.bf = first.bf / scale
        second.wf = second.wf * scale.reshape(shape2)


def simulate(bench: str, case: str, seed: int = 0) -> bytes:
    """A copy of the reference int8 file with the weights of `case` written into it."""
    flt, data = models(bench)
    if case == "A0":
        return data
    int8 = read_model_bytes(data, "int8")
    rng = np.random.default_rng(seed)
    layers = layers_of(int8, flt)
    buf = bytearray(data)
    act_scale = {t.index: float(t.quantization.scales[0]) for t in int8.tensors
                 if t.is_quantized and not t.is_constant}
    if case == "A6":  # other calibration: activation scales x e^U(-0.3, 0.3), SOFTMAX output kept
        for op in core_graph(int8).ops:
            if op.op in WEIGHT_OPS + ("ADD",):
                act_scale[op.outputs[0]] *= float(np.exp(rng.uniform(-0.3, 0.3)))
            elif op.op in ("AVERAGE_POOL_2D", "RESHAPE"):
                act_scale[op.outputs[0]] = act_scale[op.inputs[0]]
        for tensor, scale in act_scale.items():
            write_scales(buf, int8, tensor, np.array([scale]))
    if case == "A7":
        equalize(int8, layers)
    replaced = len(layers) // 2
    for k, layer in enumerate(layers):
        w, per_channel, options = layer.wf.copy(), layer.per_channel, {}
        r = rows(w, layer.axis)
        dead = np.abs(r).max(axis=1) < 1e-12
        if case.startswith("F1c"):  # noise of alpha x each channel's std; dead channels untouched
            alpha = float(case[3:]) / 100
            noise = rng.normal(size=r.shape) * alpha * r.std(axis=1, keepdims=True)
            noise[dead] = 0
            w = unrows(r + noise, w, layer.axis)
        elif case.startswith("F1-"):  # noise of alpha x the layer's std
            w = w + rng.normal(size=w.shape) * float(case[3:]) / 100 * w.std()
        elif case.startswith("F2-"):  # prune the smallest x% |w| of the layer
            flat = w.ravel().copy()
            flat[np.argsort(np.abs(flat), kind="stable")[:round(float(case[3:]) / 100 * flat.size)]] = 0
            w = flat.reshape(w.shape)
        elif (case == "F3" and k == replaced) or case == "F4":
            w = rng.normal(size=w.shape) * w.std()
        elif case == "A2":
            options["rng"] = rng
        elif case == "A3":
            per_channel = False
        elif case == "A4":
            options["clip_pct"] = 99.9
        elif case == "A5":
            options["qmax"] = 7
        qw, s, qb, bias_scale = quantize(w, layer.axis, per_channel, layer.bf, act_scale[layer.x], **options)
        write_data(buf, int8, layer.w, qw)
        write_scales(buf, int8, layer.w, s if int8.tensors[layer.w].quantization.per_channel or s.size == 1
                     else s[:1])
        write_data(buf, int8, layer.b, qb)
        write_scales(buf, int8, layer.b, bias_scale if int8.tensors[layer.b].quantization.per_channel
                     else bias_scale[:1])
    return bytes(buf)


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
