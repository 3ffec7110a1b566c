"""Time and memory of EEMBC energy traces: a generated 2 GB trace, and every v1.1 energy dir.

    python benchmarks/bench_energy_trace.py [--whole] [V1.1_TREE]

1. Generates a sparse 2 GiB trace (512 Mi float32 samples, 6.2 days at 1 kHz) in a temporary
   folder, maps it and computes 5 windows of 11 s spread over the whole file.
2. Recomputes every v1.1 EEMBC energy dir that has a trace (results.txt, log.txt, trace, shift
   search, median, alignment); defaults to ../shared/data/tiny_results/v1.1 beside the checkout.
3. With --whole, also sums one window over the entire 2 GiB trace: Python allocations stay
   bounded (the sum runs in 4 MiB pieces), but every page is faulted in, so the resident set
   (page cache mapped into the process) grows by the file size.

Each step prints the best wall time over 5 runs, the tracemalloc peak of one further run (Python
and numpy heap allocations; memory-mapped pages are not heap), and the process's
ru_maxrss high-water mark after the step (Linux: KiB).
"""

from __future__ import annotations

import resource
import struct
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from submission_tools.logs.eembc_log import parse_eembc_log
from submission_tools.logs.energy_trace import read_energy_trace, read_trace_timestamps
from submission_tools.logs.results_txt import parse_results_txt
from submission_tools.runmodel import Run
from submission_tools.scoring.energy import eembc_alignment, eembc_window, eembc_windows, median_like_runner

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TREE = REPO.parent / "shared" / "data" / "tiny_results" / "v1.1"
SAMPLES_2GB = 512 * 1024 * 1024
WINDOW_S = 11.0


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(label: str, fn, runs: int = 5):
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<44} best {min(times) * 1000:9.2f} ms   tracemalloc peak {peak / 2**20:7.2f} MiB"
          f"   ru_maxrss {max_rss_mb():8.1f} MiB")
    return result


def make_sparse_trace(folder: Path) -> tuple[Path, list[float]]:
    """A 2 GiB + 5 byte trace, a hole except for 5 windows of real samples; returns their edges."""
    path = folder / "trace1-energy.bin"
    duration = SAMPLES_2GB / 1000.0
    starts = [10.0, duration * 0.25, duration * 0.5, duration * 0.75, duration - WINDOW_S - 2.0]
    rng = np.random.default_rng(0)
    with open(path, "wb") as fh:
        fh.write(bytes([0xF1]) + struct.pack("<f", 1000.0))
        fh.truncate(5 + 4 * SAMPLES_2GB)
        for start in starts:
            fh.seek(5 + 4 * round(start * 1000))
            fh.write(rng.uniform(20.0, 40.0, int(WINDOW_S * 1000) + 2).astype("<f4").tobytes())
    times = [0.015] + [t for s in starts for t in (round(s, 3), round(s + WINDOW_S, 3))]
    return path, times


def bench_2gb(whole: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-energy-") as tmp:
        path, times = make_sparse_trace(Path(tmp))
        print(f"generated {path.stat().st_size / 2**30:.2f} GiB sparse trace "
              f"({path.stat().st_blocks * 512 / 2**20:.1f} MiB on disk)")
        trace = measure("map the 2 GiB trace", lambda: read_energy_trace(path))
        windows = measure("map + 5 windows of 11 s", lambda: eembc_windows(read_energy_trace(path), times, 500))
        print(f"    energies {[round(w.energy_uj, 1) for w in windows]} µJ")
        if whole:
            end = trace.duration_s
            measure("one window over the whole trace", lambda: eembc_window(trace, 0.0, end, 1), runs=1)


def process_dir(folder: Path) -> tuple[int, bool, int]:
    claims = parse_results_txt((folder / "results.txt").read_bytes())
    run = Run(mode="energy", runner="eembc")
    parse_eembc_log((folder / "log.txt").read_bytes(), run)
    trace = read_energy_trace(folder / "trace1-energy.bin")
    times = read_trace_timestamps(folder / "trace1-timestamps.json")
    windows = eembc_windows(trace, times, [w.iterations for w in run.windows], claims.energy_windows)
    median = median_like_runner([w.energy_per_inf_uj for w in windows])
    aligned = sum(r.ok for r in eembc_alignment(windows, run.windows))
    explained = sum(w.edge_shift is not None for w in windows)
    return explained, claims.median_energy_uj is not None and claims.median_energy_uj.agrees(median), aligned


def bench_tree(tree: Path) -> None:
    folders = sorted(p for p in tree.glob("closed/*/results/*/*/energy") if (p / "trace1-energy.bin").exists())
    if not folders:
        print(f"no EEMBC energy dir with a trace under {tree}: skipped")
        return
    size = sum((f / "trace1-energy.bin").stat().st_size for f in folders)
    print(f"{tree}: {len(folders)} energy dirs, traces {size / 2**20:.1f} MiB")
    results = measure(f"all {len(folders)} dirs (parse, shift search, align)",
                      lambda: [process_dir(f) for f in folders])
    windows = sum(r[0] for r in results)
    print(f"    {windows} windows explained, {sum(r[1] for r in results)} medians agree, "
          f"{sum(r[2] for r in results)} windows aligned with log.txt")


def main(argv: list[str]) -> int:
    whole = "--whole" in argv
    args = [a for a in argv if a != "--whole"]
    print(f"baseline ru_maxrss {max_rss_mb():.1f} MiB")
    bench_2gb(whole)
    bench_tree(Path(args[0]) if args else DEFAULT_TREE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
