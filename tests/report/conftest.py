"""A published round checked and rendered once per test session, for the report tests that read
a whole round (skipped, saying why, without ../shared)."""

from __future__ import annotations

import pytest

from helpers.shared import shared_path
from submission_tools.check import CheckOptions, run_check


@pytest.fixture(scope="session")
def round_v1_1():
    """The v1.1 round checked with the reference and the older labels, as a reviewer would."""
    shared = shared_path("data")
    tree = shared_path("data", "tiny_results", "v1.1")
    reference = shared / "mlperf_tiny"
    labels = shared / "energyrunner" / "datasets"
    return run_check(tree, CheckOptions(reference=reference if reference.is_dir() else None,
                                        labels=[labels] if labels.is_dir() else [], jobs=2))


@pytest.fixture(scope="session")
def round_v1_1_page(round_v1_1) -> str:
    from submission_tools.report.html import render_html

    return render_html(round_v1_1, processes=2)
