"""A virtual STM32 Power shield LPM01A (PowerShield firmware) as a DeviceEngine.

It answers the commands the MLCommons runner sends (protocol.md 4.1) and, once started, streams
the energy a `PowerModel` integrates, one value per sample period, with events at the DUT's
timestamp edges. Wire format (what protocol.md leaves open is marked "chosen"):

* Every command line ends `\\n` (a `\\r` before it is ignored). Replies end `\\r\\n`.
* Accepted: `PowerShield > ack <command as received>[ <result>]`. Chosen results: `version` →
  `ack version <version>`, `powershield` → `ack powershield <board id>`, `status` → `ack status ok`,
  `volt get` → `ack volt get <mV>m`.
* Refused: `PowerShield > error <command as received>` then `Error detail: <reason>` (chosen
  reasons: `unknown command`, `invalid parameter`, `host control required (send htc)`,
  `not allowed while acquisition is running`, `acquisition is not running`, and for settings this
  virtual device cannot stream, `virtual LPM01A streams only output energy in format ascii_dec with
  trigsrc sw`).
* Data (`output energy`, `format ascii_dec`): one value per period, the energy of that period in J,
  as `dddd±ee` (4-digit mantissa 1000..9999, so 4 significant digits: 16.83 µJ is `1683-08`; 0 J is
  `0000+00`). Chosen: up to `values_per_line` (default 8) values per line separated by one space,
  no trailing space, so the runner's `re.match` + `finditer` read every value and insert no NaN.
  A line is cut short before an event line and at each TimeStamp line; every poll ends its line.
* `event NN ris` (two digits at least, counting from 00 across the whole acquisition) just before
  the value of the period in which the edge fell: the runner's index `len(samples)` is then
  floor((t_edge - t_start) / period).
* `TimeStamp: SSSs MMMms, buff 00%` after every 1000 values (chosen: time of the end of the
  1000th value since start, buffer always 00 %).
* `stop` → the values due up to now, `PowerShield > ack stop`, then
  `PowerShield > Acquisition completed` (chosen text around the runner's `Acquisition completed`).

The supply (`pwr on|off`) switches the power model's supply, so the energy is 0 while the DUT is
unpowered; `on_power` lets a bench boot the DUT when it is switched on. `volt` is checked and
remembered but does not scale the power model (its figures are at the chosen supply).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from harness.virtual.clock import SimClock
from harness.virtual.engine import Emit
from harness.virtual.power import PowerModel

PROMPT = "PowerShield > "
VALUES_PER_TIMESTAMP = 1000
FREQS = {"100k": 100_000, "50k": 50_000, "20k": 20_000, "10k": 10_000, "5k": 5_000, "2k": 2_000,
         "1k": 1_000, "500": 500, "200": 200, "100": 100, "50": 50, "20": 20, "10": 10, "5": 5, "2": 2,
         "1": 1}
_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)(u|m|k|[+-]\d{1,2})?$")
_UNITS = {None: 1.0, "u": 1e-6, "m": 1e-3, "k": 1e3}

UNKNOWN = "unknown command"
INVALID = "invalid parameter"
NEED_HTC = "host control required (send htc)"
BUSY = "not allowed while acquisition is running"
NOT_RUNNING = "acquisition is not running"
UNSUPPORTED = "virtual LPM01A streams only output energy in format ascii_dec with trigsrc sw"


def format_ascii_dec(joules: float) -> str:
    """Energy in J as the LPM01A's ascii_dec value: `1683-08` = 1683·10⁻⁸ J (4 significant digits)."""
    if not joules > 0 or not math.isfinite(joules):
        return "0000+00"
    exponent = math.floor(math.log10(joules)) - 3
    mantissa = round(joules * 10 ** -exponent) if exponent < 0 else round(joules / 10 ** exponent)
    if mantissa >= 10_000:  # rounding carried into a fifth digit
        mantissa, exponent = round(mantissa / 10), exponent + 1
    elif mantissa < 1000:  # log10 landed just below a power of ten
        mantissa, exponent = round(joules * 10 ** -(exponent - 1)), exponent - 1
    if not -99 <= exponent <= 99:
        return "0000+00" if exponent < 0 else "9999+99"
    return f"{mantissa:04d}{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def parse_number(text: str) -> float | None:
    """A PowerShield numerical argument: `1800m`, `2-3`, `100u`, `0`, `30` (None if malformed)."""
    match = _NUMBER.match(text)
    if not match:
        return None
    value, unit = float(match.group(1)), match.group(2)
    if unit in _UNITS:
        return value * _UNITS[unit]
    return value * 10.0 ** int(unit)


