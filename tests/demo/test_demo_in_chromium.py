"""The demo's report.html in headless Chromium: every plot loads (naturalWidth > 0), nothing is
blocked. Skipped, saying why, when no Chromium or Chrome is installed (`apt-get install chromium`)."""

from __future__ import annotations

from helpers.chromium import browser_or_skip, load_in_browser


def test_every_plot_of_the_demo_report_loads_in_chromium(demo_run, tmp_path):
    browser = browser_or_skip()
    assert demo_run.code == 0, demo_run.stderr
    page = (demo_run.out / "report.html").read_text(encoding="utf-8")
    seen = load_in_browser(browser, page, tmp_path)
    assert seen["images"] == page.count("<img ") > 0
    assert seen["broken"] == [] and seen["violations"] == []
