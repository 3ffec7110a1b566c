"""The report page in a real browser: headless Chromium loads it from a file, offline, and every
image decodes (naturalWidth > 0) with the page's own Content-Security-Policy in force.

Skipped, saying why, when no Chromium or Chrome is installed (`apt-get install chromium`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from submission_tools.check import run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report.html import render_html

BROWSERS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
            "chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio"]
# Runs when the page has loaded (every image fetched or failed); writes what it saw into the DOM.
PROBE = """<script>
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.blockedURI + ' ' + e.violatedDirective));
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  const out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = JSON.stringify({images: images.length, broken: broken, violations: window.__violations});
  document.body.appendChild(out);
});
</script>"""


def find_browser() -> str | None:
    for candidate in BROWSERS:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    path = find_browser()
    if path is None:
        pytest.skip("needs headless Chromium or Chrome (/usr/bin/chromium, chromium-browser or google-chrome); "
                    "none is installed here")
    return path


def with_probe(page: str) -> str:
    """The page with the probe script allowed and inserted; the rest of its policy is untouched."""
    assert "script-src 'none'" in page
    page = page.replace("script-src 'none'", "script-src 'unsafe-inline'", 1)
    head_end = page.index("</title>") + len("</title>")
    return page[:head_end] + "\n" + PROBE + page[head_end:]


def load_in_browser(browser: str, page: str, tmp_path: Path) -> dict:
    target = tmp_path / "report.html"
    target.write_text(with_probe(page), encoding="utf-8")
    profile = tmp_path / "profile"
    profile.mkdir()
    command = [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom",
               target.as_uri()]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240)
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', completed.stdout, re.S)
    assert match, f"the probe did not run (exit {completed.returncode}): {completed.stderr[-2000:]}"
    return json.loads(html.unescape(match.group(1)))


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
