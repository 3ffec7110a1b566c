"""Is a submitted .tflite the closed-division reference model, faithfully quantized?

Two steps (docs of the method: model-equivalence, section 1):

1. Structure. Operator types in order, the shapes of every input and output, which inputs are
   constants, each input's producer (connectivity) and the operator options (fused activation,
   padding, strides, ...). Data types are ignored (float reference vs int8 submission). Interface
   QUANTIZE/DEQUANTIZE ops at the graph's input and output, and DEQUANTIZE ops of constant weights,
   are looked through. Any difference: STRUCTURE_MISMATCH, with the first difference as the reason.

2. Weights. Per CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED weight tensor, with s the submitted
   step (per channel or per tensor) and s_ref the reference's own step when its weights are
   quantized (the hybrid KWS float model), else 0:

   * ``max_err_tol`` = max |deq - w_ref| / (s + 0.5 s_ref), without weights legitimately clipped to
     the channel's extreme level. Above 1.002: the weights are not a rounding of the reference ->
     FAIL, unless positive per-output/per-input channel factors (fitted by alternating least
     squares) bring it under 1.002 -> WARN_RESCALED (cross-layer equalization, for a reviewer).
   * ``frac_le_half``: share of weights within 0.5 s + 0.5 s_ref. Under 0.999 -> WARN_NON_RTN
     (stochastic/adaptive rounding, or a tiny perturbation: the quantization method must be shown).
   * ``scale_ratio_maxdev`` = max |log(s / (max|w_ref|/127))| over live channels, at the default
     converter's granularity (CONV/DW per channel, FC as submitted). Under 1e-5 with a max error of
     0.5 step -> EXACT (default TFLite PTQ reproduced); otherwise PASS.
   * Information: correlation, weights pruned to zero, bias error (|deq - b| <= 0.5 bias step or
     1e-6 |b|; bias correction is legitimate), and the internal check bias_scale = s_in * s_w.

The model's verdict is the worst layer verdict.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Optional

import numpy as np

from submission_tools.models.tflite_reader import TFLiteModel

WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
# Output-channel axis of the weight tensor, as the converter quantizes it per channel.
CHANNEL_AXIS = {"CONV_2D": 0, "DEPTHWISE_CONV_2D": 3, "FULLY_CONNECTED": 0}
# Options that change what an operator computes (compared between the two models).
STRUCTURAL_OPTIONS = ("padding", "stride_w", "stride_h", "dilation_w", "dilation_h", "depth_multiplier",
                      "filter_w", "filter_h", "keep_num_dims")

MAX_ERR_LIMIT = 1.002  # max_err_tol above this: not a faithful rounding of the reference
EXACT_MAX_ERR = 0.5005  # RTN gives 0.5 exactly (up to float32 rounding of w/s)
RTN_FRACTION = 0.999  # frac_le_half at or above this: round to nearest
EXACT_SCALE_DEV = 1e-5  # |log(s / (max|w|/127))| of the default converter
DEAD_CHANNEL = 1e-12  # channels with max|w| below this are skipped by the scale check
HALF_STEP_SLACK = 1e-5  # relative slack on the half-step threshold (float32 rounding of w/s)
BIAS_RELATIVE = 1e-6  # biases at +-2**30 are only float32-exact to this
LOW_CORRELATION = 0.5
CLIPPED_NOTE_SHARE = 0.01  # a layer with more clipped weights than this gets a note for the reviewer
FLOAT_STEP = 2e-6  # stands for the step of float (unquantized) submitted weights, relative to max|w|
ALS_ITERATIONS = 200


class Verdict(str, Enum):
    EXACT = "EXACT"
    PASS = "PASS"
    WARN_NON_RTN = "WARN_NON_RTN"
    WARN_RESCALED = "WARN_RESCALED"
    FAIL = "FAIL"
    STRUCTURE_MISMATCH = "STRUCTURE_MISMATCH"

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)

    @property
    def blocks(self) -> bool:
        """FAIL and STRUCTURE_MISMATCH block a closed submission; WARN_* need a reviewer."""
        return self in (Verdict.FAIL, Verdict.STRUCTURE_MISMATCH)

    def __str__(self) -> str:
        return self.value


def worst(verdicts) -> Verdict:
    return max(verdicts, key=lambda v: v.rank, default=Verdict.EXACT)


VERDICT_MEANING = {
    Verdict.EXACT: "the default TFLite post-training quantization of the reference, reproduced exactly",
    Verdict.PASS: "a round-to-nearest quantization of the reference weights",
    Verdict.WARN_NON_RTN: "within one step of the reference weights but not round-to-nearest "
                          "(stochastic or adaptive rounding, or a tiny perturbation): the quantization "
                          "method needs a reviewer",
    Verdict.WARN_RESCALED: "the reference weights rescaled per channel (cross-layer equalization or "
                           "similar): needs a reviewer",
    Verdict.FAIL: "the weights are not a quantization of the reference weights",
    Verdict.STRUCTURE_MISMATCH: "the model's graph differs from the reference",
}


# --------------------------------------------------------------------------------------------
# Structure


@dataclass
class CoreGraph:
    """The operators that compute, with interface and weight-dequantize ops looked through."""

    model: TFLiteModel
    ops: list  # OperatorInfo, in order
    alias: dict[int, int]  # tensor -> the tensor it stands for (through a looked-through op)
    skipped: list[str]  # what was looked through

    def source(self, tensor: int) -> int:
        return self.alias.get(tensor, tensor)


def core_graph(model: TFLiteModel) -> CoreGraph:
    graph_inputs, graph_outputs = set(model.inputs), set(model.outputs)
    alias: dict[int, int] = {}
    skipped: list[str] = []
    ops = []
    for op in model.operators:
        real_inputs = [t for t in op.inputs if t >= 0]
        if op.op == "QUANTIZE" and len(real_inputs) == 1 and real_inputs[0] in graph_inputs:
            alias[op.outputs[0]] = real_inputs[0]
            skipped.append(f"op {op.index} QUANTIZE of the graph input")
            continue
        if op.op == "DEQUANTIZE" and len(real_inputs) == 1 and model.tensors[real_inputs[0]].is_constant:
            alias[op.outputs[0]] = real_inputs[0]
            skipped.append(f"op {op.index} DEQUANTIZE of constant {model.tensors[real_inputs[0]].name!r}")
            continue
        if op.op == "DEQUANTIZE" and len(op.outputs) == 1 and op.outputs[0] in graph_outputs:
            skipped.append(f"op {op.index} DEQUANTIZE of the graph output")
            continue
        ops.append(op)
    return CoreGraph(model, ops, alias, skipped)


def _op_signature(graph: CoreGraph, position: dict[int, int], op) -> dict:
    model = graph.model
    inputs = []
    for t in op.inputs:
        if t < 0:
            inputs.append(None)
            continue
        source = graph.source(t)
        tensor = model.tensors[source]
        producer = model.producer_of.get(source)
        inputs.append({"shape": list(tensor.shape), "const": tensor.is_constant,
                       "from": position.get(producer) if producer is not None else None})
    outputs = [list(model.tensors[t].shape) for t in op.outputs]
    options = {k: op.options[k] for k in STRUCTURAL_OPTIONS if k in op.options}
    return {"op": op.op, "activation": op.activation, "options": options, "inputs": inputs,
            "outputs": outputs}


def structure_signature(model: TFLiteModel) -> dict:
    """A dtype-free description of the graph: what is compared between two models."""
    graph = core_graph(model)
    position = {op.index: i for i, op in enumerate(graph.ops)}
    # a graph output written by a looked-through DEQUANTIZE is its input
    outputs = []
    for t in model.outputs:
        producer = model.producer_of.get(t)
        if producer is not None and producer not in position and model.operators[producer].op == "DEQUANTIZE":
            t = model.operators[producer].inputs[0]
        outputs.append(list(model.tensors[t].shape))
    return {"inputs": [list(model.tensors[t].shape) for t in model.inputs], "outputs": outputs,
            "ops": [_op_signature(graph, position, op) for op in graph.ops]}


def structure_digest(model: TFLiteModel) -> str:
    """sha256 of the structure signature: equal for a float model and its int8 quantization."""
    text = json.dumps(structure_signature(model), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _shape(shape) -> str:
    return "(" + ",".join(str(d) for d in shape) + ")"


def structure_differences(submitted: TFLiteModel, reference: TFLiteModel, limit: int = 20) -> list[str]:
    """Human-readable differences between the two graphs, the most telling first; [] when equal."""
    a, b = structure_signature(submitted), structure_signature(reference)
    diffs: list[str] = []
    ops_a, ops_b = a["ops"], b["ops"]
    types_a, types_b = [o["op"] for o in ops_a], [o["op"] for o in ops_b]
    if len(ops_a) != len(ops_b):
        first = next((i for i, (x, y) in enumerate(zip(types_a, types_b)) if x != y), min(len(ops_a), len(ops_b)))
        here = types_a[first] if first < len(types_a) else "nothing"
        there = types_b[first] if first < len(types_b) else "nothing"
        diffs.append(f"{len(ops_a)} operators in the submitted model, {len(ops_b)} in the reference; "
                     f"the first difference is at op {first}: {here} vs {there}")
        return diffs
    if a["inputs"] != b["inputs"]:
        diffs.append(f"graph inputs {', '.join(map(_shape, a['inputs']))} in the submitted model, "
                     f"{', '.join(map(_shape, b['inputs']))} in the reference")
    for i, (x, y) in enumerate(zip(ops_a, ops_b)):
        where = f"op {i} {x['op']}"
        if x["op"] != y["op"]:
            diffs.append(f"op {i} is {x['op']} in the submitted model, {y['op']} in the reference")
            continue
        if x["activation"] != y["activation"]:
            diffs.append(f"{where}: fused activation {x['activation']} vs {y['activation']} in the reference")
        for key in sorted(set(x["options"]) | set(y["options"])):
            if x["options"].get(key) != y["options"].get(key):
                diffs.append(f"{where}: option {key} = {x['options'].get(key)} vs "
                             f"{y['options'].get(key)} in the reference")
        if len(x["inputs"]) != len(y["inputs"]) or len(x["outputs"]) != len(y["outputs"]):
            diffs.append(f"{where}: {len(x['inputs'])} inputs/{len(x['outputs'])} outputs vs "
                         f"{len(y['inputs'])}/{len(y['outputs'])} in the reference")
            continue
        for k, (p, q) in enumerate(zip(x["inputs"], y["inputs"])):
            name = _input_name(x["op"], k)
            if (p is None) != (q is None):
                diffs.append(f"{where}: input {k} ({name}) is {'absent' if p is None else 'present'} "
                             f"vs {'absent' if q is None else 'present'} in the reference")
                continue
            if p is None:
                continue
            if p["shape"] != q["shape"]:
                diffs.append(f"{where}: input {k} ({name}) has shape {_shape(p['shape'])} vs "
                             f"{_shape(q['shape'])} in the reference")
            if p["const"] != q["const"]:
                diffs.append(f"{where}: input {k} ({name}) is {'a constant' if p['const'] else 'computed'} vs "
                             f"{'a constant' if q['const'] else 'computed'} in the reference")
            if p["from"] != q["from"]:
                diffs.append(f"{where}: input {k} ({name}) comes from {_source(p['from'])} vs "
                             f"{_source(q['from'])} in the reference")
        for k, (p, q) in enumerate(zip(x["outputs"], y["outputs"])):
            if p != q:
                diffs.append(f"{where}: output {k} has shape {_shape(p)} vs {_shape(q)} in the reference")
        if len(diffs) >= limit:
            break
    if not diffs and a["outputs"] != b["outputs"]:
        diffs.append(f"graph outputs {', '.join(map(_shape, a['outputs']))} in the submitted model, "
                     f"{', '.join(map(_shape, b['outputs']))} in the reference")
    return diffs[:limit]


def _input_name(op: str, k: int) -> str:
    if op in WEIGHT_OPS:
        return ("activation", "weights", "bias")[k] if k < 3 else f"#{k}"
    return "activation" if k == 0 else f"#{k}"


def _source(position: Optional[int]) -> str:
    return "the graph input or a constant" if position is None else f"op {position}"


# --------------------------------------------------------------------------------------------
# Weights


@dataclass
class LayerResult:
    layer: int  # position among the compared ops
    op_index: int  # index in the submitted file
    op: str
    tensor: str  # submitted weight tensor name
    shape: tuple[int, ...]
    submitted_quantization: str  # "per-channel(axis 0)", "per-tensor", "float"
    reference_weights: str  # "float32", "int8 per-tensor (hybrid)", ...
    weights: int
    max_err_tol: float
    frac_le_half: float
    correlation: Optional[float]
    pruned: int
    clipped: int
    dead_channels: int
    scale_ratio_maxdev: Optional[float]
    rescaled_max_err_tol: Optional[float] = None
    bias_max_err_steps: Optional[float] = None
    bias_ok: Optional[bool] = None
    bias_scale_maxdev: Optional[float] = None
    verdict: Verdict = Verdict.EXACT
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"layer": self.layer, "op_index": self.op_index, "op": self.op, "tensor": self.tensor,
                "shape": list(self.shape), "submitted_quantization": self.submitted_quantization,
                "reference_weights": self.reference_weights, "weights": self.weights,
                "max_err_tol": _num(self.max_err_tol), "frac_le_half": _num(self.frac_le_half),
                "correlation": _num(self.correlation), "pruned": self.pruned, "clipped": self.clipped,
                "dead_channels": self.dead_channels, "scale_ratio_maxdev": _num(self.scale_ratio_maxdev),
                "rescaled_max_err_tol": _num(self.rescaled_max_err_tol),
                "bias_max_err_steps": _num(self.bias_max_err_steps), "bias_ok": self.bias_ok,
                "bias_scale_maxdev": _num(self.bias_scale_maxdev), "verdict": self.verdict.value,
                "notes": list(self.notes)}


def _num(value: Optional[float]) -> Optional[float]:
    """A JSON-safe number: NaN becomes None, an infinity the largest float (strict JSON has neither)."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return 1e308 if value > 0 else -1e308
    return value


