"""Test doubles for the host-side serial code: a device engine that answers from a script (to send
exactly the hostile bytes a test needs), a pty carrying it, and channels that misbehave on cue."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

from harness.errors import DeviceTimeout
from harness.transport import SerialLink
from harness.virtual.clock import SimClock
from harness.virtual.faults import FaultPlan
from harness.virtual.pty import PtyDevice

class ScriptedDevice:
    """A DeviceEngine for harness.virtual.pty: each `%`-terminated command gets the bytes the
    script gives for it (`replies[command]`, else `default`). A reply may be bytes, a list of
    bytes (one per call, the last one repeated) or a callable(command) -> bytes | None.
    `say` emits bytes at any time (stale output); `stream` makes `poll` emit bytes endlessly."""

    def __init__(self, replies: dict | None = None, default=None, banner: bytes = b"") -> None:
        self.replies = dict(replies or {})
        self.default = default
        self.banner = banner
        self.commands: list[str] = []
        self.stream: bytes = b""
        self._cmd = bytearray()
        self._emit: Callable[[bytes], None] = lambda data: None

    def attach(self, emit) -> None:
        self._emit = emit

    def boot(self) -> None:
        if self.banner:
            self._emit(self.banner)

    def poll(self) -> None:
        if self.stream:
            self._emit(self.stream)

    def say(self, data: bytes) -> None:
        self._emit(data)

    def receive(self, data: bytes) -> None:
        for byte in data:
            if byte != ord("%"):
                self._cmd.append(byte)
                continue
            command = self._cmd.decode("latin-1")
            self._cmd.clear()
            self.commands.append(command)
            reply = self.replies.get(command, self.default)
            if isinstance(reply, list):
                reply = reply.pop(0) if len(reply) > 1 else (reply[0] if reply else None)
            if callable(reply):
                reply = reply(command)
            if reply:
                self._emit(reply)


@contextlib.contextmanager
def pty_link(engine, *, clock: SimClock | None = None, baud: int = 115200, faults: FaultPlan | None = None,
             name: str = "DUT") -> Iterator[tuple[PtyDevice, SerialLink]]:
    """`engine` behind an unpaced pty, and a SerialLink opened on it once the boot output is out
    (pyserial drops what is waiting when it opens a port)."""
    clock = clock or SimClock()
    with PtyDevice(engine, clock=clock, baud=baud, pace=False, faults=faults) as device:
        assert device.drain()
        with SerialLink(device.port, baud, name=name) as link:
            yield device, link


class RecordingChannel:
    """Wraps a channel: records every command, and can lose the answer of chosen exchanges (the
    DUT ran the command, the host never heard back) or rewrite a command on its way."""

    def __init__(self, inner, *, lose_answer_of: set[int] = frozenset(),
                 rewrite: Callable[[int, str], str] | None = None) -> None:
        self.inner, self.link, self.label = inner, inner.link, inner.label
        self.lose_answer_of = set(lose_answer_of)  # exchange numbers, from 1
        self.rewrite = rewrite
        self.commands: list[str] = []

    def exchange(self, command: str, timeout_s: float, stop=None) -> list[str]:
        self.commands.append(command)
        number = len(self.commands)
        sent = self.rewrite(number, command) if self.rewrite else command
        lines = self.inner.exchange(sent, timeout_s, stop)
        if number in self.lose_answer_of:
            raise DeviceTimeout(self.label, command, timeout_s, None, "(answer lost by the test)")
        return lines
