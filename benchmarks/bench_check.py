"""Speed of walking and checking a results tree (target: the v1.1 tree in under 2 s).

    python benchmarks/bench_check.py [TREE ...]

Defaults to ../shared/data/tiny_results/v1.1 and v1.3 beside the checkout. Prints, per tree,
the best and median wall time of the walk alone and of the whole `run_check`, over 5 runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from submission_tools.check import run_check
from submission_tools.walk import walk_tree

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TREES = [REPO.parent / "shared" / "data" / "tiny_results" / v for v in ("v1.1", "v1.3")]


def timed(fn, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str]) -> int:
    trees = [Path(a) for a in argv] or [t for t in DEFAULT_TREES if t.is_dir()]
    if not trees:
        print("no tree to measure: pass a path, or put ../shared beside the checkout")
        return 2
    for tree in trees:
        entries = len(walk_tree(tree))
        walk = timed(lambda tree=tree: walk_tree(tree))
        check = timed(lambda tree=tree: run_check(tree))
        result = run_check(tree)
        print(f"{tree}: {entries} entries, {len(result.findings)} findings")
        print(f"  walk        best {min(walk) * 1000:8.1f} ms   median {statistics.median(walk) * 1000:8.1f} ms")
        print(f"  full check  best {min(check) * 1000:8.1f} ms   median {statistics.median(check) * 1000:8.1f} ms"
              f"   (target < 2000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
