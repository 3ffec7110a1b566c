"""EEMBC trace files (protocol.md 6.1): the reader maps samples, refuses malformed files with a
message that says how the file should look, and leaves odd data (NaN, disorder) to scoring."""

from __future__ import annotations

import math
import resource
import struct
import tracemalloc

import numpy as np
import pytest

from submission_tools.logs.energy_trace import (
    EnergyTrace,
    TraceProblem,
    read_energy_trace,
    read_trace_timestamps,
)
from submission_tools.scoring.energy import (
    check_timestamps,
    eembc_window,
    eembc_windows,
)


def write_trace(path, samples, rate=1000.0, marker=0xF1, extra=b""):
    data = bytes([marker]) + struct.pack("<f", rate) + np.asarray(samples, dtype="<f4").tobytes() + extra
    path.write_bytes(data)
    return path


# --- reading ---------------------------------------------------------------------------------


def test_reads_rate_and_samples_as_a_float32_memory_map(tmp_path):
    path = write_trace(tmp_path / "trace1-energy.bin", [1.5, 2.25, 3.0, 1e-3])
    trace = read_energy_trace(path)
    assert isinstance(trace, EnergyTrace)
    assert trace.rate_hz == 1000.0
    assert trace.samples_uj.dtype == np.dtype("<f4")
    assert isinstance(trace.samples_uj, np.memmap)  # mapped, not read
    assert trace.samples_uj.tolist() == pytest.approx([1.5, 2.25, 3.0, 1e-3], rel=1e-7)
    assert trace.path == str(path)
    assert trace.duration_s == pytest.approx(0.004)


def test_other_rates_are_read_as_given(tmp_path):
    trace = read_energy_trace(write_trace(tmp_path / "t.bin", [1.0] * 10, rate=5000.0))
    assert trace.rate_hz == 5000.0 and trace.duration_s == pytest.approx(0.002)


def test_header_only_trace_has_no_samples(tmp_path):
    trace = read_energy_trace(write_trace(tmp_path / "t.bin", []))
    assert len(trace.samples_uj) == 0 and trace.duration_s == 0


def test_nan_samples_are_data_not_a_file_problem(tmp_path):
    trace = read_energy_trace(write_trace(tmp_path / "t.bin", [1.0, math.nan, 2.0]))
    assert np.isnan(trace.samples_uj[1])


@pytest.mark.parametrize("marker", [0x00, 0xF0, 0xF2, 0xFF])
def test_wrong_marker_is_refused(tmp_path, marker):
    path = write_trace(tmp_path / "t.bin", [1.0, 2.0], marker=marker)
    with pytest.raises(TraceProblem, match=f"byte 0x{marker:02X}, not the marker 0xF1") as info:
        read_energy_trace(path)
    assert "5 + 4·n bytes" in str(info.value)  # says how the file should look


@pytest.mark.parametrize("size", [0, 1, 4])
def test_shorter_than_the_header_is_refused(tmp_path, size):
    path = tmp_path / "t.bin"
    path.write_bytes((bytes([0xF1]) + struct.pack("<f", 1000.0))[:size])
    with pytest.raises(TraceProblem, match=f"is {size} bytes, shorter than the 5-byte header"):
        read_energy_trace(path)


@pytest.mark.parametrize("trailing", [1, 2, 3])
def test_size_not_5_plus_4n_names_the_trailing_bytes(tmp_path, trailing):
    path = write_trace(tmp_path / "t.bin", [1.0, 2.0, 3.0], extra=b"\x00" * trailing)
    with pytest.raises(TraceProblem, match=f"{trailing} byte\\(s\\) after the last whole float32 sample"):
        read_energy_trace(path)


@pytest.mark.parametrize("rate", [0.0, -1000.0, math.inf, -math.inf, math.nan])
def test_non_positive_or_non_finite_rate_is_refused(tmp_path, rate):
    path = write_trace(tmp_path / "t.bin", [1.0], rate=rate)
    with pytest.raises(TraceProblem, match="sample rate of .* it must be a positive finite number"):
        read_energy_trace(path)


def test_missing_trace_is_a_trace_problem(tmp_path):
    with pytest.raises(TraceProblem, match="cannot be read"):
        read_energy_trace(tmp_path / "absent.bin")


# --- timestamps ------------------------------------------------------------------------------


def test_reads_the_published_timestamp_format(tmp_path):
    path = tmp_path / "trace1-timestamps.json"
    path.write_bytes(b"[\n\t0.013,\n\t10.699,\n\t21.64\n]")  # tab-indented, no final newline
    assert read_trace_timestamps(path) == [0.013, 10.699, 21.64]


