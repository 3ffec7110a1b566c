"""End to end over pseudo-terminals: the LPM01A client talks to the virtual LPM01A through a pty
while a DUT triggers activity and two timestamp edges on the shared SimClock; the runner's
formula on the collected capture gives the energy the power model integrates.

1. A fake DUT engine driven directly: an inference of exactly 10 s between its edges.
2. The whole bench: host → pty → virtual STM interface → real virtual DUT (energy mode, 9600
   baud), the LPM01A on its own pty, `dut infer N W` as the runner sends it.
"""

from __future__ import annotations

import math
import time

import pytest
import serial

from harness.monitors.lpm01a import Lpm01a
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.interface import VirtualStmInterface
from harness.virtual.lpm01a import VirtualLpm01a
from harness.virtual.models import BuiltinModel
from harness.virtual.power import PowerModel, SignalHub
from harness.virtual.pty import PtyDevice

LPM_BAUD = 3686400


def half_ulps_j(samples: list[float]) -> float:
    """The most the 4-digit ascii_dec rounding can add up to over these samples."""
    total = 0.0
    for value in samples:
        if value > 0:
            total += 0.5 * 10.0 ** (math.floor(math.log10(value)) - 3)
    return total


def assert_capture_matches_model(capture, power: PowerModel, lpm: VirtualLpm01a, iterations: int,
                                 expected_s: float, earlier_samples: int = 0):
    """earlier_samples: samples of the previous captures of this acquisition (indices restart)."""
    assert capture.check() == []
    assert capture.partial_values == 0 and capture.problems == []
    window = capture.score(iterations)
    i0, i1 = window.start_index, window.stop_index
    samples = capture.samples[i0:i1]
    runner_j = window.energy_uj * 1e-6
    # Exactly the model's energy over the sample grid, up to the printed values' rounding ...
    t_start = lpm._t_start + earlier_samples * 1000  # where this capture's first sample begins
    grid_j = power.energy_j(t_start + i0 * 1000, t_start + i1 * 1000)
    assert abs(runner_j - grid_j) <= half_ulps_j(samples) + 1e-15
    # ... and the model's energy between the edges, up to one sample at each end.
    edges = power.edges(t_start, t_start + len(capture.samples) * 1000 + 1000)
    e0, e1 = edges[-2], edges[-1]
    edge_j = power.energy_j(e0, e1)
    assert abs(runner_j - edge_j) <= half_ulps_j(samples) + 2 * max(samples)
    assert window.duration_s == pytest.approx(expected_s, abs=0.0011)
    assert window.power_mw == pytest.approx(1e3 * edge_j / ((e1 - e0) / 1e6), rel=2e-3)
    assert power.late_signals == [] and lpm.problems == []
    return window


class EnergyDut:
    """The part of a DUT an energy monitor sees: activity and the timestamp pin."""

    def __init__(self, clock: SimClock, power: PowerModel):
        self.clock, self.power = clock, power

    def infer(self, seconds: float) -> None:
        clock, power = self.clock, self.power
        power.activity(clock.now_us(), "uart")
        clock.advance_us(37_250)  # the download of an input
        power.activity(clock.now_us(), "infer")
        power.timestamp_edge(clock.now_us())
        clock.advance_us(round(seconds * 1e6))
        power.timestamp_edge(clock.now_us())
        power.activity(clock.now_us(), "uart")
        clock.advance_us(12_345)  # printing m-infer-done, results, m-ready
        power.activity(clock.now_us(), "idle")


def test_fake_dut_ten_second_trial_over_a_pty():
    clock = SimClock(start_us=5_000_123)
    power = PowerModel(noise=0.02, seed=11)
    lpm = VirtualLpm01a(power, clock)
    with PtyDevice(lpm, clock=clock, baud=LPM_BAUD, pace=False) as device, \
            Lpm01a(device.port, ack_timeout_s=5.0) as client:
        client.setup(1.8)
        client.power_on()
        client.start()
        dut = EnergyDut(clock, power)
        dut.infer(10.0)
        first = client.collect(2, timeout_s=30.0)
        window = assert_capture_matches_model(first, power, lpm, iterations=500, expected_s=10.0)
        assert window.power_mw == pytest.approx(24.0, rel=0.01)  # the infer state, ±noise
        assert first.events[0][0] == "00" and first.events[1][0] == "01"
        # A second trial: counters go on, indices restart with the capture.
        dut.infer(10.5)
        second = client.collect(2, timeout_s=30.0)
        assert [c for c, _ in second.events] == ["02", "03"]
        assert_capture_matches_model(second, power, lpm, iterations=500, expected_s=10.5,
                                     earlier_samples=len(first.samples))
        client.stop()
        client.power_off()
    assert lpm.commands[-3:] == ["stop", "pwr off", "hrc"]


def read_until(port: serial.Serial, end: bytes, timeout_s: float) -> list[str]:
    deadline = time.monotonic() + timeout_s
    lines, pending = [], b""
    while time.monotonic() < deadline:
        pending += port.read(port.in_waiting or 1)
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            line = raw.replace(b"\r", b"").decode()
            lines.append(line)
            if line == end.decode():
                return lines
    raise AssertionError(f"no {end!r} within {timeout_s} s; got {lines} + {pending!r}")


def test_whole_bench_runner_flow_over_ptys():
    clock = SimClock()
    power = PowerModel(noise=0.01, seed=3, supply_on=False)
    hub = SignalHub(power)
    dut = VirtualDut(BuiltinModel("kws01"), clock, signals=hub, energy_mode=True, uart_baud=9600)
    board = VirtualStmInterface(dut, clock, boot_dut=False)
    hub.add(board)
    lpm = VirtualLpm01a(power, clock, on_power=lambda on: dut.boot() if on else None)
    with PtyDevice(lpm, clock=clock, baud=LPM_BAUD, pace=False) as lpm_pty, \
            PtyDevice(board, clock=clock, baud=115200) as board_pty, \
            Lpm01a(lpm_pty.port, ack_timeout_s=5.0) as monitor, \
            serial.Serial(board_pty.port, 115200, timeout=0.05) as host:
        # The runner's order (protocol.md 2.3): power, start, setbaud (flushes the boot banner).
        monitor.setup(1.8)
        monitor.power_on()  # boots the DUT: its banner waits in the board as stale lines
        monitor.start()
        host.write(b"setbaud 9600%")
        assert read_until(host, b"m-ready", 5.0) == ["set baud to: 9600", "m-ready"]
        host.write(b"dut name%")
        assert read_until(host, b"[dut]: m-ready", 5.0) == [
            "m-dut-passthrough(name)", "m-ready", "[dut]: m-name-dut-[virtual]", "[dut]: m-ready"]
        iterations = 700  # 700 x 15 ms = 10.5 s
        host.write(f"dut infer {iterations} 1%".encode())
        reply = read_until(host, b"[dut]: m-ready", 10.0)
        assert "[dut]: m-infer-done" in reply
        capture = monitor.collect(2, timeout_s=30.0)
        window = assert_capture_matches_model(capture, power, lpm, iterations=iterations, expected_s=10.5)
        assert window.power_mw == pytest.approx(24.0, rel=0.01)
        assert window.energy_per_inf_uj == pytest.approx(24.0 * 15_000 * 1e-3, rel=0.01)  # 360 µJ
        monitor.stop()
        monitor.power_off()
