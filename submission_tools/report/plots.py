"""The figures of the HTML report, one function per plot, drawn off-screen as small PNGs.

Every function takes recomputed data (a ScoredRun's parts, never a file path) and returns a
matplotlib Figure, or None when there is nothing to draw; `png_bytes` renders one. Figures are
built with matplotlib.figure.Figure on the Agg canvas: no pyplot, no global state, safe in
worker processes. They are kept small (a few inches at DPI 80) and long traces are reduced to
`TRACE_BINS` min/max envelopes, so that a whole round stays a page a browser opens quickly.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image  # a dependency of matplotlib

from submission_tools.rules.performance import MIN_WINDOW_S
from submission_tools.scoring import accuracy as acc

DPI = 80
PALETTE = 64
TRACE_BINS = 2000  # points per envelope: more than the ~500 pixels the plot is wide
_OK, _BAD, _LIMIT, _WINDOW = "#4477aa", "#cc3311", "#cc3311", "#ee7733"


def png_bytes(figure: Figure) -> bytes:
    """The figure as a palette PNG (its canvas is Agg whatever backend pyplot would use).

    Line plots on white use few colours: an adaptive palette of PALETTE colours without dithering
    looks the same and is a third to a quarter of the size of Agg's RGBA PNG (v1.1: 4.7 MiB of
    images become 1.4 MiB).
    """
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = image.convert("RGB").quantize(colors=PALETTE, method=Image.Quantize.MEDIANCUT,
                                            dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _figure(width: float, height: float) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.tick_params(labelsize=8)
    return figure, axes


def envelope(samples, bins: int = TRACE_BINS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first sample index of each bin, min, max, mean) of `samples` in at most `bins` bins.

    Reduces a memory-mapped trace piece by piece (numpy's reduceat reads it once, copies
    nothing); NaN samples are ignored in min/max (fmin/fmax) and make the bin's mean NaN.
    With fewer samples than bins every sample is its own bin.
    """
    samples = np.asarray(samples)
    n = len(samples)
    if n == 0:
        empty = np.empty(0)
        return empty.astype(int), empty, empty, empty
    starts = np.unique(np.linspace(0, n, min(bins, n), endpoint=False).astype(np.int64))
    lows = np.fmin.reduceat(samples, starts).astype(np.float64)
    highs = np.fmax.reduceat(samples, starts).astype(np.float64)
    sums = np.add.reduceat(samples, starts, dtype=np.float64)
    counts = np.diff(np.append(starts, n))
    return starts, lows, highs, sums / counts


def window_runtimes(runtimes_s: list[float | None], iterations: list[int], claimed_ips: list[float | None],
                    median_ips: float | None) -> Figure | None:
    """Horizontal bars: each timed window's runtime against the 10 s minimum (red: shorter, or not
    timed); on the right of each bar its inferences and recomputed throughput, with the claim."""
    if not any(r is not None for r in runtimes_s):
        return None
    count = len(runtimes_s)
    figure, axes = _figure(5.4, 0.7 + 0.26 * count)
    positions = np.arange(count)
    values = [r if r is not None else 0.0 for r in runtimes_s]
    colours = [_BAD if r is None or r < MIN_WINDOW_S else _OK for r in runtimes_s]
    axes.barh(positions, values, color=colours, height=0.6)
    axes.axvline(MIN_WINDOW_S, color=_LIMIT, linestyle="--", linewidth=1)
    labels = []
    for position, runtime, n in zip(positions, runtimes_s, iterations):
        if runtime is None:
            text = "not timed"
        else:
            text = f"{n} inf, {n / runtime:.6g} inf/s" if runtime > 0 else f"{n} inf"
        claim = claimed_ips[position] if position < len(claimed_ips) else None
        if claim is not None:
            text += f" (claimed {claim:g})"
        labels.append(text)
    axes.set_xlim(0, max(max(values), MIN_WINDOW_S) * 1.08)
    axes.set_ylim(count - 0.5, -0.5)  # first window on top
    axes.set_yticks(positions, [f"w{i + 1}" for i in range(count)])
    right = axes.twinx()  # the annotations as tick labels of a right-hand axis: never clipped
    right.set_ylim(axes.get_ylim())
    right.set_yticks(positions, labels)
    right.tick_params(labelsize=7, length=0)
    axes.set_xlabel(f"window runtime, s (dashed: the {MIN_WINDOW_S:g} s minimum)", fontsize=8)
    if median_ips is not None and math.isfinite(median_ips):
        axes.set_title(f"median {median_ips:.6g} inf/s", fontsize=9)
    return figure


