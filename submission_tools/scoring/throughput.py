"""Throughput per window and its median, as both runners compute them (formats.md 5.1)."""

from __future__ import annotations

import math

from submission_tools.runmodel import Window


def window_throughput(window: Window) -> float | None:
    """Inferences per second of a timed window: N / runtime, None when it was not timed."""
    if not window.runtime_us or window.runtime_us <= 0:
        return None
    return window.iterations / (window.runtime_us / 1e6)


def median_like_runner(values: list[float]) -> float:
    """Median as both runners take it (np.median / EEMBC), for throughput and energy alike: an
    even count gives the mean of the two middle values; any NaN gives NaN (as np.median); no
    values gives NaN."""
    if not values or any(math.isnan(v) for v in values):
        return math.nan
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
