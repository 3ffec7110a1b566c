"""Closed-division model equivalence: read .tflite files without TensorFlow, compare a submitted
model with the reference (structure, then weights per layer), and know the reference models.

* tflite_reader: read_model / read_model_bytes -> TFLiteModel, ModelFileError for bad files
* equivalence: compare_models -> EquivalenceResult (verdict EXACT ... STRUCTURE_MISMATCH)
* registry: the reference files per benchmark and round (reference_models.yaml), identify()
* cli_model: the `submit model` sub-app (model_app)

The names below are loaded on first use, so that mounting the sub-app does not slow down
`submit --version` with numpy and the tflite schema classes.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EquivalenceResult": "equivalence", "Verdict": "equivalence", "compare_models": "equivalence",
    "ModelFileError": "tflite_reader", "TFLiteModel": "tflite_reader", "read_model": "tflite_reader",
    "read_model_bytes": "tflite_reader", "identify": "registry", "model_app": "cli_model",
}

__all__ = ["EquivalenceResult", "ModelFileError", "TFLiteModel", "Verdict", "compare_models", "identify",
           "model_app", "read_model", "read_model_bytes"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
