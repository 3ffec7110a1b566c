"""EEMBC energy trace files: `traceN-energy.bin` and `traceN-timestamps.json` (protocol.md 6.1).

    offset 0   uint8        0xF1 (constant in every published file)
    offset 1   float32 LE   sample rate in Hz (1000.0 in every published file)
    offset 5.. float32 LE   samples: energy in µJ of each 1/rate interval

The samples are memory-mapped, never read up front: a trace of 2 GB costs no memory until a
window of it is summed, and then only that window's pages are touched.

What is wrong with the *file* (marker, size, rate, a timestamps file that is not a list of
numbers) raises TraceProblem. What is odd about the *data* (NaN samples, timestamps out of
order or past the end of the trace) is left in place: scoring counts it
(`EnergyWindow.nan_samples`, `scoring.energy.check_timestamps`) so rules can report it.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass

import numpy as np

from submission_tools.textio import TextProblem, read_text

MARKER = 0xF1
HEADER_BYTES = 5
SAMPLE_BYTES = 4
SAMPLE_DTYPE = np.dtype("<f4")
# trace1-timestamps.json holds 11 numbers in about 100 bytes; a megabyte is not that file.
TIMESTAMPS_LIMIT = 1024 * 1024

_LAYOUT = ("an EEMBC trace is 1 marker byte 0xF1, the sample rate as float32 little-endian "
           "(1000.0), then float32 little-endian samples in µJ, so its size is 5 + 4·n bytes")


class TraceProblem(Exception):
    """A trace or timestamps file that cannot be read as one; the message says how it should look."""


@dataclass
class EnergyTrace:
    rate_hz: float
    samples_uj: np.ndarray  # float32 (little-endian) view of the file, memory-mapped
    path: str

    @property
    def duration_s(self) -> float:
        return len(self.samples_uj) / self.rate_hz


def read_energy_trace(path) -> EnergyTrace:
    """Map `path` as an EEMBC energy trace, or raise TraceProblem saying what is wrong with it."""
    path = os.fspath(path)
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
    except OSError as exc:
        raise TraceProblem(f"{path} cannot be read ({exc.strerror or exc})") from None
    if size < HEADER_BYTES or len(head) < HEADER_BYTES:
        raise TraceProblem(f"{path} is {size} bytes, shorter than the 5-byte header; {_LAYOUT}")
    if head[0] != MARKER:
        raise TraceProblem(f"{path} starts with byte 0x{head[0]:02X}, not the marker 0xF1; {_LAYOUT}")
    trailing = (size - HEADER_BYTES) % SAMPLE_BYTES
    if trailing:
        raise TraceProblem(
            f"{path} is {size} bytes: {trailing} byte(s) after the last whole float32 sample "
            f"(a truncated or padded file); {_LAYOUT}")
    (rate,) = struct.unpack("<f", head[1:HEADER_BYTES])
    if not math.isfinite(rate) or rate <= 0:
        raise TraceProblem(f"{path} gives a sample rate of {rate!r} Hz; it must be a positive finite "
                           f"number; {_LAYOUT}")
    count = (size - HEADER_BYTES) // SAMPLE_BYTES
    if count == 0:
        samples = np.empty(0, dtype=SAMPLE_DTYPE)  # mmap cannot map zero bytes
    else:
        samples = np.memmap(path, dtype=SAMPLE_DTYPE, mode="r", offset=HEADER_BYTES, shape=(count,))
    return EnergyTrace(rate_hz=float(rate), samples_uj=samples, path=path)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_trace_timestamps(path) -> list[float]:
    """The edge times (seconds since trace start) of a `traceN-timestamps.json`.

    Order and count are not checked here (see scoring.energy.check_timestamps): they are data.
    """
    path = os.fspath(path)
    expected = "a JSON array of finite numbers, seconds since the trace started, e.g. [0.013, 10.699, …]"
    try:
        text = read_text(path, TIMESTAMPS_LIMIT)
    except TextProblem as exc:
        raise TraceProblem(f"{path} {exc}; it should be {expected}") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise TraceProblem(f"{path} is not valid JSON ({exc}); it should be {expected}") from None
    if not isinstance(value, list):
        raise TraceProblem(f"{path} holds a JSON {type(value).__name__}, not an array; it should be {expected}")
    times = []
    for position, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise TraceProblem(f"{path}: item {position} is {json.dumps(item)[:40]}, not a number; "
                               f"it should be {expected}")
        item = float(item)
        if not math.isfinite(item):  # e.g. 1e999, which json reads as inf
            raise TraceProblem(f"{path}: item {position} is not a finite number; it should be {expected}")
        times.append(item)
    return times
