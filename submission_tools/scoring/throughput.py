"""Throughput per window and its median, as both runners compute them (formats.md 5.1)."""

from __future__ import annotations

import statistics

from submission_tools.runmodel import Window


def window_throughput(window: Window) -> float | None:
    """Inferences per second of a timed window: N / runtime, None when it was not timed."""
    if not window.runtime_us or window.runtime_us <= 0:
        return None
    return window.iterations / (window.runtime_us / 1e6)


def median_like_runner(values: list[float]) -> float | None:
    """Median of the windows; an even count is the mean of the middle two (as both runners do)."""
    return statistics.median(values) if values else None
