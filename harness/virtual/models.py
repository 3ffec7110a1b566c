"""The models a virtual DUT runs: a tiny built-in int8 model per benchmark, a real `.tflite` run
with ai-edge-litert, and the synthetic evaluation sets the built-in models are scored on.

A model turns the bytes a host loaded with `db` into the values the DUT prints in
`m-results-[...]` (protocol.md 1.4): class probabilities, or the single AD anomaly score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from submission_tools.example_tree import example_inputs

# Bytes one inference takes (protocol.md 1.6; ad01: one 2560-byte window = 640 float32 LE;
# sww01: the reference model's 30x1x40 int8 feature window).
INPUT_SIZE = {"kws01": 490, "vww01": 27648, "ic01": 3072, "ad01": 2560, "sww01": 1200}
# ad01 has two classes (normal 0, anomalous 1) but prints one score; sww01's reference model has
# three outputs (wakeword, silence, other).
CLASSES = {"kws01": 12, "vww01": 2, "ic01": 10, "ad01": 2, "sww01": 3}
BENCH = {"kws01": "kws", "vww01": "vww", "ic01": "ic", "ad01": "ad", "sww01": "sww"}
MODEL_IDS = tuple(INPUT_SIZE)

# Images arrive as uint8 RGB; the int8 models see them shifted by -128 (as the reference ports do).
_UINT8_INPUTS = {"vww01", "ic01"}
_SHAPES = {(49, 10, 1): "kws01", (96, 96, 3): "vww01", (32, 32, 3): "ic01", (640,): "ad01",
           (30, 1, 40): "sww01"}

# The built-in models' constants (see BuiltinModel): weight seeds, requantisation shifts chosen
# so the int8 logits of the synthetic inputs spread over about +-12 units, and the 2**(-k/4) table.
WEIGHT_SEED = {"kws01": 101, "vww01": 102, "ic01": 103, "ad01": 104, "sww01": 105}
LOGIT_SHIFT = {"kws01": 13, "vww01": 16, "ic01": 14, "sww01": 14}
EXP4 = (65536, 55109, 46341, 38968)  # round(65536 * 2 ** (-k / 4)), k = 0..3
AD_FRAME = 128  # floats per spectrogram slice: one stride (512 bytes) of an ad01 window
AD_SCALE = 8  # the AD features are quantised to int8 as floor(x * 8 + 0.5)
AD_WINDOWS_PER_FILE = 10  # windows of 2560 bytes at stride 512 in a synthetic ad01 file

# Synthetic inputs: x = clip(rint(SIGNAL * prototype + NOISE * N(0, 1))); SIGNAL was calibrated
# so the built-in models score a Top-1 of 93-96 % on 50 or more inputs: above every closed target
# (kws 90, ic 85, vww 80 %) with a margin, so a demo run passes `submit check`.
NOISE = 40.0
SIGNAL = {"kws01": 0.09, "vww01": 0.0065, "ic01": 0.033}
AD_NOISE = 10.0  # int8 units of a normal file's features; anomalous files are noisier
AD_ANOMALY_RATIO = 1.9  # log-normal per-file noise, ratio and spread chosen for an AUC near 0.95
AD_SPREAD = 0.25


@runtime_checkable
class VirtualModel(Protocol):
    model_id: str  # the m-model-[...] string
    input_size: int  # bytes one inference takes
    classes: int

    def run(self, data: bytes) -> list[float]:
        """The values the DUT prints in m-results-[...] for an input of exactly input_size bytes."""


def _check_id(model_id: str) -> str:
    if model_id not in INPUT_SIZE:
        raise ValueError(f"unknown model id {model_id!r}; expected one of {', '.join(MODEL_IDS)}")
    return model_id


def _check_size(model_id: str, data: bytes) -> None:
    if len(data) != INPUT_SIZE[model_id]:
        raise ValueError(f"{model_id} takes {INPUT_SIZE[model_id]} bytes, got {len(data)}")


class BuiltinModel:
    """A deterministic int8 model per benchmark, small enough to port to C bit for bit.

    Weights: ``np.random.default_rng(WEIGHT_SEED[id]).integers(-127, 128, size=shape,
    dtype=np.int8)`` with shape ``(classes, input_size)`` for the classifiers and ``(128,)`` for
    ad01; `weights_bytes()` exports them (row-major int8), so a C port embeds them as a table.

    Classifiers (kws01, vww01, ic01, sww01), integer-only:

    1. x[i] = the input byte as int8 (kws01, sww01), or the uint8 byte minus 128 (vww01, ic01).
    2. acc[c] = sum_i W[c][i] * x[i] in int32 (|acc| < 27648 * 127 * 128 < 2**31).
    3. z[c] = clamp(acc[c] >> LOGIT_SHIFT[id], -128, 127): arithmetic shift, i.e. floor division.
    4. d[c] = max(z) - z[c] (0..255); e[c] = EXP4[d & 3] >> (d >> 2) when d < 68, else 0
       (EXP4 = 65536, 55109, 46341, 38968: a softmax in base 2**(1/4) per logit unit).
    5. q[c] = min(127, (e[c] * 256) / sum(e) - 128) with unsigned integer division.
    6. The printed probability is p[c] = (q[c] + 128) / 256, as the reference int8 softmax output
       (scale 1/256, zero point -128) dequantises; ties of argmax go to the first index.

    ad01 (an anomaly score; the only floating point is the input and the final division):

    1. The 2560 bytes are 640 float32 LE, i.e. 5 slices of 128 bins.
    2. q[i] = clamp(floor((double)x[i] * 8.0 + 0.5), -128, 127), clamped in double before the
       conversion to int (so +-inf clamp too); NaN counts as 0. In double this is exact for
       every float32 input, so C and numpy agree.
    3. The "normal" prototype P is the 128 weights repeated in each of the 5 slices.
    4. score = (sum_i (q[i] - P[i mod 128]) ** 2) / 40960.0 (int32 sum; 40960 = 640 * 8 * 8),
       a mean squared distance in feature units, computed as one IEEE double division.
    """

    def __init__(self, model_id: str) -> None:
        self.model_id = _check_id(model_id)
        self.input_size = INPUT_SIZE[model_id]
        self.classes = CLASSES[model_id]
        rng = np.random.default_rng(WEIGHT_SEED[model_id])
        shape = (AD_FRAME,) if model_id == "ad01" else (self.classes, self.input_size)
        self.weights = rng.integers(-127, 128, size=shape, dtype=np.int8)

    def weights_bytes(self) -> bytes:
        return self.weights.tobytes()

    def prototype(self, label: int) -> np.ndarray:
        """The int8 pattern the model recognises as class `label` (ad01: the normal slice)."""
        return self.weights if self.model_id == "ad01" else self.weights[label]

    def run(self, data: bytes) -> list[float]:
        _check_size(self.model_id, data)
        if self.model_id == "ad01":
            return [self._anomaly_score(data)]
        if self.model_id in _UINT8_INPUTS:
            x = np.frombuffer(data, dtype=np.uint8).astype(np.int64) - 128
        else:
            x = np.frombuffer(data, dtype=np.int8).astype(np.int64)
        acc = self.weights.astype(np.int64) @ x
        z = np.clip(acc >> LOGIT_SHIFT[self.model_id], -128, 127)
        d = z.max() - z
        e = np.where(d < 68, np.array(EXP4, dtype=np.int64)[d & 3] >> np.minimum(d >> 2, 31), 0)
        q = np.minimum(127, (e * 256) // e.sum() - 128)
        return [(int(v) + 128) / 256 for v in q]

    def _anomaly_score(self, data: bytes) -> float:
        x = np.frombuffer(data, dtype="<f4").astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.floor(x * AD_SCALE + 0.5)
        q = np.clip(np.nan_to_num(scaled, nan=0.0), -128, 127).astype(np.int64)
        diff = q - np.tile(self.weights.astype(np.int64), len(q) // AD_FRAME)
        return int(np.sum(diff * diff)) / float(len(q) * AD_SCALE * AD_SCALE)


class LiteRtMissing(ImportError):
    """ai-edge-litert is not installed (it is the optional `sim` extra)."""


class LiteRtModel:
    """A real `.tflite` run by ai-edge-litert without the default delegates (deterministic, and
    equal to the reference kernels: model-equivalence.md 2.2).

    Inputs are fed the way the reference ports feed them: kws01/sww01 bytes as int8 as they are;
    vww01/ic01 uint8 images as they are for a uint8 model, minus 128 for an int8 model; ad01 as
    640 float32, quantised with the model's input parameters for an int8 model
    (round(x / scale) + zero point, clamped). Int8 outputs are dequantised ((q - zp) * scale) in
    float32. ad01 prints the mean squared difference between the input and the autoencoder's
    reconstruction, in float32, as the AD reference port's th_results does.
    """

    def __init__(self, path: str | Path, model_id: str | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter, OpResolverType
        except ImportError as error:
            raise LiteRtMissing(
                "running a .tflite model needs ai-edge-litert: pip install 'mlperf-tiny-submit[sim]'"
            ) from error
        self.path = Path(path)
        self._interpreter = Interpreter(
            model_path=str(self.path),
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        shape = tuple(int(v) for v in self._input["shape"][1:])
        inferred = _SHAPES.get(shape)
        if model_id is None:
            if inferred is None:
                raise ValueError(f"{self.path}: cannot tell the benchmark from input shape {shape}; "
                                 "give the model id")
            model_id = inferred
        self.model_id = _check_id(model_id)
        self.input_size = INPUT_SIZE[model_id]
        self.classes = CLASSES[model_id]
        elements = int(np.prod(shape))
        dtype = np.dtype(self._input["dtype"])
        wanted = self.input_size // 4 if model_id == "ad01" else self.input_size
        if elements != wanted:
            raise ValueError(f"{self.path}: input shape {shape} does not take a {model_id} input")
        if model_id != "ad01" and dtype not in (np.dtype(np.int8), np.dtype(np.uint8)):
            # The DUT receives 8-bit features/pixels; a float model would need a conversion the
            # reference ports do not define.
            raise ValueError(f"{self.path}: a {dtype} input cannot take the 8-bit {model_id} input bytes")

    def run(self, data: bytes) -> list[float]:
        _check_size(self.model_id, data)
        tensor = self._input_tensor(data)
        self._interpreter.set_tensor(self._input["index"], tensor)
        self._interpreter.invoke()
        out = self._dequantised(self._interpreter.get_tensor(self._output["index"])).reshape(-1)
        if self.model_id == "ad01":
            # calculate_result() of the AD port: float32 squared differences summed in order
            # (cumsum is sequential, unlike np.sum), then divided by the element count.
            diff = out - np.frombuffer(data, dtype="<f4")
            total = np.cumsum(diff * diff, dtype=np.float32)[-1]
            return [float(total / np.float32(diff.size))]
        return [float(v) for v in out]

    def _input_tensor(self, data: bytes) -> np.ndarray:
        shape = self._input["shape"]
        dtype = np.dtype(self._input["dtype"])
        if self.model_id == "ad01":
            x = np.frombuffer(data, dtype="<f4")
            if dtype == np.float32:
                return x.astype(np.float32).reshape(shape)
            scale, zero = self._input["quantization"]
            info = np.iinfo(dtype)
            # QuantizeFloatToInt8 of the reference port: round half away from zero, in float32.
            v = (x / np.float32(scale)).astype(np.float64)
            q = np.clip(np.sign(v) * np.floor(np.abs(v) + 0.5) + zero, info.min, info.max)
            return q.astype(dtype).reshape(shape)
        if self.model_id in _UINT8_INPUTS:
            pixels = np.frombuffer(data, dtype=np.uint8)
            if dtype == np.int8:
                return (pixels.astype(np.int16) - 128).astype(np.int8).reshape(shape)
            return pixels.reshape(shape)
        return np.frombuffer(data, dtype=np.int8).astype(dtype).reshape(shape)

    def _dequantised(self, out: np.ndarray) -> np.ndarray:
        """float32 values, as DequantizeInt8ToFloat gives them to the ports' printf."""
        if np.issubdtype(out.dtype, np.integer):
            scale, zero = self._output["quantization"]
            return (out.astype(np.int32) - zero).astype(np.float32) * np.float32(scale)
        return out.astype(np.float32)


