"""Running `submit demo` (or any `submit` command) in process in tests, with its output captured."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from submission_tools.cli import main

SUBMITTER_DIR = ("closed", "demo_org")
SYSTEM = "virtual_dut"


@dataclass
class DemoRun:
    out: Path
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def org(self) -> Path:
        return self.out.joinpath("tree", *SUBMITTER_DIR)


def run_cli(*args: str) -> tuple[int, str, str]:
    """`submit ARGS` in process: (exit code, standard output, standard error)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    return code, stdout.getvalue(), stderr.getvalue()
