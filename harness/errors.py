"""Expected failures of a measurement, each saying what to check next.

They are `SubmitError`s, so `submit run` prints `ClassName: message` and exits 2 (the device or the
configuration, not this tool, is at fault); measurements already taken are on disk by then.
"""

from __future__ import annotations

from submission_tools.errors import SubmitError


class HarnessError(SubmitError):
    """A measurement could not go on."""


class DeviceTimeout(HarnessError):
    """A device did not finish its answer in time."""

    def __init__(self, device: str, command: str, timeout_s: float, last_line: str | None, hint: str) -> None:
        last = f"the last line received was {last_line!r}" if last_line is not None else "nothing was received"
        super().__init__(f"{device}: no complete answer to '{command}' within {timeout_s:g} s; {last}. {hint}")
        self.device, self.command, self.last_line = device, command, last_line


class DeviceReset(HarnessError):
    """The DUT printed its boot banner in the middle of a command: it was reset."""

    def __init__(self, command: str, lines: list[str]) -> None:
        super().__init__(f"DUT: it rebooted while answering '{command}' (boot banner {lines[-3:]!r})")
        self.command, self.lines = command, lines


class GarbledReply(HarnessError):
    """A reply that does not have the shape the protocol promises (a corrupted or foreign line)."""

    def __init__(self, device: str, command: str, problem: str, lines: list[str]) -> None:
        super().__init__(f"{device}: unexpected answer to '{command}': {problem} (lines: {lines[-4:]!r})")
        self.device, self.command, self.lines = device, command, lines


class DutCommandError(HarnessError):
    """The DUT answered a command with an `e-[...]` error line."""

    def __init__(self, command: str, error: str, lines: list[str]) -> None:
        super().__init__(f"DUT: '{command}' failed: {error}")
        self.command, self.error, self.lines = command, error, lines


class SessionMismatch(HarnessError):
    """`--resume` was pointed at a session made with another DUT or another configuration."""
