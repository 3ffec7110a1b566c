"""How a command reaches the DUT: straight over its own UART, or through an interface board's
`dut <cmd>` passthrough (protocol.md 3.1.2). Both give back the DUT's lines up to its `m-ready`."""

from __future__ import annotations

from typing import Callable, Protocol

from harness.errors import DeviceReset, DeviceTimeout, GarbledReply
from harness.transport import SerialLink

READY = "m-ready"
BOOT_MARKERS = ("m-init-done", "m-timestamp-mode-")
# No answer is this long (`db print` of a VWW input is 3456 lines): a device that talks on without
# ever saying m-ready is answered with an error, not waited on forever.
MAX_LINES = 100_000

SILENT_DUT_HINT = ("Check that the DUT is powered and running the benchmark firmware, that the port and "
                   "baud rate match its firmware, and that nothing else holds the port.")


class DutChannel(Protocol):
    link: SerialLink
    label: str

    def exchange(self, command: str, timeout_s: float, stop: Callable[[str], bool] | None = None) -> list[str]:
        """Send one DUT command; return the DUT's lines up to and including its `m-ready`, or the
        first line `stop` accepts (an answer that goes on after the host's next bytes).

        `timeout_s` bounds the wait for each line (as in the MLCommons runner), so an inference
        of any length is fine as long as the DUT keeps talking."""


def read_until_ready(link: SerialLink, command: str, timeout_s: float, device: str, *, prefix: str = "",
                     hint: str = SILENT_DUT_HINT, stop: Callable[[str], bool] | None = None) -> list[str]:
    """Lines up to the first that is `m-ready` (after stripping `prefix`), or that `stop` accepts;
    a boot banner among them means the DUT reset under us (its own `m-ready` is read too, so the
    link is in step again)."""
    lines: list[str] = []
    for _ in range(MAX_LINES):
        line = link.read_line(timeout_s)
        if line is None:
            raise DeviceTimeout(device, command, timeout_s, lines[-1] if lines else None, hint)
        if not line:
            continue
        if prefix:
            if not line.startswith(prefix):
                continue  # the board's own chatter (Arduino lap lines): in the log, never DUT output
            line = line[len(prefix):]
        lines.append(line)
        if line.startswith(BOOT_MARKERS):
            _finish_boot(link, command, timeout_s, device, lines, prefix)
            raise DeviceReset(command, lines)
        if line == READY or (stop is not None and stop(line)):
            return lines
        if READY in line:
            # a half-duplex collision or a lost line end glues the ready onto other text (protocol.md
            # 1.9), `m-results-[...]m-ready` as well as `rGIm-ready`: the answer is over either way
            raise GarbledReply(device, command, "m-ready glued to other text", lines)
    raise GarbledReply(device, command, f"{MAX_LINES} lines without m-ready", lines[-4:])


def _finish_boot(link: SerialLink, command: str, timeout_s: float, device: str, lines: list[str],
                 prefix: str) -> None:
    while (line := link.read_line(min(timeout_s, 5.0))) is not None:
        lines.append(line)
        if line.removeprefix(prefix) == READY:
            return


class DirectChannel:
    """The DUT on its own serial port: `<cmd>%`."""

    def __init__(self, link: SerialLink) -> None:
        self.link, self.label = link, "DUT"

    def exchange(self, command: str, timeout_s: float, stop: Callable[[str], bool] | None = None) -> list[str]:
        self.link.drain()
        self.link.discard_partial()
        self.link.write(command + "%")
        return read_until_ready(self.link, command, timeout_s, self.label, stop=stop)


class PassthroughChannel:
    """The DUT behind an interface board (STM32H573I-DK enhanced interface or Arduino IO manager):
    `dut <cmd>%` is acknowledged with `m-dut-passthrough(<cmd>)` and `m-ready`, then the DUT's lines
    come back as `[dut]: <line>` up to `[dut]: m-ready`."""

    DUT_PREFIX = "[dut]: "

    def __init__(self, link: SerialLink, board: str) -> None:
        self.link, self.label, self.board = link, "DUT", board

    def exchange(self, command: str, timeout_s: float, stop: Callable[[str], bool] | None = None) -> list[str]:
        self.link.drain()
        self.link.discard_partial()
        self.link.write(f"dut {command}%")
        ack = read_until_ready(self.link, f"dut {command}", min(timeout_s, 5.0), self.board,
                               hint=f"Check the {self.board} interface board: power, USB cable and its firmware.")
        if ack[-2:] != [f"m-dut-passthrough({command})", READY]:
            raise GarbledReply(self.board, f"dut {command}", "the passthrough acknowledgement is missing", ack)
        return read_until_ready(self.link, command, timeout_s, self.label, prefix=self.DUT_PREFIX, stop=stop)
