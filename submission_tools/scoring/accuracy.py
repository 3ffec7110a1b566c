"""Top-1, AUC and the AD metrics, each the way the runner that made the claim computed it.

- EEMBC runner (formats.md 5.2): Top-1 by lowest-index argmax on the printed vector; AUC by
  its own grid: per class with positives and negatives, thresholds accumulated as floats
  (0.0, then += 0.01 a hundred times), positive iff score >= t, trapezoid over the points sorted
  by FPR, mean over classes, printed with 2 decimals.
- MLCommons runner (benchmark/runner/main.py summarize_result): vectors normalised by their sum
  (length > 1), averaged per file; Top-1 = argmax of the average; AUC = sklearn roc_auc_score
  (column 1 for 2 classes, else multi_class='ovr'); for AD (one score per window) "Top 1%" is
  max over 100 thresholds of 100*(precision+recall)/2, not a top-1.
- `auc` is the official definition (sklearn on normalised, file-averaged vectors) for any run.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score


@dataclass
class Prediction:
    """The outputs for one input file: one vector per inference (AD: one per window)."""

    file: str
    label: int
    vectors: list[list[float]] = field(default_factory=list)


def argmax_lowest(values: list[float]) -> int:
    """Index of the maximum, the first one on ties (confirmed on 217 tied EEMBC runs)."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def top1_pct(predictions: list[Prediction]) -> float | None:
    """Per inference (EEMBC): correct / inferences * 100."""
    total = correct = 0
    for p in predictions:
        for vector in p.vectors:
            total += 1
            correct += bool(vector) and argmax_lowest(vector) == p.label
    return 100.0 * correct / total if total else None


def _eembc_thresholds() -> np.ndarray:
    """0.0, then 0.01 added a hundred times as floats (the last is 1.0000000000000007)."""
    thresholds, t = [], 0.0
    for _ in range(101):
        thresholds.append(t)
        t += 0.01
    return np.array(thresholds)


_EEMBC_THRESHOLDS = _eembc_thresholds()


def eembc_auc(predictions: list[Prediction], classes: int) -> float | None:
    """The EEMBC runner's AUC, unrounded (it prints 2 decimals)."""
    rows = [(p.label, v) for p in predictions for v in p.vectors if len(v) == classes]
    if not rows:
        return None
    labels = np.array([label for label, _v in rows])
    scores = np.array([v for _label, v in rows], dtype=float)
    aucs = []
    for c in range(classes):
        positives, negatives = scores[labels == c, c], scores[labels != c, c]
        if not len(positives) or not len(negatives):
            continue
        # Same float64 comparisons as the scalar definition, counted for all thresholds at once.
        tpr = (positives[:, None] >= _EEMBC_THRESHOLDS[None, :]).sum(axis=0) / len(positives)
        fpr = (negatives[:, None] >= _EEMBC_THRESHOLDS[None, :]).sum(axis=0) / len(negatives)
        points = sorted(zip(fpr.tolist(), tpr.tolist()))
        aucs.append(sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:])))
    return sum(aucs) / len(aucs) if aucs else None


def _normalised(vector: list[float]) -> list[float]:
    if len(vector) <= 1:
        return list(vector)
    total = sum(vector)
    return [v / total if total else math.nan for v in vector]


def file_averages(predictions: list[Prediction]) -> tuple[np.ndarray, np.ndarray] | None:
    """(y_true, y_pred) with one row per file, as the MLCommons runner builds them."""
    rows, labels = [], []
    width = None
    for p in predictions:
        if not p.vectors:
            continue
        vectors = [_normalised(v) for v in p.vectors]
        if width is None:
            width = len(vectors[0])
        if any(len(v) != width for v in vectors):
            return None
        rows.append(np.mean(np.array(vectors, dtype=float), axis=0))
        labels.append(p.label)
    if not rows or width == 0:
        return None
    return np.array(labels), np.vstack(rows)


def mlc_top1_pct(predictions: list[Prediction]) -> float | None:
    averaged = file_averages(predictions)
    if averaged is None:
        return None
    y_true, y_pred = averaged
    if y_pred.shape[1] == 1:
        return ad_top1_pct(y_true, y_pred[:, 0])
    return 100.0 * float(np.mean(np.argmax(y_pred, axis=1) == y_true))


def sklearn_auc(predictions: list[Prediction]) -> float | None:
    """The official AUC (and the MLCommons runner's): sklearn on file-averaged vectors."""
    averaged = file_averages(predictions)
    if averaged is None:
        return None
    y_true, y_pred = averaged
    if not np.all(np.isfinite(y_pred)) or len(set(y_true.tolist())) < 2:
        return None
    with warnings.catch_warnings():
        # Classes absent from a small run make sklearn warn per class; the value is still defined.
        warnings.simplefilter("ignore")
        try:
            if y_pred.shape[1] == 1:
                return float(roc_auc_score(y_true, y_pred[:, 0]))
            if y_pred.shape[1] == 2:
                return float(roc_auc_score(y_true, y_pred[:, 1]))
            return float(roc_auc_score(y_true, y_pred, multi_class="ovr", labels=list(range(y_pred.shape[1]))))
        except ValueError:
            return None


def ad_top1_pct(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The MLCommons runner's AD "Top 1%": best balanced precision/recall over 100 thresholds."""
    low, high = float(np.min(scores)), float(np.max(scores))
    best = 0.0
    for threshold in low + np.arange(0.0, 1.0, 0.01) * (high - low):
        predicted = scores > threshold
        tp = int(np.sum(predicted & (y_true == 1)))
        fp = int(np.sum(predicted & (y_true == 0)))
        fn = int(np.sum(~predicted & (y_true == 1)))
        precision = tp / (tp + fp + 1e-8)
        recall = tp / (tp + fn + 1e-8)
        best = max(best, 100 * (precision + recall) / 2)
    return best


def group_by_file(windows, labels_for) -> tuple[list[Prediction], list[str]]:
    """Predictions per input file in first-seen order; files `labels_for` cannot label are returned
    separately. `labels_for(window)` gives the label or None."""
    grouped: OrderedDict[str, Prediction] = OrderedDict()
    unlabelled = []
    for window in windows:
        name = window.input_file or "?"
        label = labels_for(window)
        if label is None:
            unlabelled.append(name)
            continue
        prediction = grouped.setdefault(name, Prediction(name, label))
        if window.outputs is not None:
            prediction.vectors.append(window.outputs)
    return list(grouped.values()), unlabelled
