"""EEMBC EnergyRunner log.txt (formats.md section 2.1).

Tokens are searched anywhere in a line, because DUT echoes glue them to other text
(`dut: infer 9500 1%m-warmup-start-1`). A window opens at each `Command "dut infer N W"`
(`io dut infer` in energy mode); its input is the basename of the preceding bload/bloadp.
"""

from __future__ import annotations

import re

from submission_tools.logs.lines import numbered_lines, parse_vector
from submission_tools.runmodel import Run, Window

_TIME = re.compile(r"^\s*(\d{4,}\.\d{3})\s")
_COMMAND = re.compile(r'Command "(.*)"\s*$')
# Bounded repeats keep every search linear in the line length (an unbounded [^\]]* after a "["
# with no closing bracket is quadratic on a hostile line) and keep int() away from numbers of
# thousands of digits; real values are far shorter than these bounds.
_LOAD = re.compile(r'^(?:bload\s+dut|bloadp)\s+"([^"]{0,4096})"(?:\s+(\d{1,15})\s+(\d{1,15}))?')
_INFER = re.compile(r"^(?:io\s+)?dut\s+infer\s+(\d{1,15})\s+(\d{1,15})")
_LAP = re.compile(r"m-lap-us-(\d{1,20})")
_RESULTS = re.compile(r"m-results-\[([^\]]{0,65536})\]")
_SESSION = re.compile(r"m-session-start-id\[(\d{1,20})\]")
_VERSION = re.compile(r"m-version\[([^\]]{0,256})\]")
_CONFIG = re.compile(r"m-bm-cfg-name\[([^\]]{0,256})\]-key\[([^\]]{0,256})\]-val\[([^\]]{0,4096})\]")
_MODEL = re.compile(r"m-model-\[([^\]]{0,256})\]")
_INFER_START = re.compile(r"m-infer-start-\d+")
_INFER_DONE = re.compile(r"m-infer-done")
# Laps that come from the DUT: `dut:` lines, `io: [dut]:` relays, and bare untimestamped
# lines; not the energy monitor's or the IO manager's own timers.
_FOREIGN_LAP = re.compile(r"(?:^|\s)(?:emon|io):\s*m-lap-us")
_WRAP = 1 << 32


def basename(path: str) -> str:
    return re.split(r"[\\/]", path)[-1]


def parse_eembc_log(data: bytes, run: Run, name: str = "log.txt") -> None:
    """Fill `run` (windows, session, version, config, model) from an EEMBC log.txt."""
    current: Window | None = None
    load: tuple[str, int | None, int | None] | None = None
    for number, line in numbered_lines(data):
        if not line:
            continue
        stamp = _TIME.match(line)
        command = _COMMAND.search(line)
        if command:
            text = command.group(1).strip()
            loaded = _LOAD.match(text)
            if loaded:
                load = (basename(loaded.group(1)), _int(loaded.group(2)), _int(loaded.group(3)))
                current = None  # a load ends the previous window
                continue
            infer = _INFER.match(text)
            if infer:
                current = Window(index=len(run.windows) + 1, line=number, iterations=int(infer.group(1)),
                                 warmups=int(infer.group(2)))
                if load is not None:
                    current.input_file, current.offset, current.length = load
                run.windows.append(current)
                continue
            continue
        if (m := _SESSION.search(line)) and run.session_id is None:
            run.session_id = m.group(1)
        elif (m := _VERSION.search(line)) and run.runner_version is None:
            run.runner_version = m.group(1)
        elif m := _CONFIG.search(line):
            run.config[m.group(2)] = m.group(3)
        elif (m := _MODEL.search(line)) and run.model_id is None:
            run.model_id = m.group(1)
        if current is None:
            continue
        if (m := _LAP.search(line)) and not _FOREIGN_LAP.search(line):
            current.laps_us.append(int(m.group(1)))
        if m := _RESULTS.search(line):
            current.outputs_text = m.group(1)
            current.outputs, current.output_problem = parse_vector(m.group(1))
        if stamp and _INFER_START.search(line):
            current.infer_start_s = float(stamp.group(1))
        if stamp and _INFER_DONE.search(line):
            current.infer_done_s = float(stamp.group(1))
    for window in run.windows:
        window.runtime_us = lap_span(window.laps_us)


def lap_span(laps: list[int]) -> int | None:
    """Microseconds from the first to the last lap, across one wrap of a 32-bit counter; None
    when the laps go backwards in a way no wrap explains."""
    if len(laps) < 2:
        return None
    span = laps[-1] - laps[0]
    if span < 0 and laps[0] < _WRAP and laps[-1] < _WRAP:
        span += _WRAP
    return span if span >= 0 else None


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None