def energy_trace(samples_uj, rate_hz: float, windows: list[tuple[str, float, float]],
                 edges_s: list[float] = ()) -> Figure | None:
    """An EEMBC trace as power (mW) over time, as a min/max envelope with its mean, the timed
    windows shaded and labelled (window name, start s, stop s), the timestamp edges dotted."""
    if samples_uj is None or len(samples_uj) == 0 or not rate_hz:
        return None
    starts, lows, highs, means = envelope(samples_uj)
    to_mw = rate_hz / 1000.0  # µJ per sample × samples per second = µW
    times = starts / rate_hz
    figure, axes = _figure(6.4, 2.3)
    _draw_envelope(axes, times, lows * to_mw, highs * to_mw, means * to_mw)
    for name, start, stop in windows:
        _shade(axes, name, start, stop)
    for edge in edges_s:
        axes.axvline(edge, color="#777777", linestyle=":", linewidth=0.7)
    axes.set_xlabel("time since trace start, s", fontsize=8)
    axes.set_ylabel("power, mW", fontsize=8)
    axes.set_xlim(0, len(samples_uj) / rate_hz)
    return figure


def energy_trials(trials: list[tuple[list[float], list[tuple[str, int]]]], rate_hz: float) -> Figure | None:
    """MLCommons trials (samples in J per sample, events as (counter, sample index)) laid end to end
    as power (mW): each trial's window between its last two events shaded, every event dotted."""
    lengths = [len(samples) for samples, _events in trials]
    if not trials or not sum(lengths):
        return None
    joined = np.concatenate([np.asarray(s, dtype=np.float64) for s, _e in trials if len(s)])
    starts, lows, highs, means = envelope(joined)
    to_mw = rate_hz * 1e3  # J per sample × samples per second = W
    figure, axes = _figure(6.4, 2.3)
    _draw_envelope(axes, starts / rate_hz, lows * to_mw, highs * to_mw, means * to_mw)
    offset = 0
    for number, ((_samples, events), length) in enumerate(zip(trials, lengths)):
        if number:
            axes.axvline(offset / rate_hz, color="#333333", linewidth=0.8)
        for _counter, index in events:
            axes.axvline((offset + index) / rate_hz, color="#777777", linestyle=":", linewidth=0.7)
        if len(events) >= 2:
            _shade(axes, f"t{number}", (offset + events[-2][1]) / rate_hz, (offset + events[-1][1]) / rate_hz)
        offset += length
    axes.set_xlabel("time, s (trials end to end)", fontsize=8)
    axes.set_ylabel("power, mW", fontsize=8)
    axes.set_xlim(0, offset / rate_hz)
    return figure


def _draw_envelope(axes, times, lows, highs, means) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # all-NaN bins draw as gaps
        axes.fill_between(times, lows, highs, color=_OK, alpha=0.35, linewidth=0, step="post")
        axes.plot(times, means, color=_OK, linewidth=0.6, drawstyle="steps-post")


def _shade(axes, name: str, start: float, stop: float) -> None:
    if not (math.isfinite(start) and math.isfinite(stop)):
        return
    axes.axvspan(start, stop, color=_WINDOW, alpha=0.18, linewidth=0)
    axes.text((start + stop) / 2, 0.97, name, transform=axes.get_xaxis_transform(), ha="center", va="top",
              fontsize=7, color="#994400")