@dataclass
class EquivalenceResult:
    submitted: str
    reference: str
    verdict: Verdict
    reason: str
    layers: list[LayerResult] = field(default_factory=list)
    structure_differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    operators: int = 0
    benchmark: Optional[str] = None
    identification: Optional[dict] = None

    @property
    def exit_code(self) -> int:
        return 1 if self.verdict.blocks else 0

    @property
    def max_err_tol(self) -> Optional[float]:
        return max((l.max_err_tol for l in self.layers), default=None)

    @property
    def min_frac_le_half(self) -> Optional[float]:
        return min((l.frac_le_half for l in self.layers), default=None)

    def to_dict(self) -> dict:
        return {"submitted": self.submitted, "reference": self.reference, "benchmark": self.benchmark,
                "identification": self.identification, "verdict": self.verdict.value,
                "meaning": VERDICT_MEANING[self.verdict], "reason": self.reason,
                "blocking": self.verdict.blocks, "operators": self.operators,
                "max_err_tol": _num(self.max_err_tol), "min_frac_le_half": _num(self.min_frac_le_half),
                "structure_differences": list(self.structure_differences),
                "layers": [l.to_dict() for l in self.layers], "notes": list(self.notes),
                "thresholds": {"max_err_tol": MAX_ERR_LIMIT, "frac_le_half": RTN_FRACTION,
                               "scale_ratio_maxdev": EXACT_SCALE_DEV, "exact_max_err_tol": EXACT_MAX_ERR}}


