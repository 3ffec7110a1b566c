"""Which runner wrote a mode folder: the EEMBC EnergyRunner or the MLCommons Python runner.

Decided by the files each runner leaves (script.async and traces vs results.json), then by
the first lines of log.txt, whose formats differ (formats.md sections 2.1 and 3.1).
"""

from __future__ import annotations

import re

from submission_tools.textio import read_head
from submission_tools.tree import BenchmarkDir, ModeDir

EEMBC = "eembc"
MLC = "mlc"
MIXED = "mixed"
EEMBC_MARKER = "EEMBC_RUNNER"
RUNNER_NAMES = {EEMBC: "EEMBC EnergyRunner", MLC: "MLCommons runner"}

_EEMBC_LOG_LINE = re.compile(rb"^\d{5,}\.\d{3} (session|parser|sequencer|dut|io|emon|pnp): ", re.M)
_MLC_LOG_LINE = re.compile(rb"^(\d{4}\.\d{6} ulp-mlperf: |Logging initialized|Initializing SerialDevice)", re.M)
_EEMBC_FILE = re.compile(r"^((performance|accuracy|energy)_)?script\.async$|^trace\d+-(energy\.bin|timestamps\.json)$")
_MLC_FILE = re.compile(r"^results\.json$|^energy_inf_\d+\.png$")


def has_marker(mode: ModeDir, bench: BenchmarkDir) -> bool:
    """The v1.3 `EEMBC_RUNNER` marker, at the benchmark level (where the official checker looks
    and the real ones sit) or inside the mode folder (where directory_structure.adoc draws it)."""
    return EEMBC_MARKER in mode.files or EEMBC_MARKER in bench.files


def detect_runner(mode: ModeDir, bench: BenchmarkDir) -> str | None:
    """EEMBC, MLC, MIXED (files of both) or None (nothing to tell by).

    The files a runner writes decide; the EEMBC_RUNNER marker is only a claim, used when the
    files do not tell (a marker that contradicts them is TREE010's finding).
    """
    eembc = any(_EEMBC_FILE.match(n) for n in mode.files)
    mlc = any(_MLC_FILE.match(n) for n in mode.files)
    if eembc and mlc:
        return MIXED
    if eembc or mlc:
        return EEMBC if eembc else MLC
    if has_marker(mode, bench):
        return EEMBC
    for name in ("log.txt", f"{mode.name}_log.txt"):
        entry = mode.files.get(name)
        if entry is not None:
            head = read_head(entry.os_path)
            if _EEMBC_LOG_LINE.search(head):
                return EEMBC
            if _MLC_LOG_LINE.search(head):
                return MLC
    return None
