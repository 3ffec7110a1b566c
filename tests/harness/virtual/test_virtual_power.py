"""The power model: exact integration over any interval, deterministic noise, supply gating,
edges, and the SignalHub fan-out."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from harness.virtual.power import PowerModel, SignalHub


def flat(**mw) -> PowerModel:
    return PowerModel(noise=0.0, mw=mw or None)


def test_flat_curve_integrates_state_by_state():
    model = flat()
    model.activity(1_000, "infer")
    model.activity(3_500, "uart")
    model.activity(4_000, "idle")
    # 1 ms idle (6 mW), 2.5 ms infer (24), 0.5 ms uart (8), 1 ms idle: mW·µs = nJ
    expected_nj = 6 * 1000 + 24 * 2500 + 8 * 500 + 6 * 1000
    assert model.energy_j(0, 5_000) == pytest.approx(expected_nj * 1e-9, rel=1e-12)
    assert model.energy_j(1_000, 3_500) == pytest.approx(24 * 2500e-9, rel=1e-12)
    assert model.energy_j(5_000, 5_000) == 0.0
    assert model.energy_j(5_000, 4_000) == 0.0


def test_configured_powers_and_unknown_state():
    model = flat(idle=1.0, infer=100.0)
    model.activity(0, "infer")
    assert model.energy_j(0, 10_000) == pytest.approx(100 * 10_000e-9)
    with pytest.raises(ValueError, match="unknown activity state 'sleep'"):
        model.activity(5, "sleep")
    with pytest.raises(ValueError, match="must be >= 0"):
        PowerModel(mw={"idle": -1})


def test_energy_is_additive_and_series_matches_single_intervals():
    model = PowerModel(noise=0.02, seed=7)
    for t, state in [(1_234, "infer"), (50_777, "uart"), (51_000, "idle"), (70_001, "stream")]:
        model.activity(t, state)
    cuts = [0, 999, 1_234, 5_000, 50_777, 60_000, 70_001, 100_000]
    pieces = sum(model.energy_j(a, b) for a, b in itertools.pairwise(cuts))
    assert pieces == pytest.approx(model.energy_j(0, 100_000), rel=1e-12)
    series = model.energy_series_j(333, 1_000, 99)
    assert len(series) == 99
    for k in (0, 1, 50, 98):
        assert series[k] == pytest.approx(model.energy_j(333 + k * 1000, 333 + (k + 1) * 1000), rel=1e-12)
    assert series.sum() == pytest.approx(model.energy_j(333, 99_333), rel=1e-12)


def test_noise_is_deterministic_bounded_and_seeded():
    a, b, c = PowerModel(noise=0.05, seed=1), PowerModel(noise=0.05, seed=1), PowerModel(noise=0.05, seed=2)
    for model in (a, b, c):
        model.activity(0, "infer")
    sa, sb, sc = (m.energy_series_j(0, 1000, 2000) for m in (a, b, c))
    assert np.array_equal(sa, sb)
    assert not np.array_equal(sa, sc)
    nominal = 24 * 1000e-9
    assert np.all(sa >= nominal * 0.95 - 1e-18) and np.all(sa <= nominal * 1.05 + 1e-18)
    assert sa.std() > nominal * 0.01  # it does vary
    assert abs(sa.mean() / nominal - 1) < 0.005  # and averages out


def test_supply_off_draws_nothing():
    model = flat()
    model.activity(0, "infer")
    model.supply(2_000, False)
    model.supply(5_000, True)
    assert model.energy_j(0, 6_000) == pytest.approx(24 * 3000e-9)
    assert not model.supplied(3_000) and model.supplied(5_000)
    unpowered = PowerModel(noise=0.0, supply_on=False)
    assert unpowered.energy_j(0, 10_000) == 0.0


def test_same_time_changes_last_wins_and_out_of_order_insert():
    model = flat()
    model.activity(1_000, "infer")
    model.activity(1_000, "uart")  # same µs: the later call wins
    model.activity(500, "infer")  # out of order: inserted in place
    assert model.state_at(700) == "infer" and model.state_at(1_000) == "uart"
    assert model.energy_j(0, 2_000) == pytest.approx((6 * 500 + 24 * 500 + 8 * 1000) * 1e-9)


def test_edges_in_interval_and_late_signals():
    model = flat()
    for t in (10, 5_000, 5_000, 20_000):
        model.timestamp_edge(t)
    assert model.edges(0, 5_000) == [10]
    assert model.edges(5_000, 20_001) == [5_000, 5_000, 20_000]
    assert model.count_edges(0, 30_000) == 4
    model.mark_consumed(30_000)
    assert model.late_signals == []
    model.timestamp_edge(25_000)
    assert len(model.late_signals) == 1 and "25000" in model.late_signals[0]


def test_long_interval_is_fast_and_exact():
    model = PowerModel(noise=0.01, seed=3)
    model.activity(0, "infer")
    model.activity(150_000_000, "idle")
    series = model.energy_series_j(0, 1000, 300_000)  # 5 minutes of 1 ms samples
    assert series.sum() == pytest.approx(model.energy_j(0, 300_000_000), rel=1e-9)
    assert math.isclose(series[:150_000].mean(), 24e-6, rel_tol=1e-3)
    assert math.isclose(series[150_000:].mean(), 6e-6, rel_tol=1e-3)


class Recorder:
    def __init__(self):
        self.calls = []

    def activity(self, t_us, state):
        self.calls.append(("activity", t_us, state))

    def timestamp_edge(self, t_us):
        self.calls.append(("edge", t_us))

    def wakeword(self, t_us):
        self.calls.append(("wakeword", t_us))

    def processing(self, t_us, high):
        self.calls.append(("processing", t_us, high))


class PinsOnly:
    def __init__(self):
        self.wakewords = []

    def wakeword(self, t_us):
        self.wakewords.append(t_us)


def test_signal_hub_forwards_to_every_listener_in_order():
    first, second, pins = Recorder(), Recorder(), PinsOnly()
    hub = SignalHub(first, pins)
    hub.add(second)
    hub.activity(1, "infer")
    hub.timestamp_edge(2)
    hub.wakeword(3)
    hub.processing(4, True)
    expected = [("activity", 1, "infer"), ("edge", 2), ("wakeword", 3), ("processing", 4, True)]
    assert first.calls == expected and second.calls == expected
    assert pins.wakewords == [3]  # a listener with only some methods gets those
    assert hub.listeners == (first, pins, second)


def test_power_model_behind_a_hub_sees_the_dut():
    model = flat()
    hub = SignalHub(model)
    hub.activity(0, "infer")
    hub.timestamp_edge(100)
    hub.wakeword(300)
    assert model.edges(0, 1_000) == [100]
    assert model.wakewords(0, 1_000) == [300] and model.wakewords(301, 1_000) == []
    assert model.energy_j(0, 1_000) == pytest.approx(24e-6)
