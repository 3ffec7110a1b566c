"""The report page in a real browser: headless Chromium loads it from a file, offline, and every
image decodes (naturalWidth > 0) with the page's own Content-Security-Policy in force.

Skipped, saying why, when no Chromium or Chrome is installed (`apt-get install chromium`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.chromium import browser_or_skip, load_in_browser
from submission_tools.check import run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report.html import render_html


@pytest.fixture(scope="module")
def browser():
    return browser_or_skip()


def test_every_image_loads_in_chromium(browser, tmp_path):
    root = build_example_tree(tmp_path / "tree", ExampleSpec(round="v1.3", runner="mlc", benchmarks=("ad", "kws"),
                                                             energy=("ad",)))
    seen = load_in_browser(browser, render_html(run_check(root)), tmp_path)
    assert seen == {"images": 5, "broken": [], "violations": []}


def test_every_image_of_a_round_loads_in_chromium(browser, tmp_path, round_v1_1_page):
    seen = load_in_browser(browser, round_v1_1_page, tmp_path)
    assert seen["images"] > 150
    assert seen["broken"] == [] and seen["violations"] == []


def test_the_probe_sees_a_broken_image_and_a_blocked_fetch(browser, tmp_path):
    """Negative control: a corrupt embedded PNG is reported broken, an outside URL is blocked by
    the page's policy (loopback only, so nothing would leave the machine even if it were not)."""
    page = render_html(run_check(Path(__file__).resolve().parents[2] / "examples" / "clean-submission"))
    first = page.index("data:image/png;base64,") + len("data:image/png;base64,")
    page = page[:first] + "AAAA" + page[first + 4:]  # the PNG signature destroyed
    page = page.replace("</main>", '<img src="http://127.0.0.1:9/outside.png" alt="outside"></main>', 1)
    seen = load_in_browser(browser, page, tmp_path)
    assert seen["images"] == 5 and len(seen["broken"]) == 2 and "outside" in seen["broken"]
    assert any("127.0.0.1" in v and "img-src" in v for v in seen["violations"])