@dataclass
class _Weights:
    values: np.ndarray  # float64, full shape: the real values the file means
    step: Optional[np.ndarray]  # float64, full shape: the quantization step (None: float weights)
    levels: Optional[np.ndarray]  # int64, full shape: q - zero_point (None: float weights)
    per_channel_axis: Optional[int]  # quantized dimension when per-channel
    description: str


def _weights(model: TFLiteModel, tensor_index: int) -> _Weights:
    tensor = model.tensors[tensor_index]
    data = model.tensor_data(tensor_index)
    shape = tensor.shape
    if not tensor.is_quantized or tensor.dtype in ("FLOAT32", "FLOAT16", "FLOAT64"):
        values = np.asarray(data, dtype=np.float64)
        return _Weights(values, None, None, None, tensor.dtype.lower())
    q = tensor.quantization
    scales = q.scales.astype(np.float64)
    zero_points = q.zero_points.astype(np.int64) if q.zero_points.size else np.zeros(1, np.int64)
    if q.per_channel:
        bshape = [1] * len(shape)
        bshape[q.dimension] = shape[q.dimension]
        scales = scales.reshape(bshape)
        zero_points = zero_points.reshape(bshape) if zero_points.size > 1 else zero_points[0]
        description = f"{tensor.dtype.lower()} per-channel(axis {q.dimension})"
        axis = q.dimension
    else:
        scales = scales[0]
        zero_points = zero_points[0]
        description = f"{tensor.dtype.lower()} per-tensor"
        axis = None
    levels = np.asarray(data, dtype=np.int64) - zero_points
    values = levels * scales
    step = np.broadcast_to(np.asarray(scales, dtype=np.float64), shape)
    return _Weights(values, step, levels, axis, description)


