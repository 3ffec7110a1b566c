"""Virtual interface boards (IO managers) that sit between the host and a DUT engine.

Each board is a DeviceEngine on its host link and owns a DUT engine, wired in-process: commands
for the DUT go to the DUT engine's `receive`, its output comes back through `attach`. The board
advances the SimClock for every byte on the DUT link at the DUT-link baud (a pty carrying the
board accounts only for the host link). It is also a DutSignals listener, for the pins it watches
(add it to the DUT's `SignalHub`).

`VirtualStmInterface`: the MLCommons STM32H573I-DK "enhanced" interface (protocol.md 3.1).
`VirtualArduinoIoManager`: the EEMBC Arduino IO manager (protocol.md 3.2).

Passthrough and the stale-line hazard are modelled byte for byte: DUT output that arrives while no
passthrough is reading stays in the board's DUT receive queue (100 bytes on the STM board, 64 on
the Arduino's SoftwareSerial; later bytes are dropped), and the next passthrough forwards those
stale lines first and stops at the first `m-ready`, stale or not. A passthrough whose DUT never
answers `m-ready` keeps the board busy (as the firmware's forwarding loop does): host commands
wait in the host receive queue (100 bytes, overflow dropped) until it completes.

Choices where protocol.md is silent (all marked "chosen" below): reset duration, the bytes lost
during a reset, `ls` format, the Arduino's `name`, `version`, `tm 1`, `help` and error replies,
and what a baud mismatch does (every byte on the DUT link is lost both ways).
"""

from __future__ import annotations

import json
import threading
import wave
from pathlib import Path

from harness.virtual.clock import SimClock, uart_time_us
from harness.virtual.engine import DeviceEngine, Emit, NoSignals

STM_NAME = "tinyML Enhanced Interface Board"
STM_DEFAULT_BAUD = 9600
STM_MAX_BAUD = 2_000_000
STM_TABLE = ("dut", "name", "ls", "play", "setbaud", "checkbaud", "record_detections", "print_detections",
             "print_dutycycle")
PLAY_ERROR = "Error playing file. Check that the file exists and is a 2-channel wav file."
MAX_DETECTIONS = 10_000
MAX_FRAMES = 100
TIM2_TICK_US = 10
_U32 = 1 << 32

ARDUINO_NAME = "m-name-io-[arduino]"  # chosen: the runner ignores the reply; `arduino` is its device name
ARDUINO_VERSION = "m-version-[1.0.3]"  # chosen: from the firmware file name io-manager_1.0.3.hex
ARDUINO_HELP = (
    "help              this list",
    "name              device name",
    "res               Reset polarity 0*,1",
    "enable-timer      Enable timer ISR",
    "disable-timer     Disable ISR",
    "dut               DUT passthrough",
    "tm                0=fall/1*=change",
    "version           firmware version",
)


