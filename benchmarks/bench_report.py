"""Speed and size of `submit report`: the HTML page of a whole round (check, plots, page) and the
final table, single process and with --jobs 2.

    python benchmarks/bench_report.py [TREE ...]

Target: the v1.1 round (244 results) rendered in under 60 s. Prints the time of each stage, the
number of figures by kind, and the size of the page (and of its images). Defaults to
../shared/data/tiny_results/v1.1 beside the checkout, with the reference and older labels there.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from pathlib import Path

from submission_tools.check import CheckOptions, run_check
from submission_tools.report.final_table import render_final_csv, render_final_xlsx
from submission_tools.report.html import render_html

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DEFAULT_TREES = [SHARED / "tiny_results" / "v1.1"]
TARGET_S = 60.0


def options(jobs: int) -> CheckOptions:
    reference = SHARED / "mlperf_tiny"
    labels = SHARED / "energyrunner" / "datasets"
    return CheckOptions(reference=reference if reference.is_dir() else None,
                        labels=[labels] if labels.is_dir() else [], jobs=jobs)


def measure(tree: Path, jobs: int) -> None:
    started = time.perf_counter()
    result = run_check(tree, options(jobs))
    checked = time.perf_counter()
    page = render_html(result, processes=jobs)
    rendered = time.perf_counter()
    render_final_csv(result)
    render_final_xlsx(result)
    tabled = time.perf_counter()
    total = rendered - started
    kinds = Counter(re.findall(r'<img src="data:image/png;base64,[^"]*" width="\d+" height="\d+" alt="([^:]+):', page))
    image_bytes = sum(len(m) for m in re.findall(r'data:image/png;base64,[^"]*', page))
    verdict = "ok" if total < TARGET_S else "OVER TARGET"
    print(f"  jobs={jobs}: check {checked - started:6.2f} s + page {rendered - checked:6.2f} s = {total:6.2f} s "
          f"(target < {TARGET_S:.0f} s: {verdict}); csv+xlsx {tabled - rendered:5.2f} s")
    print(f"          {len(result.results)} results, {len(result.findings)} findings, "
          f"{sum(kinds.values())} figures ({', '.join(f'{n} {k.lower()}' for k, n in sorted(kinds.items()))})")
    print(f"          page {len(page.encode('utf-8')) / 1048576:6.2f} MiB, of which images "
          f"{image_bytes / 1048576:6.2f} MiB ({image_bytes / max(sum(kinds.values()), 1) / 1024:4.1f} KiB each)")


def main(argv: list[str]) -> int:
    trees = [Path(a) for a in argv] or [t for t in DEFAULT_TREES if t.is_dir()]
    if not trees:
        print("no tree to measure: pass a path, or put ../shared beside the checkout")
        return 2
    for tree in trees:
        print(f"{tree}:")
        for jobs in (1, 2):
            measure(tree, jobs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