def test_integers_and_disorder_are_accepted_as_data(tmp_path):
    path = tmp_path / "ts.json"
    path.write_text("[0, 5, 3.5]")
    times = read_trace_timestamps(path)
    assert times == [0.0, 5.0, 3.5] and all(isinstance(t, float) for t in times)
    assert any("out of order" in p for p in check_timestamps(times, windows_expected=1))


@pytest.mark.parametrize("text, message", [
    ('{"ts": [1, 2]}', "holds a JSON dict, not an array"),
    ('"0.1"', "holds a JSON str, not an array"),
    ("[0.1, \"2.0\"]", 'item 1 is "2.0", not a number'),
    ("[0.1, true]", "item 1 is true, not a number"),
    ("[0.1, null]", "item 1 is null, not a number"),
    ("[0.1, [2]]", r"item 1 is \[2\], not a number"),
    ("[0.1, NaN]", "not valid JSON"),
    ("[0.1, Infinity]", "not valid JSON"),
    ("[0.1, 1e999]", "item 1 is not a finite number"),
    ("[0.1, 2.0", "not valid JSON"),
    ("", "not valid JSON"),
])
def test_timestamps_that_are_not_an_array_of_finite_numbers_are_refused(tmp_path, text, message):
    path = tmp_path / "ts.json"
    path.write_text(text)
    with pytest.raises(TraceProblem, match=message) as info:
        read_trace_timestamps(path)
    assert "JSON array of finite numbers" in str(info.value)


def test_binary_timestamps_are_refused(tmp_path):
    path = tmp_path / "ts.json"
    path.write_bytes(b"[0.1,\x00 2]")
    with pytest.raises(TraceProblem, match="binary data"):
        read_trace_timestamps(path)


# --- a 2 GB trace costs no memory up front -----------------------------------------------------

TWO_GB_SAMPLES = 512 * 1024 * 1024  # 2 GiB of float32 samples


@pytest.fixture
def sparse_2gb_trace(tmp_path):
    """A 2 GiB + 5 byte trace: the header, then a hole (zeros) the file system does not store."""
    path = tmp_path / "huge-energy.bin"
    with open(path, "wb") as fh:
        fh.write(bytes([0xF1]) + struct.pack("<f", 1000.0))
        fh.truncate(5 + 4 * TWO_GB_SAMPLES)
        # a few real samples inside the windows computed below
        fh.seek(5 + 4 * 100_000)
        fh.write(np.full(11_000, 2.5, dtype="<f4").tobytes())
    yield path
    path.unlink()  # pytest keeps recent tmp dirs; do not leave 2 GB files (even sparse) behind


def test_a_2gb_trace_is_mapped_and_one_window_touches_only_its_pages(sparse_2gb_trace):
    rss_before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        trace = read_energy_trace(sparse_2gb_trace)
        assert len(trace.samples_uj) == TWO_GB_SAMPLES
        window = eembc_window(trace, 100.0, 111.0, iterations=100, number=2)  # samples 100000..111000
        last = eembc_window(trace, trace.duration_s - 11.0, trace.duration_s, iterations=100)
        problems = check_timestamps([0.0, 100.0, 111.0], windows_expected=1, trace=trace)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kb) / 1024
    assert window.energy_uj == 11_000 * 2.5 and window.power_mw == pytest.approx(2.5)
    assert window.energy_per_inf_uj == pytest.approx(275.0) and window.nan_samples == 0
    assert last.energy_uj == 0.0 and last.stop_index == TWO_GB_SAMPLES
    assert problems == []
    assert peak < 16 * 1024 * 1024, f"Python allocations peaked at {peak / 2**20:.1f} MiB"
    assert rss_growth_mb < 200, f"resident memory grew by {rss_growth_mb:.0f} MiB"


def test_windows_of_a_2gb_trace_past_its_end_are_reported(sparse_2gb_trace):
    trace = read_energy_trace(sparse_2gb_trace)
    end = trace.duration_s
    times = [0.0] + [end - 100 + 20 * k + d for k in range(5) for d in (0.0, 11.0)]
    times[-1] = end + 5.0  # the last edge is after the trace ends
    windows = eembc_windows(trace, times, [100] * 5)
    assert len(windows) == 5 and windows[-1].stop_index > len(trace.samples_uj)
    assert check_timestamps(times, trace=trace) == [
        f"1 timestamp(s) after the end of the trace at {end:.3f} s, first {end + 5.0}"]
