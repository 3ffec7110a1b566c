"""The JS220 conversion (raw current, voltage and GPI0 → 1 ms energy samples and rising-edge
events) on synthetic arrays, the client's read loop against a fake device object, and the error
when the optional `joulescope` package is missing. The real hardware path cannot run here."""

from __future__ import annotations

import itertools
import math
import sys
import threading

import numpy as np
import pytest

from harness.monitors.base import CaptureBuffer, MonitorUnavailable
from harness.monitors.js220 import PARAMETERS, Js220, Js220Converter, feed_buffer

RAW = 1_000_000


def reference(current, voltage, gpi):
    """The runner's loop (protocol.md 4.2), one raw sample at a time."""
    samples, events = [], []
    acc, count, last, counter = 0.0, 0, None, 0
    for i, v, g in zip(current, voltage, gpi):
        g = int(g != 0)
        if last == 0 and g == 1:
            if count:
                samples.append(acc)
            acc, count = 0.0, 0
            events.append((f"{counter:02d}", len(samples)))
            counter += 1
        last = g
        acc += i * v / RAW
        count += 1
        if count == 1000:
            samples.append(acc)
            acc, count = 0.0, 0
    return samples, events


def feed_in_pieces(converter, current, voltage, gpi, cuts):
    samples, events = [], []
    bounds = [0, *cuts, len(current)]
    for a, b in itertools.pairwise(bounds):
        out = converter.feed(current[a:b], voltage[a:b], gpi[a:b])
        samples += out.samples
        events += out.events
    return samples, events


def test_constant_power_one_sample_per_1000_raw_across_calls():
    n = 5_500
    current, voltage, gpi = np.full(n, 0.01), np.full(n, 1.8), np.zeros(n, dtype=np.uint8)
    converter = Js220Converter()
    samples, events = feed_in_pieces(converter, current, voltage, gpi, [1, 1000, 2700, 4000])
    assert samples == [pytest.approx(18e-6, rel=1e-12)] * 5  # 18 mW for 1 ms
    assert events == []
    more = converter.feed(np.full(500, 0.01), np.full(500, 1.8), np.zeros(500))
    assert more.samples == [pytest.approx(18e-6, rel=1e-12)] and converter.samples == 6


def test_rising_edge_emits_the_partial_sample_then_the_event():
    n = 6_000
    current, voltage = np.full(n, 0.01), np.full(n, 2.0)  # 20 mW: 20 µJ per full sample
    gpi = np.ones(n, dtype=np.uint8)  # idle high
    gpi[2_300:2_500] = 0  # the DUT's low pulse; the rising edge is at raw sample 2500
    out = Js220Converter().feed(current, voltage, gpi)
    assert out.events == [("00", 3)]  # no event at the falling edge
    assert out.samples[:3] == [pytest.approx(20e-6), pytest.approx(20e-6), pytest.approx(10e-6)]
    # The next samples start at the edge: 2500..3500, 3500..4500, 4500..5500; 500 raw left over.
    assert out.samples[3:] == [pytest.approx(20e-6)] * 3


def test_edge_on_a_call_boundary_and_on_a_sample_boundary():
    converter = Js220Converter()
    low = converter.feed(np.full(1_000, 0.01), np.full(1_000, 1.0), np.zeros(1_000))
    high = converter.feed(np.full(1_000, 0.01), np.full(1_000, 1.0), np.ones(1_000))
    assert low.samples == [pytest.approx(10e-6)] and low.events == []
    # The edge is the first raw sample of the second call, exactly on a sample boundary: the
    # accumulator is empty, so no 0-length sample is emitted.
    assert high.events == [("00", 1)]
    assert high.samples == [pytest.approx(10e-6)]


