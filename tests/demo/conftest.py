"""One `submit demo` run, through the command line, shared by the demo tests of a session."""

from __future__ import annotations

import time

import pytest

from helpers.demo_runs import DemoRun, run_cli


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory, _virtual_dataset_cache) -> DemoRun:
    """`submit demo --out TMP/demo-out` with the default everything else (the README's command)."""
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    started = time.perf_counter()
    code, stdout, stderr = run_cli("demo", "--out", str(out))
    return DemoRun(out, code, stdout, stderr, time.perf_counter() - started)