def _rows(array: np.ndarray, axis: int) -> np.ndarray:
    """The array with `axis` first, flattened to (channels, rest)."""
    moved = np.moveaxis(np.asarray(array), axis, 0)
    return moved.reshape(moved.shape[0], -1)


def _error_ratio(deq, ref, step, ref_step, levels, per_channel):
    """(max_err_tol, frac_le_half, clipped mask) on (C, M) arrays."""
    err = np.abs(deq - ref)
    tol = step + 0.5 * ref_step
    if levels is not None:
        magnitude = np.abs(levels)
        extreme = magnitude.max(axis=1, keepdims=True) if per_channel else magnitude.max()
        # at the channel's extreme level with a larger reference value: legitimately clipped
        excused = (magnitude == extreme) & (magnitude > 0) & (np.abs(ref) > np.abs(deq)) & \
                  (np.sign(ref) == np.sign(deq))
        beyond = np.abs(ref) - np.abs(deq) > (0.5 * step + 0.5 * ref_step) * (1 + HALF_STEP_SLACK)
        clipped = excused & beyond  # the ones that were really clipped, for the report
        keep = ~excused
    else:
        clipped = np.zeros(err.shape, dtype=bool)
        keep = ~clipped
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / tol)
    ratio = np.where(np.isnan(ratio), np.inf, ratio)
    kept = ratio[keep]
    max_ratio = float(kept.max()) if kept.size else 0.0
    half = (0.5 * step + 0.5 * ref_step) * (1 + HALF_STEP_SLACK)
    within = (err <= half)[keep]
    frac = float(within.mean()) if within.size else 1.0
    return max_ratio, frac, clipped


