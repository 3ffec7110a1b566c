"""The report's plots: each draws what it is given, returns None when there is nothing to draw,
stays small, and never touches pyplot's global state."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.colors import to_hex

from submission_tools.logs.energy_trace import read_energy_trace
from submission_tools.report import plots
from submission_tools.scoring.accuracy import Prediction


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_envelope_matches_a_brute_force_reduction():
    rng = np.random.default_rng(3)
    samples = rng.normal(5, 2, 10_007).astype(np.float32)
    samples[17] = np.nan
    starts, lows, highs, means = plots.envelope(samples, bins=100)
    assert len(starts) == 100 and starts[0] == 0
    edges = list(starts) + [len(samples)]
    for i, (a, b) in enumerate(zip(edges, edges[1:])):
        piece = samples[a:b]
        assert lows[i] == np.nanmin(piece) and highs[i] == np.nanmax(piece)
        if np.isnan(piece).any():
            assert np.isnan(means[i])  # a NaN sample shows as a gap in the mean, not a made-up value
        else:
            assert means[i] == pytest.approx(piece.astype(np.float64).mean())


def test_envelope_of_a_short_or_empty_trace():
    starts, lows, highs, _means = plots.envelope(np.arange(5, dtype=np.float32), bins=100)
    assert list(starts) == [0, 1, 2, 3, 4] and list(lows) == list(highs) == [0, 1, 2, 3, 4]
    assert all(len(part) == 0 for part in plots.envelope(np.empty(0, dtype=np.float32)))


def test_window_runtimes_marks_a_short_window_red():
    figure = plots.window_runtimes([12.0, 9.5, None], [100, 100, 100], [8.333, 10.526], 8.3)
    axes = figure.axes[0]
    colours = [to_hex(bar.get_facecolor()) for bar in axes.patches]
    assert colours[0] != colours[1] and colours[1] == colours[2]  # short and untimed alike
    assert any(line.get_xdata()[0] == plots.MIN_WINDOW_S for line in axes.lines)
    texts = [label.get_text() for label in figure.axes[1].get_yticklabels()]
    assert texts == ["100 inf, 8.33333 inf/s (claimed 8.333)", "100 inf, 10.5263 inf/s (claimed 10.526)", "not timed"]
    width, height = png_size(plots.png_bytes(figure))
    assert width <= 600 and height <= 300
    assert plots.window_runtimes([None, None], [1, 1], [], None) is None


def test_sww_timeline_colours_missed_wakewords_and_counted_false_positives():
    from matplotlib.collections import LineCollection

    windows = [(10.0, 11.0), (50.0, 51.2), (90.0, 90.8)]
    # the sync pulse at 5 s; detections 10.5 s and 92 s after it hit wakewords, 70 s is false
    detections = [5000, 15500, 75000, 97000]
    figure = plots.sww_timeline(detections, windows, missed_s=[(50.0, 51.2)], false_positives_s=[70.0])
    axes = figure.axes[0]
    bars = [to_hex(c.get_facecolor()[0]) for c in axes.collections if not isinstance(c, LineCollection)]
    assert bars == ["#228833", plots._BAD, "#228833"]  # the second wakeword was missed
    ticks = [c for c in axes.collections if isinstance(c, LineCollection)]
    positions = [sorted(round(seg[0][0], 3) for seg in c.get_segments()) for c in ticks]
    assert positions == [[10.5, 92.0], [70.0]]  # blue hits, then the red false positive
    assert axes.get_title() == "3 wakewords: 2 detected, 1 missed; 1 false positives"
    assert png_size(plots.png_bytes(figure))[0] <= 600
    assert plots.sww_timeline([], [], [], []) is None


def test_energy_trace_from_a_memory_mapped_file(tmp_path):
    rate = 1000.0
    samples = np.full(60_000, 50.0, dtype="<f4")  # 50 µJ per 1 ms sample: 50 mW idle
    samples[10_000:20_000] = 200.0  # 200 mW inside the window
    path = tmp_path / "trace1-energy.bin"
    path.write_bytes(b"\xf1" + np.float32(rate).tobytes() + samples.tobytes())
    trace = read_energy_trace(path)
    figure = plots.energy_trace(trace.samples_uj, trace.rate_hz, [("w2", 10.0, 20.0)], [0.5, 10.0, 20.0])
    axes = figure.axes[0]
    assert axes.get_xlim() == (0, 60.0)
    mean_line = axes.lines[0]
    assert max(mean_line.get_ydata()) == pytest.approx(200) and min(mean_line.get_ydata()) == pytest.approx(50)
    assert [t.get_text() for t in axes.texts] == ["w2"]
    png_size(plots.png_bytes(figure))
    assert plots.energy_trace(np.empty(0, dtype="<f4"), rate, [], []) is None


def test_energy_trials_end_to_end():
    trial = ([0.00003] * 1000 + [0.00009] * 2000 + [0.00003] * 500, [("1", 1000), ("2", 3000)])
    figure = plots.energy_trials([trial, trial], 1000)
    axes = figure.axes[0]
    assert axes.get_xlim() == (0, 7.0)
    assert [t.get_text() for t in axes.texts] == ["t0", "t1"]
    assert max(axes.lines[0].get_ydata()) == pytest.approx(90)  # 90 µJ per ms = 90 mW
    assert plots.energy_trials([([], [])], 1000) is None


def _predictions(pairs):
    return [Prediction(f"f{i}", label, [vector]) for i, (label, vector) in enumerate(pairs)]


def test_confusion_counts_per_inference_and_per_file():
    predictions = [Prediction("a", 0, [[0.5, 0.5], [0.2, 0.8]]), Prediction("b", 1, [[0.1, 0.9]])]
    per_inference = plots.confusion_counts(predictions, 2, per_file=False)
    assert per_inference.tolist() == [[1, 1], [0, 1]]  # the tie goes to the lowest index, as EEMBC
    per_file = plots.confusion_counts(predictions, 2, per_file=True)
    assert per_file.tolist() == [[0, 1], [0, 1]]  # file a averages to [0.35, 0.65]
    assert plots.confusion_counts(predictions, 1, per_file=False) is None
    figure = plots.confusion_matrix(per_inference, 66.7, "inferences")
    assert figure.axes[0].get_title() == "3 inferences, top-1 66.70%"


def test_roc_curve_of_file_averaged_scores():
    predictions = _predictions([(0, [0.1]), (0, [0.4]), (1, [0.35]), (1, [0.8])])
    figure = plots.roc_curve(predictions, 0.75)
    curve = figure.axes[0].lines[0]
    assert curve.get_xdata()[-1] == 1 and curve.get_ydata()[-1] == 1
    assert figure.axes[0].get_title() == "4 files, AUC 0.7500"
    assert plots.roc_curve(_predictions([(1, [0.2]), (1, [0.3])]), None) is None  # one class: no curve


def test_plots_never_import_pyplot():
    code = (
        "import sys, numpy as np\n"
        "from submission_tools.report import plots\n"
        "plots.png_bytes(plots.window_runtimes([11.0], [10], [], 0.9))\n"
        "plots.png_bytes(plots.energy_trace(np.ones(100, dtype='<f4'), 1000.0, [], []))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
