"""Fault plans (harness/virtual/faults.py): byte faults at offsets and by seeded probability,
independent of chunking and of the other direction, and the command-count actions."""

from __future__ import annotations

import pytest

from harness.virtual.faults import ByteFaults, CommandAction, FaultPlan

STREAM = bytes(range(256)) * 40  # 10240 bytes


def chunked(apply, data: bytes, size: int) -> bytes:
    return b"".join(apply(data[i:i + size]) for i in range(0, len(data), size))


def test_no_faults_pass_everything():
    injector = FaultPlan().injector()
    assert injector.to_device(STREAM) == STREAM
    assert injector.to_host(STREAM) == STREAM
    assert [injector.command_arrived() for _ in range(3)] == [CommandAction.DELIVER] * 3
    assert set(injector.counts().values()) == {0}


def test_faults_at_explicit_offsets():
    plan = FaultPlan(to_device=ByteFaults(drop_at={0, 5}, corrupt_at=[2]))
    injector = plan.injector()
    out = injector.to_device(b"abc") + injector.to_device(b"defg")  # offsets span the chunks
    assert len(out) == 5
    assert out[0:1] == b"b" and out[2:] == b"deg"
    assert out[1] != ord("c")  # corrupted: some non-zero mask XORed in
    assert injector.to_host(b"abcdefg") == b"abcdefg"  # the other direction is untouched
    assert injector.counts() == {"to_device_dropped": 2, "to_device_corrupted": 1,
                                 "to_host_dropped": 0, "to_host_corrupted": 0}


def test_random_faults_are_seeded_and_independent_of_chunking():
    plan = FaultPlan(seed=11, to_host=ByteFaults(drop_rate=0.05, corrupt_rate=0.02))
    whole = plan.injector().to_host(STREAM)
    assert chunked(plan.injector().to_host, STREAM, 7) == whole
    assert chunked(plan.injector().to_host, STREAM, 1) == whole
    other = FaultPlan(seed=12, to_host=plan.to_host).injector().to_host(STREAM)
    assert other != whole
    dropped = len(STREAM) - len(whole)
    assert 0.04 * len(STREAM) < dropped < 0.06 * len(STREAM)


def test_the_directions_draw_from_separate_streams():
    faults = ByteFaults(drop_rate=0.1)
    alone = FaultPlan(seed=3, to_host=faults).injector()
    mixed = FaultPlan(seed=3, to_host=faults, to_device=faults).injector()
    mixed.to_device(STREAM)  # traffic the other way must not shift the host-bound faults
    assert mixed.to_host(STREAM) == alone.to_host(STREAM)


def test_corruption_rate_changes_bytes_without_dropping_them():
    injector = FaultPlan(to_device=ByteFaults(corrupt_rate=1.0)).injector()
    out = injector.to_device(STREAM)
    assert len(out) == len(STREAM)
    assert all(a != b for a, b in zip(out, STREAM))


def test_command_actions_fire_once_at_their_command():
    injector = FaultPlan(reset_at_command=2, stall_at_command=4, stall_s=1.5).injector()
    actions = [injector.command_arrived() for _ in range(5)]
    assert actions == [CommandAction.DELIVER, CommandAction.RESET, CommandAction.DELIVER,
                       CommandAction.STALL, CommandAction.DELIVER]
    assert injector.commands == 5


@pytest.mark.parametrize("kwargs", [
    {"to_device": {"drop_rate": 1.5}}, {"to_host": {"corrupt_rate": -0.1}},
    {"to_host": {"drop_at": [-1]}}, {"reset_at_command": 0}, {"stall_at_command": -2},
    {"stall_s": -1.0}, {"stall_s": float("inf")},
])
def test_invalid_plans_are_refused(kwargs):
    with pytest.raises(ValueError):
        plan = {k: ByteFaults(**v) if isinstance(v, dict) else v for k, v in kwargs.items()}
        FaultPlan(**plan)