def _factor_check(factors: np.ndarray) -> tuple[bool, int]:
    """(no live factor is negative, how many are zero: channels the submission zeroed)."""
    zero = np.abs(factors) <= 1e-12 * max(float(np.abs(factors).max(initial=0.0)), 1e-300)
    return bool(np.all(factors[~zero] > 0)), int(zero.sum())


def _als_rescale(deq: np.ndarray, ref: np.ndarray, op: str):
    """Fit deq ~ a_out * ref * c_in with per-channel factors by alternating least squares.

    Returns (rescaled reference, elementwise factor array, (no live factor negative, number of live
    channels with a zero factor)). A depthwise layer has one factor per channel (its input and
    output channel are the same).
    """
    if op == "DEPTHWISE_CONV_2D" or ref.ndim < 2:
        axis = 3 if op == "DEPTHWISE_CONV_2D" else 0
        d, w = _rows(deq, axis), _rows(ref, axis)
        den = (w * w).sum(axis=1)
        a = np.where(den > 0, (d * w).sum(axis=1) / np.where(den > 0, den, 1.0), 1.0)
        shape = [1] * ref.ndim
        shape[axis] = -1
        factors = np.broadcast_to(a.reshape(shape), ref.shape)
        live = np.abs(w).max(axis=1) >= DEAD_CHANNEL
        return ref * factors, factors, _factor_check(a[live])
    # CONV_2D (O, kh, kw, I) and FULLY_CONNECTED (O, I): output axis first, input axis last
    out_n, in_n = ref.shape[0], ref.shape[-1]
    d3, w3 = deq.reshape(out_n, -1, in_n), ref.reshape(out_n, -1, in_n)
    cross, square = (d3 * w3).sum(axis=1), (w3 * w3).sum(axis=1)  # (O, I)
    a, c = np.ones(out_n), np.ones(in_n)
    for _ in range(ALS_ITERATIONS):
        den_a = square @ (c * c)
        a_new = np.where(den_a > 0, (cross @ c) / np.where(den_a > 0, den_a, 1.0), 1.0)
        den_c = (a_new * a_new) @ square
        c_new = np.where(den_c > 0, (a_new @ cross) / np.where(den_c > 0, den_c, 1.0), 1.0)
        done = np.allclose(a_new, a, rtol=1e-10, atol=0) and np.allclose(c_new, c, rtol=1e-10, atol=0)
        a, c = a_new, c_new
        if done:
            break
    magnitude = np.abs(w3).max(axis=1)  # (O, I)
    live_a, live_c = magnitude.max(axis=1) >= DEAD_CHANNEL, magnitude.max(axis=0) >= DEAD_CHANNEL
    check_a, check_c = _factor_check(a[live_a]), _factor_check(c[live_c])
    factors = (a[:, None, None] * c[None, None, :]).reshape(out_n, *([1] * (ref.ndim - 2)), in_n)
    factors = np.broadcast_to(factors, ref.shape)
    return ref * factors, factors, (check_a[0] and check_c[0], check_a[1] + check_c[1])