def load_model(spec: str, model_id: str) -> VirtualModel:
    """'builtin' for the built-in model of `model_id`, else the path of a .tflite file."""
    if spec == "builtin":
        return BuiltinModel(model_id)
    return LiteRtModel(spec, model_id)


def synthetic_dataset(model_id: str, dest: Path, count: int, seed: int = 0) -> Path:
    """Write `count` inputs and `y_labels.csv` under `dest` for the built-in model of `model_id`.

    Names and labels are `submission_tools.example_tree.example_inputs` (`kws_0007.bin`, label =
    index % classes), so the checker's stand-in reference labels match. Classifier inputs are
    noisy prototypes of their class (Top-1 93-96 % on the built-in model). An ad01 file holds
    10 overlapping windows (2560 + 9 * 512 bytes): the normal slice repeated, plus per-file
    noise whose level is log-normal and larger for anomalous files (label 1), so the per-file
    mean score gives an AUC near 0.96 (closed target 0.85). Rows: `file,classes,class` (ad01 adds `2560,512`).
    """
    _check_id(model_id)
    if model_id == "sww01":
        raise ValueError("sww01 is evaluated on streamed audio, not on an input file set")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    model = BuiltinModel(model_id)
    rng = np.random.default_rng([seed, WEIGHT_SEED[model_id]])
    rows = []
    for name, label in example_inputs(BENCH[model_id], count):
        if model_id == "ad01":
            payload = _ad_file(model, rng, label)
            rows.append(f"{name},{model.classes},{label},{INPUT_SIZE['ad01']},{AD_FRAME * 4}")
        else:
            noisy = SIGNAL[model_id] * model.prototype(label) + NOISE * rng.standard_normal(model.input_size)
            x = np.clip(np.rint(noisy), -128, 127).astype(np.int64)
            payload = (x + 128).astype(np.uint8).tobytes() if model_id in _UINT8_INPUTS \
                else x.astype(np.int8).tobytes()
            rows.append(f"{name},{model.classes},{label}")
        (dest / name).write_bytes(payload)
    (dest / "y_labels.csv").write_text("".join(row + "\n" for row in rows), encoding="ascii")
    return dest


def _ad_file(model: BuiltinModel, rng: np.random.Generator, label: int) -> bytes:
    frames = AD_WINDOWS_PER_FILE - 1 + INPUT_SIZE["ad01"] // (AD_FRAME * 4)
    level = AD_NOISE * np.exp(AD_SPREAD * rng.standard_normal()) * (AD_ANOMALY_RATIO if label else 1.0)
    base = np.tile(model.prototype(0).astype(np.float64), frames)
    features = (base + level * rng.standard_normal(base.size)) / AD_SCALE
    return features.astype("<f4").tobytes()