def test_several_edges_count_up_and_nan_is_counted():
    n = 10_000
    current, voltage, gpi = np.full(n, 0.005), np.full(n, 3.3), np.zeros(n, dtype=np.uint8)
    for start in (1_200, 4_000, 7_777):
        gpi[start:start + 100] = 1
    current[5_000] = math.nan
    converter = Js220Converter()
    out = converter.feed(current, voltage, gpi)
    assert [c for c, _ in out.events] == ["00", "01", "02"]
    assert converter.nan_raw == 1
    assert sum(math.isnan(s) for s in out.samples) == 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_runner_loop_on_random_data_fed_in_random_pieces(seed):
    rng = np.random.default_rng(seed)
    n = 25_000
    current = rng.uniform(0.001, 0.03, n)
    voltage = rng.uniform(1.7, 1.9, n)
    gpi = np.ones(n, dtype=np.uint8)
    for start in rng.integers(0, n - 50, 6):
        gpi[start:start + rng.integers(1, 40)] = 0
    cuts = sorted(set(rng.integers(1, n, 12).tolist()))
    samples, events = feed_in_pieces(Js220Converter(), current, voltage, gpi, cuts)
    expected_samples, expected_events = reference(current, voltage, gpi)
    assert events == expected_events
    assert samples == pytest.approx(expected_samples, rel=1e-9)


def test_feed_buffer_keeps_events_between_their_samples():
    n = 4_000
    gpi = np.zeros(n, dtype=np.uint8)
    gpi[1_500:] = 1
    converter = Js220Converter()
    buffer = CaptureBuffer("JS220 test")
    out = converter.feed(np.full(n, 0.01), np.full(n, 1.0), gpi)
    feed_buffer(buffer, out, 0)
    capture = buffer.drain(1, 1.0)
    assert capture.events == [("00", 2)]
    assert capture.samples == out.samples


def test_rates_must_divide():
    with pytest.raises(ValueError, match="multiple"):
        Js220Converter(raw_rate_hz=1_000_000, out_rate_hz=3)


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "joulescope", None)  # import fails as if not installed
    with pytest.raises(MonitorUnavailable, match=r"pip install 'mlperf-tiny-submit\[energy\]'"):
        Js220().setup(3.3)


class FakeStreamBuffer:
    """Serves prepared raw arrays a few thousand samples at a time, like a filling ring buffer."""

    def __init__(self, current, voltage, lsb, step=3_000):
        self.current, self.voltage, self.lsb = current, voltage, lsb
        self.step = step
        self.end = 0
        self.lock = threading.Lock()

    @property
    def sample_id_range(self):
        with self.lock:
            self.end = min(len(self.current), self.end + self.step)
            return (0, self.end)

    def samples_get(self, start, stop, fields):
        assert fields == ["current", "voltage", "current_lsb"]
        return {"signals": {"current": {"value": self.current[start:stop]},
                            "voltage": {"value": self.voltage[start:stop]},
                            "current_lsb": {"value": self.lsb[start:stop]}}}


class FakeDevice:
    def __init__(self, stream):
        self.stream_buffer = stream
        self.calls = []

    def __str__(self):
        return "Joulescope:JS220:000123"

    def open(self):
        self.calls.append("open")

    def parameter_set(self, name, value):
        self.calls.append((name, value))

    def start(self):
        self.calls.append("start")

    def stop(self):
        self.calls.append("stop")

    def close(self):
        self.calls.append("close")


def test_client_read_loop_against_a_fake_device():
    n = 1_500_000  # 1.5 s of raw samples
    current, voltage = np.full(n, 0.012), np.full(n, 1.8)  # 21.6 mW
    lsb = np.ones(n, dtype=np.uint8)
    lsb[200_000:200_010] = 0  # edge 00 at raw 200010
    lsb[1_200_000:1_200_010] = 0  # edge 01 at raw 1200010: 1 s later
    device = FakeDevice(FakeStreamBuffer(current, voltage, lsb))
    scanned = []

    def scan(config):
        scanned.append(config)
        return [device]

    monitor = Js220("000123", scan=scan, poll_s=0.0005)
    with monitor:
        monitor.setup(1.8)
        monitor.power_on()
        monitor.start()
        capture = monitor.collect(2, timeout_s=10.0)
        monitor.stop()
        monitor.power_off()
    assert scanned == ["off"]
    assert device.calls == ["open", *PARAMETERS, "start", "stop", "close"]
    assert [c for c, _ in capture.events] == ["00", "01"]
    window = capture.score(iterations=10)
    # 1000 samples between the edges (the edge resets the sample phase): 21.6 mW · 1 s
    assert window.stop_index - window.start_index == 1000
    assert window.energy_uj == pytest.approx(21_600, rel=1e-9)
    assert window.power_mw == pytest.approx(21.6, rel=1e-9)
