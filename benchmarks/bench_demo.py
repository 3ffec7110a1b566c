"""Speed of `submit demo` as the README's first command runs it: a new folder, a fresh cache (the
synthetic inputs are generated, as on a fresh machine), the wall time of each stage and in total.

    python benchmarks/bench_demo.py [--reference TINY_CHECKOUT --datasets DATASETS] [--keep]

Target: the demo under 60 s on two cores, so that with `pip install` in a fresh venv the README's
first command stays under 3 minutes. Prints the time of importing what the command imports
(before any work), of each stage (measure: every `submit run`, package, check, report) and the
total; and the seconds of each session.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="a checkout of mlcommons/tiny (needs the sim extra)")
    parser.add_argument("--datasets", type=Path, help="real inputs: <model>/ folders with y_labels.csv")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder and print where it is")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")  # nothing generated yet: a fresh machine
    started = time.perf_counter()
    from harness.progress import Progress
    from submission_tools import cli  # noqa: F401  (what `submit` imports before it starts)
    from submission_tools.demo import DemoOptions, run_demo

    imported = time.perf_counter() - started
    said = io.StringIO()
    try:
        result = run_demo(DemoOptions(out=work / "demo-out", reference=args.reference, datasets=args.datasets),
                          Progress(said, plain_every_s=0.0))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    seconds = result.seconds
    print(f"submit demo: {result.check.status_line()}, {len(result.check.findings)} findings, "
          f"{len(result.measured)} sessions, {len(result.check.results)} results")
    print(f"  import   {imported:6.2f} s")
    for stage in ("measure", "package", "check", "report"):
        print(f"  {stage:8} {seconds[stage]:6.2f} s")
    verdict = "ok" if total < TARGET_S else "OVER TARGET"
    print(f"  total    {total:6.2f} s (target < {TARGET_S:.0f} s: {verdict}) on {os.cpu_count()} cores")
    print("  sessions: " + ", ".join(f"{m.bench} {m.mode} {m.seconds:.1f} s" for m in result.measured))
    if args.keep:
        print(f"  kept in {work}")
    return 0 if result.exit_code() == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
