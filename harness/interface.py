"""Interface boards between the host and the DUT (protocol.md 3): the STM32H573I-DK "enhanced"
interface of the MLCommons runner and the Arduino IO manager of the EEMBC runner.

The board relays DUT commands (`PassthroughChannel`) and has its own: `name`, `setbaud` (which
resets the board), and for streaming wakeword `record_detections`, `play`, `print_detections`,
`print_dutycycle`; the Arduino adds its timer commands (`tm`, `enable-timer`, `disable-timer`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from harness.channel import PassthroughChannel
from harness.errors import DeviceTimeout, GarbledReply, HarnessError
from harness.transport import SerialLink

BOARDS = ("stm32h573i-dk", "arduino")
_DETECTION = re.compile(r"^\s*(\d+)\s*,\s*$")
_NUMBER = re.compile(r"\d+")


@dataclass
class DutyCycleCounts:
    """Processing-pin edges in TIM2 ticks of 10 µs, as `print_dutycycle` lists them."""

    starts: list[int]
    stops: list[int]

    def seconds(self) -> tuple[list[float], list[float]]:
        # the runner multiplies by 10e-6 (= 1e-5 s per tick), whatever the "(s)" label says
        return [v * 10e-6 for v in self.starts], [v * 10e-6 for v in self.stops]


class InterfaceBoard:
    def __init__(self, link: SerialLink, name: str, *, timeout_s: float = 5.0, reset_settle_s: float = 2.0) -> None:
        self.link, self.name = link, name
        self.timeout_s, self.reset_settle_s = timeout_s, reset_settle_s
        self.channel = PassthroughChannel(link, name)
        self.dut_baud: int | None = None  # set by set_dut_baud

    def command(self, command: str, timeout_s: float | None = None) -> list[str]:
        """One of the board's own commands; its lines up to the one ending in `m-ready` (print_dutycycle
        puts `m-ready` on the line of its last values)."""
        wait = timeout_s or self.timeout_s
        self.link.drain()
        self.link.discard_partial()
        self.link.write(command + "%")
        lines: list[str] = []
        while True:
            line = self.link.read_line(wait)
            if line is None:
                raise DeviceTimeout(self.name, command, wait, lines[-1] if lines else None,
                                    f"Check the {self.name} interface board: power, USB cable, firmware, and "
                                    "that the command is one it knows.")
            lines.append(line)
            if line.rstrip().endswith("m-ready"):
                return lines

    def identify(self) -> str:
        lines = self.command("name")
        names = [line for line in lines if line and line != "m-ready"]
        if not names:
            raise GarbledReply(self.name, "name", "no board name", lines)
        return names[0]

    def set_dut_baud(self, baud: int) -> None:
        """`setbaud N`: the board stores the DUT-side baud and resets itself (protocol.md 3.1.1)."""
        lines = self.command(f"setbaud {baud}")
        if not any(line.strip() == f"set baud to: {baud}" for line in lines):
            raise GarbledReply(self.name, f"setbaud {baud}", "no 'set baud to' line", lines)
        self.dut_baud = baud
        time.sleep(self.reset_settle_s)
        self.link.drain(quiet_s=0.05)  # the boot output of the board after its reset
        self.link.discard_partial()

    def flush_dut_queue(self) -> None:
        """Empty what the DUT said while no passthrough was running (a boot banner after a reset):
        left in the board's queue, it would answer the next command, and every answer after it
        would be one behind (protocol.md 3.1.2). The STM board empties it when it resets; the
        Arduino has no reset command, so one throwaway passthrough takes the stale lines out."""
        if self.dut_baud is not None:
            self.set_dut_baud(self.dut_baud)
            return
        try:
            self.channel.exchange("name", self.timeout_s)
        except HarnessError:
            pass  # the stale lines are gone either way; identify() says whether the DUT answers

    # -- streaming wakeword ---------------------------------------------------------------------
    def record_detections(self) -> None:
        self.command("record_detections")

    def play(self, wav: str, length_s: float) -> list[str]:
        lines = self.command(f"play {wav}", timeout_s=length_s + 10)
        if any("Error playing file" in line for line in lines):
            raise GarbledReply(self.name, f"play {wav}", "the board could not play the file (is it on its "
                               "SD card, a 2-channel wav?)", lines)
        return lines

    def detections_ms(self) -> list[int]:
        lines = self.command("print_detections")
        return [int(m.group(1)) for line in lines if (m := _DETECTION.match(line))]

    def duty_cycle(self) -> DutyCycleCounts:
        lines = self.command("print_dutycycle")
        starts, stops, target = [], [], None
        for line in lines:
            if "start times" in line:
                target = starts
                continue
            if "stop times" in line:
                target = stops
                continue
            if target is not None:
                target += [int(v) for v in _NUMBER.findall(line.replace("m-ready", ""))]
        return DutyCycleCounts(starts, stops)

    # -- Arduino IO manager ---------------------------------------------------------------------
    def arm_timestamp_timer(self) -> None:
        """EEMBC energy set-up on the Arduino: falling-edge timestamps, timer on (protocol.md 3.2)."""
        if self.name == "arduino":
            self.command("tm 0")
            self.command("enable-timer")