class _PassthroughBoard(NoSignals):
    """What both boards share: `%`-framed host commands and the DUT link with its queue. As DutSignals
    listeners they ignore every pin (NoSignals); each board overrides the pins it is wired to."""

    board_name = "interface board"

    def __init__(self, dut: DeviceEngine, clock: SimClock, *, dut_baud: int, dut_rx_queue_bytes: int,
                 host_rx_queue_bytes: int = 100, boot_dut: bool = True, account_dut_uart: bool = True) -> None:
        self.dut = dut
        self.clock = clock
        self.dut_baud = dut_baud
        self.dut_rx_queue_bytes = dut_rx_queue_bytes
        self.host_rx_queue_bytes = host_rx_queue_bytes
        self.boot_dut = boot_dut
        self.account_dut_uart = account_dut_uart
        self._lock = threading.RLock()
        self._emit: Emit = lambda data: None
        self._host = b""  # host bytes not yet taken as commands
        self._dut_rx = b""  # DUT bytes not yet forwarded
        self._busy = False  # a passthrough is waiting for the DUT's m-ready
        self._in_run = False
        self.dropped_dut_bytes = 0  # DUT output lost to a full receive queue
        self.dropped_host_bytes = 0
        self.lost_link_bytes = 0  # bytes lost to a baud mismatch
        self.commands: list[str] = []  # host commands taken, for tests and logs
        dut.attach(self._from_dut)

    # ------------------------------------------------------------------ DeviceEngine

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    def boot(self) -> None:
        """Board power-up (silent on the host link); boots the DUT too unless boot_dut is False."""
        with self._lock:
            self._host = b""
            self._dut_rx = b""
            self._busy = False
            self._board_reset()
        if self.boot_dut:
            self.dut.boot()

    def receive(self, data: bytes) -> None:
        with self._lock:
            if not self._alive():
                self.dropped_host_bytes += len(data)
                return
            if self._busy:
                room = max(0, self.host_rx_queue_bytes - len(self._host))
                self.dropped_host_bytes += max(0, len(data) - room)
                data = data[:room]
            self._host += data
            self._run()

    def poll(self) -> None:
        self.dut.poll()

    # ------------------------------------------------------------------ host side

    def _run(self) -> None:
        # Re-entrancy guard: DUT output that completes a passthrough inside a command's handling must
        # not start the next host command before the current handler has returned.
        if self._in_run:
            return
        self._in_run = True
        try:
            while not self._busy and b"%" in self._host and self._alive():
                raw, self._host = self._host.split(b"%", 1)
                command = raw.decode("latin-1")
                self.commands.append(command)
                self._handle(command)
        finally:
            self._in_run = False

    def _alive(self) -> bool:
        return True

    def _handle(self, command: str) -> None:
        raise NotImplementedError

    def _send(self, data: bytes) -> None:
        self._emit(data)

    def _line(self, text: str, end: str = "\r\n") -> None:
        self._emit((text + end).encode("latin-1"))

    def _ready(self) -> None:
        self._line("m-ready")

    # ------------------------------------------------------------------ DUT link

    def _link_ok(self) -> bool:
        dut_baud = getattr(self.dut, "uart_baud", None)
        return dut_baud is None or dut_baud == self.dut_baud

    def _to_dut(self, data: bytes) -> None:
        if self.account_dut_uart:
            self.clock.advance_us(uart_time_us(len(data), self.dut_baud))
        if not self._link_ok():
            self.lost_link_bytes += len(data)
            return
        self.dut.receive(data)

    def _from_dut(self, data: bytes) -> None:
        with self._lock:
            if self.account_dut_uart:
                self.clock.advance_us(uart_time_us(len(data), self.dut_baud))
            if not self._link_ok():
                self.lost_link_bytes += len(data)
                return
            if self._busy:
                self._dut_rx += data
                self._forward()
                if not self._busy:
                    self._run()
            else:
                self._queue_idle(data)

    def _queue_idle(self, data: bytes) -> None:
        room = max(0, self.dut_rx_queue_bytes - len(self._dut_rx))
        self.dropped_dut_bytes += max(0, len(data) - room)
        self._dut_rx += data[:room]

    def _forward(self) -> None:
        """Forward complete DUT lines as `[dut]: <line>` until one equals `m-ready`."""
        while self._busy and b"\r\n" in self._dut_rx:
            line, self._dut_rx = self._dut_rx.split(b"\r\n", 1)
            self._send(b"[dut]: " + line + b"\r\n")
            if line == b"m-ready":
                self._busy = False
                # What follows the m-ready now sits in the idle queue, within its size.
                rest, self._dut_rx = self._dut_rx, b""
                self._queue_idle(rest)

    def _passthrough(self, command: str) -> None:
        self._line(f"m-dut-passthrough({command})")
        self._ready()
        self._busy = True
        self._forward()  # stale lines first; a stale m-ready ends this passthrough
        self._to_dut(command.encode("latin-1") + b"%")  # the command is sent either way

    def _board_reset(self) -> None:
        pass

    # ------------------------------------------------------------------ inspection

    @property
    def busy(self) -> bool:
        """A passthrough is still waiting for the DUT's m-ready."""
        with self._lock:
            return self._busy

    @property
    def queued_dut_bytes(self) -> bytes:
        """DUT output waiting in the board (stale lines for the next passthrough)."""
        with self._lock:
            return self._dut_rx


