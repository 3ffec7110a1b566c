"""What a virtual device is to the code that carries its bytes (a pty, an interface board, a test).

An engine is the device side of a serial protocol and nothing else: it never sleeps, never touches a
file descriptor and never reads the wall clock, so it can be driven byte by byte in a unit test, put
behind a pseudo-terminal (`harness.virtual.pty`), or wired inside another virtual device (an
interface board owns its DUT's engine).
"""

from __future__ import annotations

from typing import Callable, Protocol

Emit = Callable[[bytes], None]


class DeviceEngine(Protocol):
    def attach(self, emit: Emit) -> None:
        """Where the engine's output bytes go (the device's TX line)."""

    def boot(self) -> None:
        """Power-on: emit the boot banner (if the device has one) and become ready for commands."""

    def receive(self, data: bytes) -> None:
        """Bytes arriving on the device's RX line, already paced by whoever carries them. Output caused
        by them is emitted synchronously, before this returns (a real DUT is half-duplex: it services
        no command while it is inferring)."""

    def poll(self) -> None:
        """Called periodically by the carrier: devices that stream on their own (an energy monitor)
        emit what is due on the simulated clock. Others do nothing."""


class DutSignals(Protocol):
    """The DUT's wires other than its UART, as a virtual bench sees them: the power model and the
    energy monitor listen to activity and timestamp edges; the interface board to the SWW pins.
    Every call carries the simulated time (µs) at which the wire changed."""

    def activity(self, t_us: int, state: str) -> None:
        """The DUT draws the power of `state` from t_us on: 'idle', 'uart', 'infer' or 'stream'."""

    def timestamp_edge(self, t_us: int) -> None:
        """A falling edge on the timestamp GPIO (energy mode, protocol.md 1.5)."""

    def wakeword(self, t_us: int) -> None:
        """A pulse on WW_DETECTED (streaming wakeword, protocol.md 1.8)."""

    def processing(self, t_us: int, high: bool) -> None:
        """The SWW Processing pin went high (a frame started) or low (it ended)."""


class NoSignals:
    """A DUT wired to nothing but its UART."""

    def activity(self, t_us: int, state: str) -> None:
        pass

    def timestamp_edge(self, t_us: int) -> None:
        pass

    def wakeword(self, t_us: int) -> None:
        pass

    def processing(self, t_us: int, high: bool) -> None:
        pass