class CommandRefused(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class VirtualLpm01a:
    """DeviceEngine of a virtual LPM01A measuring `power` on `clock`."""

    def __init__(self, power: PowerModel, clock: SimClock, *, values_per_line: int = 8, version: str = "1.0.8",
                 board_id: str = "VIRTUAL-LPM01A-0001", on_power: Callable[[bool], None] | None = None,
                 max_values_per_poll: int = 100_000) -> None:
        if values_per_line < 1:
            raise ValueError("values_per_line must be >= 1")
        self.power = power
        self.clock = clock
        self.values_per_line = values_per_line
        self.version = version
        self.board_id = board_id
        self.on_power = on_power
        # A long jump of the clock (a 20-minute SWW stream) is sent over several polls, so one poll
        # neither builds a huge buffer nor holds the carrier thread for seconds.
        self.max_values_per_poll = max_values_per_poll
        self._emit: Emit = lambda data: None
        self._rx = b""
        self.commands: list[str] = []  # every command line received, for tests and logs
        self.problems: list[str] = []  # late edges and the like
        self._defaults()

    def _defaults(self) -> None:
        self.host_control = False
        self.lcd = ["", ""]
        self.pwr = "auto"
        self.acqtime_s: float | None = 10.0  # None: infinite
        self.trigdelay_s = 1e-3
        self.trigsrc = "sw"
        self.eventsrc = ("d7", "fal")
        self.output = "current"
        self.format = "ascii_dec"
        self.freq_hz = 100
        self.volt_mv = 3300
        self.acquiring = False
        self._t_start = 0
        self._period_us = 1000
        self._emitted = 0  # values sent since start
        self._events = 0  # event lines sent since start
        self._edges_consumed = 0  # edges at or after start placed so far

    # ------------------------------------------------------------------ DeviceEngine

    def attach(self, emit: Emit) -> None:
        self._emit = emit

    def boot(self) -> None:
        """Power-up: settings back to their defaults, no banner (none was observed)."""
        self._rx = b""
        self._defaults()

    def receive(self, data: bytes) -> None:
        self._rx += data
        while b"\n" in self._rx:
            raw, self._rx = self._rx.split(b"\n", 1)
            line = raw.decode("ascii", errors="replace").replace("\r", "").strip()
            if line:
                self._command(line)

    def poll(self) -> None:
        if self.acquiring:
            self._stream(self.clock.now_us(), self.max_values_per_poll)

    # ------------------------------------------------------------------ output

    def _line(self, text: str) -> None:
        self._emit(text.encode("ascii") + b"\r\n")

    def _ack(self, command: str, result: str = "") -> None:
        self._line(f"{PROMPT}ack {command}{' ' + result if result else ''}")

    def _error(self, command: str, detail: str) -> None:
        self._line(f"{PROMPT}error {command}")
        self._line(f"Error detail: {detail}")

    # ------------------------------------------------------------------ commands

    def _command(self, line: str) -> None:
        self.commands.append(line)
        name, _, args = line.partition(" ")
        handler = getattr(self, f"_cmd_{name}", None)
        try:
            if handler is None:
                raise CommandRefused(UNKNOWN)
            if name not in ("help", "echo", "powershield", "version", "status", "htc", "hrc", "stop") \
                    and not self.host_control:
                raise CommandRefused(NEED_HTC)
            if self.acquiring and name not in ("stop", "pwr", "status", "version", "powershield", "echo"):
                raise CommandRefused(BUSY)
            result = handler(args.strip())
        except CommandRefused as refused:
            self._error(line, refused.detail)
            return
        if result is not False:  # handlers that reply themselves return False
            self._ack(line, result or "")

    def _cmd_help(self, args: str) -> str:
        return "help, echo, powershield, version, status, htc, hrc, lcd, volt, freq, acqtime, trigsrc, " \
               "trigdelay, eventsrc, output, format, pwr, start, stop"

    def _cmd_echo(self, args: str) -> str:
        return ""

    def _cmd_powershield(self, args: str) -> str:
        return self.board_id

    def _cmd_version(self, args: str) -> str:
        return self.version

    def _cmd_status(self, args: str) -> str:
        return "ok"

    def _cmd_htc(self, args: str) -> str:
        self.host_control = True
        return ""

    def _cmd_hrc(self, args: str) -> str:
        self.host_control = False
        return ""

    def _cmd_lcd(self, args: str) -> str:
        match = re.fullmatch(r'([12]) "([^"]*)"', args)
        if not match or len(match.group(2)) > 16:
            raise CommandRefused(INVALID)
        self.lcd[int(match.group(1)) - 1] = match.group(2)
        return ""

    def _cmd_volt(self, args: str) -> str:
        if args == "get":
            return f"{self.volt_mv}m"
        value = parse_number(args)
        if value is None or not 1.8 - 1e-9 <= value <= 3.3 + 1e-9:
            raise CommandRefused(INVALID)
        self.volt_mv = round(value * 1000)
        return ""

    def _cmd_freq(self, args: str) -> str:
        if args not in FREQS:
            raise CommandRefused(INVALID)
        self.freq_hz = FREQS[args]
        return ""

    def _cmd_acqtime(self, args: str) -> str:
        if args in ("inf", "0"):
            self.acqtime_s = None
            return ""
        value = parse_number(args)
        if value is None or not 100e-6 - 1e-12 <= value <= 100:
            raise CommandRefused(INVALID)
        self.acqtime_s = value
        return ""

    def _cmd_trigsrc(self, args: str) -> str:
        if args not in ("sw", "d7"):
            raise CommandRefused(INVALID)
        self.trigsrc = args
        return ""

    def _cmd_trigdelay(self, args: str) -> str:
        value = parse_number(args)
        if value is None or not 0 <= value <= 30:
            raise CommandRefused(INVALID)
        self.trigdelay_s = value
        return ""

    def _cmd_eventsrc(self, args: str) -> str:
        parts = args.split()
        if len(parts) != 2 or parts[0] != "d7" or parts[1] not in ("fal", "ris"):
            raise CommandRefused(INVALID)
        self.eventsrc = (parts[0], parts[1])
        return ""

    def _cmd_output(self, args: str) -> str:
        if args not in ("current", "energy"):
            raise CommandRefused(INVALID)
        self.output = args
        return ""

    def _cmd_format(self, args: str) -> str:
        if args not in ("ascii_dec", "bin_hexa"):
            raise CommandRefused(INVALID)
        self.format = args
        return ""

    def _cmd_pwr(self, args: str) -> str:
        parts = args.split()
        if not parts or parts[0] not in ("auto", "on", "off", "get") or len(parts) > 2 \
                or (len(parts) == 2 and parts[1] not in ("nostatus", "status")):
            raise CommandRefused(INVALID)
        if parts[0] == "get":
            return self.pwr
        self._set_supply(parts[0] == "on" if parts[0] != "auto" else self.acquiring)
        self.pwr = parts[0]
        return ""

    def _set_supply(self, on: bool) -> None:
        was = self.power.supplied(self.clock.now_us())
        self.power.supply(self.clock.now_us(), on)
        if self.on_power is not None and on != was:
            self.on_power(on)

    def _cmd_start(self, args: str) -> str:
        if self.output != "energy" or self.format != "ascii_dec" or self.trigsrc != "sw" \
                or self.freq_hz > 10_000:
            raise CommandRefused(UNSUPPORTED)
        self.acquiring = True
        self._t_start = self.clock.now_us()
        self._period_us = 1_000_000 // self.freq_hz
        self._emitted = self._events = self._edges_consumed = 0
        if self.pwr == "auto":
            self._set_supply(True)  # 'auto': power-on when the acquisition starts
        return ""

    def _cmd_stop(self, args: str) -> bool:
        if not self.acquiring:
            raise CommandRefused(NOT_RUNNING)
        now = self.clock.now_us()
        while self.acquiring and self._stream(now, self.max_values_per_poll):
            pass  # everything due before the stop goes out first
        if not self.acquiring:  # a finite acquisition time ran out on the way
            raise CommandRefused(NOT_RUNNING)
        self._ack("stop")
        self._finish()
        return False

    def _finish(self) -> None:
        self.acquiring = False
        self._line(f"{PROMPT}Acquisition completed")

    # ------------------------------------------------------------------ streaming

    def _stream(self, now_us: int, max_values: int) -> bool:
        """Emit the whole periods elapsed by now_us (up to the acquisition time, at most
        max_values of them), with their events; True if more were due than were sent."""
        period, t0 = self._period_us, self._t_start
        due = (now_us - t0) // period
        limit = None
        if self.acqtime_s is not None:
            limit = round(self.acqtime_s * 1_000_000) // period
            due = min(due, limit)
        first = self._emitted
        self._late_edges(t0 + first * period)
        if due <= first:
            return False
        behind = due - first > max_values
        due = min(due, first + max_values)
        energies = self.power.energy_series_j(t0 + first * period, period, due - first)
        edges = self.power.edges(t0 + first * period, t0 + due * period)
        edge_slots = [(e - t0) // period for e in edges]
        line: list[str] = []
        e = 0
        out: list[str] = []
        for k in range(first, due):
            while e < len(edge_slots) and edge_slots[e] == k:
                if line:
                    out.append(" ".join(line))
                    line = []
                out.append(f"event {self._events:02d} ris")
                self._events += 1
                e += 1
            line.append(format_ascii_dec(float(energies[k - first])))
            if len(line) == self.values_per_line:
                out.append(" ".join(line))
                line = []
            if (k + 1) % VALUES_PER_TIMESTAMP == 0:
                if line:
                    out.append(" ".join(line))
                    line = []
                elapsed_ms = (k + 1) * period // 1000
                out.append(f"TimeStamp: {elapsed_ms // 1000 % 1000:03d}s {elapsed_ms % 1000:03d}ms, buff 00%")
        if line:
            out.append(" ".join(line))
        self._edges_consumed += len(edges)
        self._emitted = due
        self.power.mark_consumed(t0 + due * period)
        self._emit(("\r\n".join(out) + "\r\n").encode("ascii"))
        if limit is not None and due >= limit:
            self._finish()
            return False
        return behind

    def _late_edges(self, emitted_until: int) -> None:
        """Edges reported after their period was already sent: placed now, and noted."""
        known = self.power.count_edges(self._t_start, emitted_until)
        for _ in range(known - self._edges_consumed):
            self.problems.append(f"edge placed late: event {self._events:02d} at value {self._emitted}")
            self._line(f"event {self._events:02d} ris")
            self._events += 1
        self._edges_consumed = max(self._edges_consumed, known)
