"""Loading a report page in headless Chromium (or Chrome) in tests: every image must decode.

`load_in_browser` writes the page with a probe script that runs once the page has loaded and
writes into the DOM how many images there are, which did not decode (naturalWidth 0) and which
fetches the page's Content-Security-Policy blocked; Chromium's --dump-dom returns it.
Tests skip, saying why, when no browser is installed (`apt-get install chromium`).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

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
SKIP_REASON = ("needs headless Chromium or Chrome (/usr/bin/chromium, chromium-browser or google-chrome); "
               "none is installed here")


def find_browser() -> str | None:
    for candidate in BROWSERS:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def browser_or_skip() -> str:
    path = find_browser()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


def with_probe(page: str) -> str:
    """The page with the probe script allowed and inserted; the rest of its policy is untouched."""
    assert "script-src 'none'" in page
    page = page.replace("script-src 'none'", "script-src 'unsafe-inline'", 1)
    head_end = page.index("</title>") + len("</title>")
    return page[:head_end] + "\n" + PROBE + page[head_end:]


def load_in_browser(browser: str, page: str, tmp_path: Path) -> dict:
    """{"images": N, "broken": [alt, ...], "violations": [...]} as Chromium saw the page."""
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
