"""Simulated closed-division submissions: copies of a reference int8 .tflite with modified weights.

Shared by the equivalence tests and the MODEL rule fixtures. The weights come from the float
reference (dequantized where it is hybrid), modified as the case says, then quantized by an
emulation of the TFLite converter, and written into the same byte ranges of the int8 file.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise
from pathlib import Path

import numpy as np

from helpers.shared import shared_path
from submission_tools.models.equivalence import CHANNEL_AXIS, WEIGHT_OPS, core_graph
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