def _scale_signature(op: str, ref_rows: np.ndarray, step_rows: np.ndarray, per_channel: bool,
                     levels_rows: Optional[np.ndarray]) -> tuple[Optional[float], int]:
    """max |log(s / expected)| of the default converter (symmetric, max|w|/127); dead channels."""
    row_max = np.abs(ref_rows).max(axis=1)
    dead = row_max < DEAD_CHANNEL
    if levels_rows is None:
        return None, int(dead.sum())
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D") or per_channel:
        expected = row_max / 127.0
        steps = step_rows[:, 0]
        live = ~dead
        if not live.any():
            return 0.0, int(dead.sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = np.abs(np.log(steps[live] / expected[live]))
        return float(np.nan_to_num(dev, nan=np.inf).max()), int(dead.sum())
    expected = row_max.max() / 127.0
    if expected < DEAD_CHANNEL:
        return 0.0, int(dead.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = abs(math.log(float(step_rows.flat[0]) / expected)) if step_rows.flat[0] > 0 else math.inf
    return float(dev), int(dead.sum())


def compare_layer(sub: TFLiteModel, ref: TFLiteModel, sub_op, ref_op, layer: int,
                  sub_graph: CoreGraph, ref_graph: CoreGraph) -> LayerResult:
    op = sub_op.op
    w_index = sub_graph.source(sub_op.inputs[1])
    r_index = ref_graph.source(ref_op.inputs[1])
    s = _weights(sub, w_index)
    r = _weights(ref, r_index)
    shape = sub.tensors[w_index].shape
    axis = s.per_channel_axis if s.per_channel_axis is not None else CHANNEL_AXIS[op]
    notes: list[str] = []

    deq = _rows(s.values, axis)
    ref_rows = _rows(r.values, axis)
    ref_step = _rows(r.step, axis) if r.step is not None else np.zeros_like(ref_rows)
    float_submission = s.step is None
    if float_submission:
        step = np.full_like(deq, FLOAT_STEP * max(float(np.abs(ref_rows).max()), 1e-30))
        levels = None
    else:
        step = _rows(s.step, axis)
        levels = _rows(s.levels, axis)
    per_channel = s.per_channel_axis is not None
    # int8 weights in a model that computes in float: a dynamic-range ("hybrid") reference
    hybrid_reference = r.step is not None and _is_float_graph(ref)

    max_ratio, frac, clipped = _error_ratio(deq, ref_rows, step, ref_step, levels, per_channel)
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = deq.ravel(), ref_rows.ravel()
        correlation = float(np.corrcoef(a, b)[0, 1]) if a.size > 1 and a.std() > 0 and b.std() > 0 else None
    half = (0.5 * step + 0.5 * ref_step) * (1 + HALF_STEP_SLACK)
    pruned = int(((deq == 0) & (np.abs(ref_rows) > half)).sum())
    scale_dev, dead = _scale_signature(op, ref_rows, step, per_channel, levels)

    result = LayerResult(layer=layer, op_index=sub_op.index, op=op, tensor=sub.tensors[w_index].name,
                         shape=shape, submitted_quantization=s.description if not float_submission else "float",
                         reference_weights=r.description + (" (hybrid)" if hybrid_reference else ""),
                         weights=int(deq.size), max_err_tol=max_ratio, frac_le_half=frac,
                         correlation=correlation, pruned=pruned, clipped=int(clipped.sum()),
                         dead_channels=dead, scale_ratio_maxdev=scale_dev)
    _bias(sub, ref, sub_op, ref_op, sub_graph, ref_graph, s, result)

    if max_ratio > MAX_ERR_LIMIT:
        rescaled, factors, (positive, zeroed) = _als_rescale(s.values, r.values, op)
        r_step_full = r.step * factors if r.step is not None else np.zeros(shape)
        re_ratio, _, _ = _error_ratio(deq, _rows(rescaled, axis), step, _rows(np.abs(r_step_full), axis),
                                      levels, per_channel)
        result.rescaled_max_err_tol = re_ratio
        if positive and re_ratio <= MAX_ERR_LIMIT:
            result.verdict = Verdict.WARN_RESCALED
            notes.append(f"the weights match the reference after per-channel rescaling "
                         f"(max error {re_ratio:.2f} of tolerance): an equalization-type transform")
            if zeroed:
                notes.append(f"{zeroed} channels live in the reference are zero in the submission (scaled "
                             f"to nothing, e.g. behind a dead channel, or pruned): worth a look")
        else:
            result.verdict = Verdict.FAIL
            why = "" if positive else ", and the best fit needs negative factors"
            notes.append(f"max error {max_ratio:.2f} x tolerance ({re_ratio:.2f} after the best per-channel "
                         f"rescaling{why}): the weights differ from the reference by more than one "
                         f"quantization step")
    elif frac < RTN_FRACTION:
        result.verdict = Verdict.WARN_NON_RTN
        notes.append(f"only {frac:.1%} of the weights are within half a step of the reference: not "
                     f"round-to-nearest")
    elif float_submission:
        result.verdict = Verdict.EXACT if float(np.abs(deq - ref_rows).max(initial=0.0)) == 0 else Verdict.PASS
    elif max_ratio <= EXACT_MAX_ERR and scale_dev is not None and scale_dev < EXACT_SCALE_DEV:
        result.verdict = Verdict.EXACT
    else:
        result.verdict = Verdict.PASS
    if correlation is not None and correlation < LOW_CORRELATION:
        notes.append(f"correlation {correlation:.3f} with the reference weights: the layer looks replaced")
    if pruned and result.verdict.rank >= Verdict.FAIL.rank:
        notes.append(f"{pruned} weights are zero where the reference is not within half a step of zero (pruned)")
    if result.clipped:
        share = result.clipped / result.weights
        notes.append(f"{result.clipped} weights ({share:.1%}) clipped to the extreme level (not counted in "
                     f"the errors){'; heavy clipping changes the model: worth a look' if share > CLIPPED_NOTE_SHARE else ''}")
    result.notes = notes + result.notes
    return result


def _is_float_graph(model: TFLiteModel) -> bool:
    """True when the model computes in float (its first input is a float tensor)."""
    return bool(model.inputs) and model.tensors[model.inputs[0]].dtype.startswith("FLOAT")


def _bias(sub, ref, sub_op, ref_op, sub_graph, ref_graph, s: _Weights, result: LayerResult) -> None:
    if len(sub_op.inputs) < 3 or sub_op.inputs[2] < 0 or len(ref_op.inputs) < 3 or ref_op.inputs[2] < 0:
        return
    b_index = sub_graph.source(sub_op.inputs[2])
    rb_index = ref_graph.source(ref_op.inputs[2])
    if not (sub.tensors[b_index].is_constant and ref.tensors[rb_index].is_constant):
        return
    b = _weights(sub, b_index)
    rb = _weights(ref, rb_index)
    deq, ref_values = b.values.ravel(), rb.values.ravel()
    if deq.shape != ref_values.shape:
        return
    err = np.abs(deq - ref_values)
    if b.step is not None:
        bstep = np.asarray(b.step, dtype=np.float64).ravel()
        ok = (err <= 0.5 * bstep * (1 + HALF_STEP_SLACK)) | (err <= BIAS_RELATIVE * np.abs(ref_values))
        with np.errstate(divide="ignore", invalid="ignore"):
            steps = np.where(err == 0, 0.0, err / bstep)
        result.bias_max_err_steps = float(np.nan_to_num(steps, nan=np.inf).max(initial=0.0))
        result.bias_ok = bool(ok.all())
        # internal consistency: bias_scale = input_scale * weight_scale
        in_tensor = sub.tensors[sub_graph.source(sub_op.inputs[0])]
        if in_tensor.is_quantized and s.step is not None:
            s_in = float(in_tensor.quantization.scales[0])
            w_scales = sub.tensors[sub_graph.source(sub_op.inputs[1])].quantization.scales.astype(np.float64)
            b_scales = sub.tensors[b_index].quantization.scales.astype(np.float64)
            if b_scales.size == w_scales.size or w_scales.size == 1 or b_scales.size == 1:
                expected = s_in * w_scales
                with np.errstate(divide="ignore", invalid="ignore"):
                    dev = np.abs(np.log(b_scales / expected))
                result.bias_scale_maxdev = float(np.nan_to_num(dev, nan=np.inf).max())
                if result.bias_scale_maxdev > EXACT_SCALE_DEV:
                    result.notes.append(f"bias scale differs from input scale x weight scale "
                                        f"(|log| up to {result.bias_scale_maxdev:.2g}): inconsistent quantization")
    else:
        scale = max(float(np.abs(ref_values).max(initial=0.0)), 1e-30)
        result.bias_max_err_steps = None
        result.bias_ok = bool((err <= max(BIAS_RELATIVE * scale, 0.0)).all())
    if result.bias_ok is False:
        how_far = (f" (up to {result.bias_max_err_steps:.2f} bias steps)"
                   if result.bias_max_err_steps is not None else "")
        result.notes.append(f"biases differ from the reference by more than half a bias step{how_far}: bias "
                            f"correction is a legitimate PTQ step (information only)")


def compare_models(submitted: TFLiteModel, reference: TFLiteModel) -> EquivalenceResult:
    """Structure first, then every weight layer; the verdict is the worst layer verdict."""
    diffs = structure_differences(submitted, reference)
    sub_graph, ref_graph = core_graph(submitted), core_graph(reference)
    notes = []
    if sub_graph.skipped:
        notes.append("looked through in the submitted model: " + "; ".join(sub_graph.skipped))
    if ref_graph.skipped:
        notes.append("looked through in the reference: " + "; ".join(ref_graph.skipped))
    if submitted.subgraphs > 1:
        notes.append(f"the submitted model has {submitted.subgraphs} subgraphs; only subgraph 0 is compared")
    if diffs:
        more = f" (and {len(diffs) - 1} more differences)" if len(diffs) > 1 else ""
        return EquivalenceResult(submitted.name, reference.name, Verdict.STRUCTURE_MISMATCH,
                                 f"structure differs from the reference: {diffs[0]}{more}",
                                 structure_differences=diffs, notes=notes, operators=len(sub_graph.ops))
    layers = []
    for position, (sop, rop) in enumerate(zip(sub_graph.ops, ref_graph.ops)):
        if sop.op in WEIGHT_OPS and len(sop.inputs) > 1 and sop.inputs[1] >= 0 and \
                submitted.tensors[sub_graph.source(sop.inputs[1])].is_constant:
            layers.append(compare_layer(submitted, reference, sop, rop, len(layers), sub_graph, ref_graph))
    if any("hybrid" in l.reference_weights for l in layers):
        notes.append("the reference holds int8 per-tensor (hybrid) weights for some layers: their tolerance "
                     "is widened to s + 0.5 s_ref, so detection there is coarser")
    verdict = worst(l.verdict for l in layers)
    reason = _reason(verdict, layers)
    return EquivalenceResult(submitted.name, reference.name, verdict, reason, layers=layers, notes=notes,
                             operators=len(sub_graph.ops))


def _reason(verdict: Verdict, layers: list[LayerResult]) -> str:
    if not layers:
        return "same structure; the model has no weight layers to compare"
    culprits = [l for l in layers if l.verdict == verdict]
    first = culprits[0]
    where = f"layer {first.layer} (op {first.op_index} {first.op} {first.tensor!r})"
    count = f"{len(culprits)} of {len(layers)} layers" if len(culprits) > 1 else f"1 of {len(layers)} layers"
    if verdict is Verdict.FAIL:
        return (f"{count} fail; {where}: max error {first.max_err_tol:.2f} x tolerance (limit {MAX_ERR_LIMIT}), "
                f"{first.frac_le_half:.1%} within half a step")
    if verdict is Verdict.WARN_RESCALED:
        return (f"{count} match only after per-channel rescaling; {where}: max error "
                f"{first.max_err_tol:.2f} x tolerance, {first.rescaled_max_err_tol:.2f} after rescaling")
    if verdict is Verdict.WARN_NON_RTN:
        return (f"{count} not round-to-nearest; {where}: {first.frac_le_half:.1%} within half a step "
                f"(RTN >= {RTN_FRACTION:.1%}), max error {first.max_err_tol:.2f} x tolerance")
    top = max(layers, key=lambda l: l.max_err_tol)
    if verdict is Verdict.PASS:
        return (f"all {len(layers)} layers are a round-to-nearest quantization of the reference (max error "
                f"{top.max_err_tol:.2f} x tolerance), not the default converter's exact output")
    return (f"all {len(layers)} layers reproduce the default TFLite quantization of the reference (max error "
            f"{top.max_err_tol:.2f} x tolerance)")
