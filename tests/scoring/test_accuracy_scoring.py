"""Accuracy scoring on hand-worked data: argmax ties, both runners' AUC, and the AD metrics."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from submission_tools.scoring.accuracy import (
    Prediction, ad_top1_pct, argmax_lowest, eembc_auc, file_averages, mlc_top1_pct, sklearn_auc, top1_pct,
)


def test_argmax_takes_the_first_of_tied_maxima():
    assert argmax_lowest([0.1, 0.4, 0.4, 0.1]) == 1
    assert argmax_lowest([0.0, 0.0]) == 0


def test_top1_counts_each_inference():
    predictions = [Prediction("a", 0, [[0.9, 0.1]]), Prediction("b", 1, [[0.5, 0.5]]),
                   Prediction("c", 1, [[0.2, 0.8]])]
    assert top1_pct(predictions) == pytest.approx(200 / 3)  # the tie in b goes to class 0


def test_eembc_auc_is_perfect_for_separable_scores_and_half_for_constant_ones():
    separable = [Prediction(f"{i}", i % 2, [[0.9, 0.1] if i % 2 == 0 else [0.1, 0.9]]) for i in range(10)]
    assert eembc_auc(separable, 2) == pytest.approx(1.0)
    constant = [Prediction(f"{i}", i % 2, [[0.5, 0.5]]) for i in range(10)]
    assert eembc_auc(constant, 2) == pytest.approx(0.5)


def test_eembc_auc_grid_differs_from_sklearn_on_scores_between_grid_steps():
    # Scores 0.501 and 0.505 fall between two thresholds (0.50 and 0.51): the grid cannot order
    # them, sklearn can.
    predictions = [Prediction("p", 1, [[0.499, 0.501]]), Prediction("n", 0, [[0.495, 0.505]])]
    assert eembc_auc(predictions, 2) == pytest.approx(0.5)
    assert sklearn_auc(predictions) == pytest.approx(0.0)


def test_mlc_normalises_and_averages_per_file():
    # Unnormalised vectors of one file are normalised, then averaged, before the argmax.
    predictions = [Prediction("f", 1, [[2.0, 2.0], [1.0, 3.0]]), Prediction("g", 0, [[3.0, 1.0]])]
    y_true, y_pred = file_averages(predictions)
    assert y_true.tolist() == [1, 0]
    assert y_pred.tolist() == [[0.375, 0.625], [0.75, 0.25]]
    assert mlc_top1_pct(predictions) == 100.0
    assert sklearn_auc(predictions) == 1.0


def test_ad_top1_is_the_best_balanced_precision_and_recall_over_100_thresholds():
    y_true = np.array([0, 0, 0, 1, 1])
    scores = np.array([1.0, 2.0, 3.0, 2.5, 4.0])
    # Brute force of the runner's definition, written independently.
    thresholds = [1.0 + k * 0.03 for k in range(100)]
    best = 0.0
    for t in thresholds:
        predicted = scores > t
        tp = sum(predicted & (y_true == 1))
        fp = sum(predicted & (y_true == 0))
        fn = sum(~predicted & (y_true == 1))
        best = max(best, 100 * (tp / (tp + fp + 1e-8) + tp / (tp + fn + 1e-8)) / 2)
    assert ad_top1_pct(y_true, scores) == pytest.approx(best)
    assert best == pytest.approx(100 * (2 / 3 + 1) / 2, rel=1e-6)  # threshold between 2.0 and 2.5


def test_ad_auc_uses_the_mean_window_score_per_file():
    normal = [Prediction(f"n{i}", 0, [[1.0 + i], [2.0 + i]]) for i in range(3)]
    anomalous = [Prediction(f"a{i}", 1, [[3.0 + i], [10.0]]) for i in range(2)]
    y = [0, 0, 0, 1, 1]
    means = [1.5, 2.5, 3.5, 6.5, 7.0]
    assert sklearn_auc(normal + anomalous) == pytest.approx(roc_auc_score(y, means))
