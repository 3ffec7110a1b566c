"""Speed and memory of `submit check`: the walk alone, and a full check (parsing every log and
recomputing every score) with the reference labels, single process and with --jobs.

    python benchmarks/bench_check.py [TREE ...]

Targets: the v1.1 structure walk under 2 s; the full v1.1 check under 10 s and 500 MB.
Defaults to ../shared/data/tiny_results/v1.1 and v1.3 beside the checkout.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from submission_tools.check import CheckOptions, run_check
from submission_tools.walk import walk_tree

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DEFAULT_TREES = [SHARED / "tiny_results" / v for v in ("v1.1", "v1.3")]


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def options(jobs: int) -> CheckOptions:
    reference = SHARED / "mlperf_tiny"
    labels = SHARED / "energyrunner" / "datasets"
    return CheckOptions(reference=reference if reference.is_dir() else None,
                        labels=[labels] if labels.is_dir() else [], jobs=jobs)


def main(argv: list[str]) -> int:
    trees = [Path(a) for a in argv] or [t for t in DEFAULT_TREES if t.is_dir()]
    if not trees:
        print("no tree to measure: pass a path, or put ../shared beside the checkout")
        return 2
    for tree in trees:
        entries = len(walk_tree(tree))
        walk = timed(lambda tree=tree: walk_tree(tree), 5)
        print(f"{tree}: {entries} entries")
        print(f"  walk                 best {min(walk):7.3f} s  median {statistics.median(walk):7.3f} s  (target < 2 s)")
        for jobs in (1, 2):
            check = timed(lambda tree=tree, jobs=jobs: run_check(tree, options(jobs)), 3)
            print(f"  full check, jobs={jobs}  best {min(check):7.3f} s  median {statistics.median(check):7.3f} s"
                  f"  (target < 10 s)")
        tracemalloc.start()
        result = run_check(tree, options(1))
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        claims = sum(r["agreed"] + r["different"] + r["not_recomputable"] for r in result.agreement)
        print(f"  peak Python memory {peak / 1048576:7.1f} MiB, max RSS {rss:7.1f} MiB (target < 500 MB); "
              f"{len(result.findings)} findings, {claims} claims compared")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
