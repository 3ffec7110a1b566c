"""Deterministic faults for a virtual device's serial line: lost and corrupted bytes in either
direction, a reset when the Nth command arrives, and a device that stops answering.

A `FaultPlan` says what goes wrong; `FaultPlan.injector()` gives the stateful `FaultInjector` a
carrier (the pty, an interface board) runs every byte through. The same plan and the same traffic
give the same faults on every run: random faults come from a seeded generator per direction, and
one draw per byte keeps them independent of how the traffic is chunked.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import Enum

TERMINATOR = ord("%")


@dataclass(frozen=True)
class ByteFaults:
    """Faults of one direction. Offsets count the bytes sent in that direction, from 0, before any
    fault; a corrupted byte has a random non-zero mask XORed into it."""

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    drop_at: frozenset[int] = field(default_factory=frozenset)
    corrupt_at: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in ("drop_rate", "corrupt_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {rate}")
        for name in ("drop_at", "corrupt_at"):
            offsets = frozenset(getattr(self, name))
            if any(o < 0 for o in offsets):
                raise ValueError(f"{name} offsets must be >= 0")
            object.__setattr__(self, name, offsets)  # accept any iterable of offsets

    @property
    def active(self) -> bool:
        return bool(self.drop_rate or self.corrupt_rate or self.drop_at or self.corrupt_at)


@dataclass(frozen=True)
class FaultPlan:
    """What goes wrong on one device's line. Commands are counted from 1 as their `%` terminators
    reach the device (after byte faults). `stall_s=None` stalls forever."""

    seed: int = 0
    to_device: ByteFaults = field(default_factory=ByteFaults)
    to_host: ByteFaults = field(default_factory=ByteFaults)
    reset_at_command: int | None = None
    stall_at_command: int | None = None
    stall_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("reset_at_command", "stall_at_command"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} counts commands from 1, got {value}")
        if self.stall_s is not None and not (self.stall_s >= 0 and math.isfinite(self.stall_s)):
            raise ValueError(f"stall_s must be a finite number of seconds >= 0 (None: forever), got {self.stall_s}")

    def injector(self) -> FaultInjector:
        return FaultInjector(self)


class CommandAction(Enum):
    DELIVER = "deliver"  # the command reaches the device as sent
    RESET = "reset"  # the device resets instead of running it
    STALL = "stall"  # the device runs it, then stops answering (FaultPlan.stall_s)


class _Direction:
    """One direction's offset counter and random stream."""

    def __init__(self, faults: ByteFaults, seed: int, name: str) -> None:
        self.faults = faults
        # A string seed is hashed with SHA-512 by random.Random: stable across runs and platforms.
        self.rng = random.Random(f"{seed}:{name}")
        self.offset = 0
        self.dropped = 0
        self.corrupted = 0

    def apply(self, data: bytes) -> bytes:
        if not self.faults.active:
            self.offset += len(data)
            return data
        faults, out = self.faults, bytearray()
        for byte in data:
            offset = self.offset
            self.offset += 1
            # Always draw when a rate is set, so the stream of draws depends on the offset alone.
            drop = faults.drop_rate > 0 and self.rng.random() < faults.drop_rate
            corrupt = faults.corrupt_rate > 0 and self.rng.random() < faults.corrupt_rate
            if drop or offset in faults.drop_at:
                self.dropped += 1
                continue
            if corrupt or offset in faults.corrupt_at:
                byte ^= self.rng.randrange(1, 256)
                self.corrupted += 1
            out.append(byte)
        return bytes(out)


class FaultInjector:
    """A plan applied to a live line: `to_device`/`to_host` filter bytes in order, and
    `command_arrived` is called by the carrier for every `%` that reaches the device."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._to_device = _Direction(plan.to_device, plan.seed, "to_device")
        self._to_host = _Direction(plan.to_host, plan.seed, "to_host")
        self.commands = 0

    def to_device(self, data: bytes) -> bytes:
        return self._to_device.apply(data)

    def to_host(self, data: bytes) -> bytes:
        return self._to_host.apply(data)

    def command_arrived(self) -> CommandAction:
        self.commands += 1
        if self.commands == self.plan.reset_at_command:
            return CommandAction.RESET
        if self.commands == self.plan.stall_at_command:
            return CommandAction.STALL
        return CommandAction.DELIVER

    def counts(self) -> dict[str, int]:
        """Bytes dropped and corrupted so far, per direction (for reports and tests)."""
        return {"to_device_dropped": self._to_device.dropped,
                "to_device_corrupted": self._to_device.corrupted,
                "to_host_dropped": self._to_host.dropped,
                "to_host_corrupted": self._to_host.corrupted}
