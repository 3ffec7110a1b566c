"""Finding the bench's serial ports: listing them, matching USB ids, asking a device its name.

`list_ports` wraps pyserial's comports into plain `PortInfo` records; `match_usb` keeps those whose
VID/PID a DeviceSpec lists; `probe_name` opens a port, sends `name%` and returns what the device
calls itself; `discover` turns a DeviceSpec whose port is "auto" into a port, or explains, with the
ports it saw, why it cannot; `format_ports_table` is the table `submit run --list-ports` prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import serial
from serial.tools import list_ports as _pyserial_ports

from harness.config import KNOWN_USB, DeviceSpec
from submission_tools.errors import InputError

_DUT_NAME = re.compile(r"m-name-dut-\[(.*)\]")
# What an interface board answers to name% (protocol.md 3.1.1).
ENHANCED_INTERFACE_NAME = "tinyML Enhanced Interface Board"
LIST_PORTS_HINT = "`submit run --list-ports` lists the ports"


@dataclass(frozen=True)
class PortInfo:
    """One serial port as the operating system describes it (None where it says nothing)."""

    device: str
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    description: str | None = None
    manufacturer: str | None = None

    @property
    def usb_id(self) -> str:
        return f"{self.vid:04X}:{self.pid:04X}" if self.vid is not None and self.pid is not None else "-"


def list_ports() -> list[PortInfo]:
    """The serial ports attached now, sorted by device name."""
    found = []
    for port in _pyserial_ports.comports():
        description = port.description if port.description not in (None, "n/a") else None
        found.append(PortInfo(device=port.device, vid=port.vid, pid=port.pid, serial_number=port.serial_number,
                              description=description, manufacturer=port.manufacturer))
    return sorted(found, key=lambda p: p.device)


def match_usb(ports: Iterable[PortInfo], spec: DeviceSpec | Iterable[tuple[int, int]]) -> list[PortInfo]:
    """The ports whose (VID, PID) the spec lists, or, for a spec with `usb_description` in its
    extras (the runner's fallback), whose description contains that text."""
    if isinstance(spec, DeviceSpec):
        ids = set(spec.usb)
        description = spec.extra.get("usb_description")
    else:
        ids, description = set(spec), None
    matched = []
    for port in ports:
        by_ids = port.vid is not None and (port.vid, port.pid) in ids
        by_description = bool(description) and description in (port.description or "")
        if by_ids or by_description:
            matched.append(port)
    return matched


def _probe(url: str, baud: int, timeout: float) -> tuple[str, str] | None:
    """(kind, name) from a device's answer to name%: ('dut', the m-name-dut-[...] value) or
    ('other', the first other line, e.g. an interface board's name). None when the port cannot be
    opened, the device reports an error, or nothing sensible comes back in time."""
    try:
        port = serial.serial_for_url(url, baudrate=baud, timeout=0.05, write_timeout=timeout)
    except (serial.SerialException, OSError, ValueError):
        return None
    answer: tuple[str, str] | None = None
    refused = False
    try:
        with port:
            # Lines printed before we ask (a boot banner with its own m-ready) are not the answer.
            port.reset_input_buffer()
            port.write(b"name%")  # no flush(): tcdrain can block on a port nobody reads
            deadline = time.monotonic() + timeout
            pending = b""
            while time.monotonic() < deadline:
                chunk = port.read(port.in_waiting or 1)
                if not chunk:
                    continue
                pending += chunk
                while b"\n" in pending:
                    raw, pending = pending.split(b"\n", 1)
                    line = raw.decode("utf-8", "replace").replace("\r", "").replace("\0", "").strip()
                    if not line:
                        continue
                    if "m-ready" in line:
                        if answer is not None or refused:
                            return answer
                        continue  # a stale m-ready from before our command
                    found = _DUT_NAME.search(line)
                    if found:
                        answer = ("dut", found.group(1))
                    elif line.startswith("e-"):
                        refused = True
                    elif answer is None and not line.startswith(("Received command", "m-dut-passthrough")):
                        answer = ("other", line)
    except (serial.SerialException, OSError):
        return None
    return answer


def probe_name(url: str, baud: int, timeout: float = 2.0) -> str | None:
    """Open `url` at `baud`, send `name%`, read lines until `m-ready` or `timeout` seconds, and
    return the DUT's name (`m-name-dut-[<name>]`) or the line an interface board answers with
    ("tinyML Enhanced Interface Board"); None if nothing answered."""
    answer = _probe(url, baud, timeout)
    return None if answer is None else answer[1]


def discover(spec: DeviceSpec, baud: int, timeout: float = 1.0) -> str:
    """The port of a device whose config says "auto" (port None): the one USB port with its
    VID/PID, or, when several (or none are listed), the one that answers name% as this kind of
    device should. InputError listing the ports seen, and how to give the port, otherwise."""
    if spec.port is not None:
        return spec.port
    where = f"devices.{spec.kind}"
    if spec.kind == "monitor" and spec.name == "js220":
        raise InputError(f"{where}: the JS220 is a USB instrument, not a serial port, so it is found by its "
                         f"driver and not by port discovery; leave its port as auto, or use `port: virtual`")
    ports = list_ports()
    if spec.usb or spec.extra.get("usb_description"):
        candidates = match_usb(ports, spec)
        how = f"USB id {_ids(spec)}"
    else:
        # No ids to go by: ask every USB serial port for its name (never the built-in UARTs).
        candidates = [p for p in ports if p.vid is not None]
        how = "its answer to name% (no usb ids are configured)"

    wanted = spec.extra.get("check_name")
    must_ask = spec.kind in ("dut", "interface") and (len(candidates) > 1 or wanted or not spec.usb)
    if must_ask:
        answers = {p.device: _probe(p.device, baud, timeout) for p in candidates}
        candidates = [p for p in candidates if _answers_as(spec, answers[p.device], wanted)]
        how += f" and its answer to name% at {baud} baud" + (f" (`{wanted}`)" if wanted else "")

    if len(candidates) == 1:
        return candidates[0].device
    table = "\n".join("  " + line for line in format_ports_table(ports, [spec]))
    fix = (f"connect the board with a USB cable that carries data (and, for a DUT, check that its firmware "
           f"runs and the baud rate is right), or give the port in the config: `port: /dev/ttyACM0` under "
           f"{where} ({LIST_PORTS_HINT})")
    if not candidates:
        raise InputError(f"{where}: no port found for {spec.kind} `{spec.name}` by {how}; serial ports seen:\n"
                         f"{table}\n{fix}")
    names = ", ".join(p.device for p in candidates)
    raise InputError(f"{where}: several ports could be {spec.kind} `{spec.name}` ({names}) by {how}; serial "
                     f"ports seen:\n{table}\ngive the right one in the config: `port: {candidates[0].device}` "
                     f"under {where}")


def _answers_as(spec: DeviceSpec, answer: tuple[str, str] | None, wanted: str | None) -> bool:
    if answer is None:
        return False
    kind, name = answer
    if spec.kind == "dut":
        return kind == "dut" and (wanted is None or name == wanted)
    # An interface board answers with its own line, never as a DUT; the enhanced board by name.
    if spec.name == "stm32h573i-dk":
        return kind == "other" and "Interface Board" in name
    return kind == "other"


def _ids(spec: DeviceSpec) -> str:
    parts = [", ".join(f"{vid:04X}:{pid:04X}" for vid, pid in spec.usb)]
    if spec.extra.get("usb_description"):
        parts.append(f"description `{spec.extra['usb_description']}`")
    return " or ".join(p for p in parts if p)


def format_ports_table(ports: Iterable[PortInfo], specs: Iterable[DeviceSpec] = ()) -> list[str]:
    """Lines of a table of the ports: device, VID:PID, serial number, manufacturer, description,
    and which configured device (or known bench board) each one matches."""
    ports = list(ports)
    if not ports:
        return ["(no serial ports found)"]
    specs = [s for s in specs if s is not None]
    rows = [("PORT", "VID:PID", "SERIAL", "MANUFACTURER", "DESCRIPTION", "MATCHES")]
    for port in ports:
        matches = [f"{s.kind} {s.name}" for s in specs if match_usb([port], s)]
        if not matches and port.vid is not None:
            matches = [name for name, ids in KNOWN_USB.items() if (port.vid, port.pid) in ids]
        rows.append((port.device, port.usb_id, port.serial_number or "-", port.manufacturer or "-",
                     port.description or "-", ", ".join(matches) or "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
