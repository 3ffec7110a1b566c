"""Speed of `submit model`: verify per reference pair (read both files, compare structure and every
weight layer), the same with every weight layer randomized (the FAIL path, where the per-channel
rescaling fit runs on every layer), and identify per reference file (sha256, read, structure).

    python benchmarks/bench_models.py [TINY_CHECKOUT]

Target: verify under 0.5 s per pair. Defaults to ../shared/data/mlperf_tiny beside the checkout.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from submission_tools.models.equivalence import WEIGHT_OPS, compare_models
from submission_tools.models.registry import identify, registry
from submission_tools.models.tflite_reader import read_model, read_model_bytes

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOUT = REPO.parent / "shared" / "data" / "mlperf_tiny"
TARGET_S = 0.5


def timed(fn, runs: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def randomized(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    model = read_model_bytes(bytes(data))
    rng = np.random.default_rng(0)
    for op in model.operators:
        if op.op in WEIGHT_OPS:
            w = model.tensors[op.inputs[1]]
            data[w.data_offset:w.data_offset + w.data_length] = rng.integers(-127, 128, w.data_length,
                                                                            dtype=np.int8).tobytes()
    return bytes(data)


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else DEFAULT_CHECKOUT
    if not root.is_dir():
        print(f"no mlcommons/tiny checkout at {root}: pass one, or put ../shared beside the checkout")
        return 2
    print(f"verify (median of 5; target < {TARGET_S} s per pair)")
    print(f"{'benchmark':10} {'int8 KB':>8} {'float KB':>9} {'layers':>6} {'verdict':>13} {'verify s':>9} "
          f"{'FAIL path s':>12}")
    slowest = 0.0
    for name, models in registry().items():
        if models.int8 is None:
            continue
        int8_path, float_path = root / models.int8.path, root / models.float.path
        if not (int8_path.is_file() and float_path.is_file()):
            print(f"{name:10} missing from {root}")
            continue
        seconds, result = timed(lambda i=int8_path, f=float_path: compare_models(read_model(i), read_model(f)), 5)
        bad = randomized(int8_path)
        fail_s, fail = timed(lambda b=bad, f=float_path: compare_models(read_model_bytes(b), read_model(f)), 3)
        slowest = max(slowest, seconds)
        print(f"{name:10} {int8_path.stat().st_size / 1024:8.0f} {float_path.stat().st_size / 1024:9.0f} "
              f"{len(result.layers):6d} {result.verdict.value:>13} {seconds:9.3f} {fail_s:9.3f} ({fail.verdict.value})")
    print()
    print("identify (median of 5)")
    for name, models in registry().items():
        for ref in models.files:
            path = root / ref.path
            if path.is_file():
                seconds, ident = timed(lambda p=path: identify(p), 5)
                print(f"  {ref.filename:38} {seconds * 1000:7.1f} ms  {ident.kind} {ident.benchmark}")
    print()
    print(f"slowest verify {slowest:.3f} s: {'within' if slowest < TARGET_S else 'OVER'} the {TARGET_S} s target")
    return 0 if slowest < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