class VirtualStmInterface(_PassthroughBoard):
    """The STM32H573I-DK enhanced interface (protocol.md 3.1) in front of `dut`.

    sd_root: the folder standing for the SD card (`ls`, `play`); truth files (`*.json` in the
    `sww_long_test.json` format: a list of {"wav_file", "detection_windows", ...}) beside a wav
    give the wakeword windows passed to the DUT's `play_audio(length_s, windows)`.
    stored_baud: the DUT-link baud in the board's flash (None: blank, so 9600).
    reset_us: simulated duration of the `setbaud` reset (chosen: 50 ms); host bytes already
    received behind the `setbaud%` are lost, as they would arrive during the reset.
    """

    board_name = "STM32H573I-DK interface"

    def __init__(self, dut: DeviceEngine, clock: SimClock, *, sd_root: str | Path | None = None,
                 stored_baud: int | None = None, reset_us: int = 50_000, boot_dut: bool = True,
                 account_dut_uart: bool = True) -> None:
        self.stored_baud = stored_baud
        self.reset_us = reset_us
        self.sd_root = Path(sd_root) if sd_root is not None else None
        self.resets = 0
        self.crashed = False  # a `setbaud` argument std::stoi cannot read: the firmware stops
        self._tim2_origin_us = 0
        self.detections_ms: list[int] = []
        self.dutycycle_starts: list[int] = []
        self.dutycycle_stops: list[int] = []
        super().__init__(dut, clock, dut_baud=self._boot_baud(stored_baud), dut_rx_queue_bytes=100,
                         host_rx_queue_bytes=100, boot_dut=boot_dut, account_dut_uart=account_dut_uart)
        self._tim2_origin_us = clock.now_us()

    @staticmethod
    def _boot_baud(stored: int | None) -> int:
        if stored is None or stored == 0 or not 0 < stored <= STM_MAX_BAUD:
            return STM_DEFAULT_BAUD
        return stored

    def power_cycle(self) -> None:
        """Unplug and replug the board: a crashed board comes back; the stored baud is kept."""
        with self._lock:
            self.crashed = False
            self.dut_baud = self._boot_baud(self.stored_baud)
        self.boot()

    def _alive(self) -> bool:
        return not self.crashed

    def _board_reset(self) -> None:
        self._tim2_origin_us = self.clock.now_us()
        self.detections_ms.clear()
        self.dutycycle_starts.clear()
        self.dutycycle_stops.clear()

    # ------------------------------------------------------------------ pins

    def _tim2(self, t_us: int) -> int:
        return ((t_us - self._tim2_origin_us) // TIM2_TICK_US) % _U32

    def wakeword(self, t_us: int) -> None:
        """WW_DETECTED falling edge → RecordDetection: ms = TIM2/100, dropped if within 10 ms of
        the previous one (uint32 arithmetic as in the firmware) or past 10000 detections."""
        with self._lock:
            now_ms = self._tim2(t_us) // 100
            if len(self.detections_ms) >= MAX_DETECTIONS:
                return
            if self.detections_ms:
                previous = self.detections_ms[-1]
                if not (previous < (now_ms - 10) % _U32 or previous > now_ms):
                    return
            self.detections_ms.append(now_ms)

    def processing(self, t_us: int, high: bool) -> None:
        with self._lock:
            target = self.dutycycle_starts if high else self.dutycycle_stops
            if len(target) < MAX_FRAMES:
                target.append(self._tim2(t_us))

    # ------------------------------------------------------------------ commands

    def _handle(self, command: str) -> None:
        for name in STM_TABLE:
            if command.startswith(name):
                if command == name:
                    arg = ""
                elif command.startswith(name + " ") and len(command) > len(name) + 1:
                    arg = command[len(name) + 1:]
                else:
                    return  # a prefix match that is neither: the firmware sends nothing
                getattr(self, f"_do_{name}")(arg)
                return
        self._ready()  # empty or unknown: Default

    def _do_dut(self, arg: str) -> None:
        self._passthrough(arg)

    def _do_name(self, arg: str) -> None:
        self._line(STM_NAME)
        self._ready()

    def _sd_path(self, name: str) -> Path | None:
        if self.sd_root is None:
            return None
        root = self.sd_root.resolve()
        path = (root / name.strip().lstrip("/")).resolve()
        if path != root and root not in path.parents:
            return None  # outside the card
        return path

    def _do_ls(self, arg: str) -> None:
        folder = self._sd_path(arg)
        if folder is not None and folder.is_dir():
            for entry in sorted(folder.iterdir()):
                self._line(entry.name)  # chosen: bare names, one per line, directories included
        self._ready()

    def _do_play(self, arg: str) -> None:
        self._line(f"Attempting to play {arg}", end="\n")
        path = self._sd_path(arg)
        length_s = None
        if path is not None and path.is_file():
            try:
                with wave.open(str(path), "rb") as wav:
                    if wav.getnchannels() == 2 and wav.getframerate() > 0:
                        length_s = wav.getnframes() / wav.getframerate()
            except (wave.Error, EOFError, OSError):
                length_s = None
        if length_s is None:
            self._line(PLAY_ERROR, end="\n")
            self._ready()
            return
        windows = self._truth_windows(path)
        start = self.clock.now_us()
        play = getattr(self.dut, "play_audio", None)
        if play is not None:
            play(length_s, windows)
        # The board blocks for the length of the wav whatever the DUT did with it.
        played = self.clock.now_us() - start
        remaining = round(length_s * 1e6) - played
        if remaining > 0:
            self.clock.advance_us(remaining)
        self._line("succeeded.", end="\n")
        self._ready()

    @staticmethod
    def _truth_windows(wav_path: Path) -> list[tuple[float, float]]:
        """Wakeword windows for this wav from a truth json beside it ([] if none names it)."""
        for truth in sorted(wav_path.parent.glob("*.json")):
            try:
                entries = json.loads(truth.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(entries, list):
                continue
            for entry in entries:
                if isinstance(entry, dict) and entry.get("wav_file") == wav_path.name:
                    return [(float(a), float(b)) for a, b in entry.get("detection_windows", [])]
        return []

    def _do_setbaud(self, arg: str) -> None:
        value = _stoi(arg)
        if value is None:
            # std::stoi throws on text without a leading number; the firmware has no handler.
            self.crashed = True
            return
        self._line(f"set baud to: {value}", end="\n")
        self._ready()
        self.stored_baud = value % _U32  # saved to flash as uint32
        self.resets += 1
        self._host = b""  # bytes behind the command arrive during the reset: lost (chosen)
        self._dut_rx = b""  # the reset empties the DUT receive queue (flushes stale lines)
        self._busy = False
        self.clock.advance_us(self.reset_us)
        self.dut_baud = self._boot_baud(self.stored_baud)
        self._board_reset()

    def _do_checkbaud(self, arg: str) -> None:
        self._line(f"baud is: {self.dut_baud}", end="\n")
        self._ready()

    def _do_record_detections(self, arg: str) -> None:
        self._board_reset()
        self._line("Now recording detections")
        self._ready()

    def _do_print_detections(self, arg: str) -> None:
        self._line("Detection Timestamps (ms)")
        for ms in self.detections_ms:
            self._line(f"{ms},")
        self._ready()

    def _do_print_dutycycle(self, arg: str) -> None:
        """Values `<n>, ` with a line break after every 8th; `m-ready` ends the last values' line
        (so it stands alone when the last line was just broken: 0 or a multiple of 8 values)."""
        out = ["Duty cycle start times (s)\r\n"]
        out.append(_dutycycle_values(self.dutycycle_starts))
        if self.dutycycle_starts and len(self.dutycycle_starts) % 8:
            out.append("\r\n")
        out.append("Duty cycle stop times (s)\r\n")
        out.append(_dutycycle_values(self.dutycycle_stops))
        out.append("m-ready\r\n")
        self._send("".join(out).encode("ascii"))


def _dutycycle_values(values: list[int]) -> str:
    parts = []
    for i, value in enumerate(values):
        parts.append(f"{value}, ")
        if (i + 1) % 8 == 0:
            parts.append("\r\n")
    return "".join(parts)


def _stoi(text: str) -> int | None:
    """std::stoi: optional leading whitespace, sign, digits; the rest ignored. None if no digits."""
    s = text.lstrip()
    i = 1 if s[:1] in ("+", "-") else 0
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        return None
    return int(s[:j])


class VirtualArduinoIoManager(_PassthroughBoard):
    """The EEMBC Arduino IO manager (protocol.md 3.2) in front of `dut`.

    lap_pin_wired: the DUT's timestamp GPIO is also wired to D3, so with the timer enabled each
    edge prints an unsolicited `m-lap-us-<micros>` (Arduino micros(): µs since its boot, 4 µs
    steps, wrapping at 2^32; `drift_ppm` makes its crystal run fast or slow).
    timestamp_pulse_us: the DUT's low pulse, for the rising edge seen in `tm 1` (change) mode.
    """

    board_name = "Arduino IO manager"

    def __init__(self, dut: DeviceEngine, clock: SimClock, *, dut_baud: int = 9600, lap_pin_wired: bool = False,
                 drift_ppm: float = 0.0, timestamp_pulse_us: int = 1, boot_dut: bool = True,
                 account_dut_uart: bool = True) -> None:
        self.lap_pin_wired = lap_pin_wired
        self.drift_ppm = drift_ppm
        self.timestamp_pulse_us = timestamp_pulse_us
        self.timer_enabled = False
        self.mode = "CHANGE"  # `tm`: 0 = falling, 1* = change (the asterisk marks the default)
        self._boot_us = clock.now_us()
        super().__init__(dut, clock, dut_baud=dut_baud, dut_rx_queue_bytes=64, host_rx_queue_bytes=64,
                         boot_dut=boot_dut, account_dut_uart=account_dut_uart)

    def _board_reset(self) -> None:
        self.timer_enabled = False
        self.mode = "CHANGE"
        self._boot_us = self.clock.now_us()

    def micros(self, t_us: int) -> int:
        elapsed = (t_us - self._boot_us) * (1 + self.drift_ppm * 1e-6)
        return (int(elapsed) // 4 * 4) % _U32

    def timestamp_edge(self, t_us: int) -> None:
        with self._lock:
            if not (self.timer_enabled and self.lap_pin_wired):
                return
            self._line(f"m-lap-us-{self.micros(t_us)}")
            if self.mode == "CHANGE":
                self._line(f"m-lap-us-{self.micros(t_us + self.timestamp_pulse_us)}")

    def _handle(self, command: str) -> None:
        tokens = command.split()
        if not tokens:
            self._ready()
            return
        name, args = tokens[0], tokens[1:]
        if name == "dut":
            rest = command.split(None, 1)[1] if args else ""
            if not rest:
                self._line("e-[dut: missing command]")  # chosen
                self._ready()
                return
            self._passthrough(rest)
        elif name == "name":
            self._line(ARDUINO_NAME)
            self._ready()
        elif name == "version":
            self._line(ARDUINO_VERSION)
            self._ready()
        elif name == "help":
            for text in ARDUINO_HELP:
                self._line(text)
            self._ready()
        elif name == "tm":
            if args == ["0"] or args == ["1"]:
                self.mode = "FALLING" if args == ["0"] else "CHANGE"
                self.timer_enabled = False
                self._line(f"m-timestmp-mode-{self.mode}")  # sic, as observed
                self._line("m-[Timer disabled after mode change]")
            else:
                self._line("e-[Invalid timestamp mode]")  # chosen
            self._ready()
        elif name == "enable-timer":
            self.timer_enabled = True
            self._line("m-timer-enabled")
            self._ready()
        elif name == "disable-timer":
            self.timer_enabled = False
            self._line("m-timer-disabled")
            self._ready()
        else:
            self._line(f"e-[Unknown command: {name}]")  # chosen, in the DUT firmware's style
            self._ready()