def sww_timeline(detections_ms: list[int], windows_s: list[tuple[float, float]],
                 missed_s: list[tuple[float, float]], false_positives_s: list[float]) -> Figure | None:
    """The streamed wav as a time line: each wakeword's truth window (green when detected, red when
    missed; a detection counts up to 2 s after it), every detection after the sync pulse as a tick
    (red: a false positive the score counts), all in seconds from the sync pulse, as the runner
    scores them."""
    if not windows_s and len(detections_ms) < 2:
        return None
    figure, axes = _figure(6.2, 1.7)
    sync = detections_ms[0] if detections_ms else 0
    detections = [(d - sync) / 1000 for d in detections_ms[1:]]
    span = max([stop for _, stop in windows_s] + detections + [1.0])
    width = span * 0.004  # a one-second wakeword would be under a pixel wide
    missed = {(float(a), float(b)) for a, b in missed_s}
    for start, stop in windows_s:
        colour = _BAD if (float(start), float(stop)) in missed else "#228833"
        axes.broken_barh([(start, max(stop - start, width))], (0.08, 0.32), color=colour, linewidth=0)
    false = {round(t, 3) for t in false_positives_s}
    axes.vlines([t for t in detections if round(t, 3) not in false], 0.55, 0.92, color=_OK, linewidth=1.0)
    axes.vlines([t for t in detections if round(t, 3) in false], 0.5, 0.97, color=_BAD, linewidth=1.6)
    axes.set_ylim(0, 1)
    axes.set_yticks([0.24, 0.74], ["wakewords", "detections"], fontsize=7)
    axes.set_xlim(0, span * 1.01)
    axes.set_xlabel("time from the sync pulse, s", fontsize=8)
    axes.set_title(f"{len(windows_s)} wakewords: {len(windows_s) - len(missed)} detected, {len(missed)} missed; "
                   f"{len(false_positives_s)} false positives", fontsize=9)
    return figure


def roc_curve(predictions: list[acc.Prediction], auc: float | None) -> Figure | None:
    """The ROC curve of an anomaly-detection run, from the file-averaged scores the official AUC
    uses (sklearn roc_curve on one score per file, label 1 = anomalous)."""
    from sklearn.metrics import roc_curve as sk_roc_curve

    averaged = acc.file_averages(predictions)
    if averaged is None:
        return None
    y_true, y_pred = averaged
    scores = y_pred[:, -1] if y_pred.shape[1] <= 2 else None
    if scores is None or not np.all(np.isfinite(scores)) or len(set(y_true.tolist())) < 2:
        return None
    fpr, tpr, _thresholds = sk_roc_curve(y_true, scores)
    figure, axes = _figure(3.0, 3.0)
    axes.plot(fpr, tpr, color=_OK, linewidth=1.4)
    axes.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=0.8)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    axes.set_aspect("equal")
    axes.set_xlabel("false positive rate", fontsize=8)
    axes.set_ylabel("true positive rate", fontsize=8)
    title = f"{len(y_true)} files"
    if auc is not None and math.isfinite(auc):
        title += f", AUC {auc:.4f}"
    axes.set_title(title, fontsize=9)
    return figure


def confusion_counts(predictions: list[acc.Prediction], classes: int, per_file: bool) -> np.ndarray | None:
    """Counts [true class, predicted class]: per inference with the EEMBC runner's lowest-index
    argmax, or per file on normalised averaged vectors as the MLCommons runner scores."""
    if classes is None or classes < 2:
        return None
    matrix = np.zeros((classes, classes), dtype=np.int64)
    if per_file:
        averaged = acc.file_averages(predictions)
        if averaged is None:
            return None
        y_true, y_pred = averaged
        if y_pred.shape[1] != classes or not np.all(np.isfinite(y_pred)):
            return None
        for label, row in zip(y_true.tolist(), y_pred):
            if 0 <= label < classes:
                matrix[label, int(np.argmax(row))] += 1
    else:
        for prediction in predictions:
            for vector in prediction.vectors:
                if len(vector) == classes and 0 <= prediction.label < classes:
                    matrix[prediction.label, acc.argmax_lowest(vector)] += 1
    return matrix if matrix.sum() else None


def confusion_matrix(matrix: np.ndarray, top1_pct: float | None, unit: str) -> Figure:
    """A confusion matrix coloured by the share of each true class, with its counts written in."""
    classes = matrix.shape[0]
    size = 2.2 + 0.17 * classes
    figure, axes = _figure(size, size)
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape), where=totals > 0)
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    font = 7 if classes <= 6 else 5.5
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            axes.text(column, row, str(count), ha="center", va="center", fontsize=font,
                      color="white" if shares[row, column] > 0.6 else "black")
    ticks = np.arange(classes)
    axes.set_xticks(ticks, [str(t) for t in ticks], fontsize=7)
    axes.set_yticks(ticks, [str(t) for t in ticks], fontsize=7)
    axes.set_xlabel("predicted class", fontsize=8)
    axes.set_ylabel("true class", fontsize=8)
    title = f"{int(matrix.sum())} {unit}"
    if top1_pct is not None and math.isfinite(top1_pct):
        title += f", top-1 {top1_pct:.2f}%"
    axes.set_title(title, fontsize=9)
    return figure
