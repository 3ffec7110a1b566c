"""Port discovery: USB id matching, asking a device its name over a real pseudo-terminal, the errors
`discover` gives when it cannot decide, and the --list-ports table."""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from types import SimpleNamespace

import pytest

import harness.ports as ports_module
from harness.config import DeviceSpec
from harness.ports import (
    PortInfo,
    discover,
    format_ports_table,
    list_ports,
    match_usb,
    probe_name,
)
from submission_tools.errors import EXIT_USAGE, InputError

DUT_REPLY = b"m-name-dut-[x]\r\nm-ready\r\n"
INTERFACE_REPLY = b"tinyML Enhanced Interface Board\r\nm-ready\r\n"


class PtyDevice:
    """A device at the far end of a pseudo-terminal: a thread answers each `<cmd>%` with the bytes
    `replies` gives for it (unknown commands get the reference firmware's e-[...] + m-ready)."""

    def __init__(self, replies: dict[bytes, bytes] | None = None, preamble: bytes = b"") -> None:
        self.replies = replies or {}
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        if preamble:
            os.write(self.master, preamble)  # printed before anyone asked (a boot banner)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.02)
            if not ready:
                continue
            try:
                pending += os.read(self.master, 256)
            except OSError:
                return
            while b"%" in pending:
                command, pending = pending.split(b"%", 1)
                self.received.append(command)
                reply = self.replies.get(command, b"e-[Unknown command: " + command + b"]\r\nm-ready\r\n")
                if reply:
                    os.write(self.master, reply)


def dut_spec(**changes) -> DeviceSpec:
    spec = DeviceSpec(name="l4r5zi", kind="dut", port=None, baud={"performance": 115200}, usb=[(0x0483, 0x374B)])
    for key, value in changes.items():
        setattr(spec, key, value)
    return spec


def fake_ports(monkeypatch, ports: list[PortInfo]) -> None:
    monkeypatch.setattr(ports_module, "list_ports", lambda: list(ports))


# ---------------------------------------------------------------------------------------------
# match_usb


def test_match_usb_by_vid_pid_and_lists():
    nucleo = PortInfo("/dev/ttyACM0", 0x0483, 0x374B)
    stm = PortInfo("/dev/ttyACM1", 0x0483, 0x374E)
    uno = PortInfo("/dev/ttyACM2", 0x2A03, 0x0243)
    builtin = PortInfo("/dev/ttyS0")
    every = [nucleo, stm, uno, builtin]
    assert match_usb(every, dut_spec()) == [nucleo]
    arduino = DeviceSpec(name="arduino", kind="interface",
                         usb=[(0x2341, 0x0043), (0x2341, 0x0001), (0x2A03, 0x0043), (0x2A03, 0x0243)])
    assert match_usb(every, arduino) == [uno]
    assert match_usb(every, [(0x0483, 0x374B), (0x0483, 0x374E)]) == [nucleo, stm]
    assert match_usb(every, dut_spec(usb=[])) == []
    assert match_usb([builtin], [(0, 0)]) == []  # a port without USB ids matches nothing


def test_match_usb_by_description():
    ch340 = PortInfo("/dev/ttyUSB0", 0x1A86, 0x7523, description="USB2.0-Serial")
    spec = dut_spec(usb=[], extra={"usb_description": "USB2.0-Ser"})
    assert match_usb([ch340, PortInfo("/dev/ttyS0")], spec) == [ch340]


# ---------------------------------------------------------------------------------------------
# probe_name over a pseudo-terminal


def test_probe_name_of_a_dut():
    with PtyDevice({b"name": DUT_REPLY}) as device:
        started = time.monotonic()
        assert probe_name(device.path, 115200, timeout=2.0) == "x"
        assert time.monotonic() - started < 1.5  # it stops at m-ready, not at the timeout
        assert device.received == [b"name"]


def test_probe_name_skips_a_stale_banner_and_the_sww_echo():
    banner = b"m-timestamp-mode-performance\r\nm-init-done\r\nm-ready\r\n"
    reply = b"Received command: name\r\nm-name-dut-[syntiant]\r\nm-ready\r\n"
    with PtyDevice({b"name": reply}, preamble=banner) as device:
        assert probe_name(device.path, 115200, timeout=2.0) == "syntiant"


def test_probe_name_of_an_interface_board():
    with PtyDevice({b"name": INTERFACE_REPLY}) as device:
        assert probe_name(device.path, 115200, timeout=2.0) == "tinyML Enhanced Interface Board"


def test_probe_name_refused_or_silent():
    with PtyDevice({}) as device:  # answers e-[Unknown command: name], m-ready
        started = time.monotonic()
        assert probe_name(device.path, 115200, timeout=2.0) is None
        assert time.monotonic() - started < 1.5
    with PtyDevice({b"name": b""}) as device:  # says nothing at all
        started = time.monotonic()
        assert probe_name(device.path, 115200, timeout=0.3) is None
        assert time.monotonic() - started >= 0.3


def test_probe_name_of_a_missing_port():
    assert probe_name("/dev/does-not-exist-ttyACM9", 115200, timeout=0.2) is None


# ---------------------------------------------------------------------------------------------
# discover


def test_discover_keeps_a_given_port(monkeypatch):
    fake_ports(monkeypatch, [])
    assert discover(dut_spec(port="/dev/ttyACM4"), 115200) == "/dev/ttyACM4"
    assert discover(dut_spec(port="virtual"), 115200) == "virtual"


def test_discover_one_usb_match_without_asking(monkeypatch):
    fake_ports(monkeypatch, [PortInfo("/dev/ttyS0"), PortInfo("/dev/nonexistent-acm0", 0x0483, 0x374B)])
    assert discover(dut_spec(), 115200) == "/dev/nonexistent-acm0"


def test_discover_nothing_found_lists_the_ports(monkeypatch):
    fake_ports(monkeypatch, [PortInfo("/dev/ttyS0"), PortInfo("/dev/ttyUSB0", 0x1A86, 0x7523, "1", "CH340", "QinHeng")])
    with pytest.raises(InputError) as caught:
        discover(dut_spec(), 115200)
    message = str(caught.value)
    assert caught.value.exit_code == EXIT_USAGE
    assert message.startswith("devices.dut: no port found for dut `l4r5zi` by USB id 0483:374B")
    assert "/dev/ttyS0" in message and "/dev/ttyUSB0" in message and "1A86:7523" in message
    assert "`port: /dev/ttyACM0` under devices.dut" in message and "--list-ports" in message


def test_discover_asks_each_candidate_and_keeps_the_dut(monkeypatch):
    with PtyDevice({b"name": INTERFACE_REPLY}) as board, PtyDevice({b"name": DUT_REPLY}) as dut:
        fake_ports(monkeypatch, [PortInfo(board.path, 0x0483, 0x374B), PortInfo(dut.path, 0x0483, 0x374B)])
        assert discover(dut_spec(), 115200) == dut.path
        assert board.received == [b"name"] and dut.received == [b"name"]


def test_discover_an_interface_board_among_several(monkeypatch):
    with PtyDevice({b"name": INTERFACE_REPLY}) as board, PtyDevice({b"name": DUT_REPLY}) as dut:
        fake_ports(monkeypatch, [PortInfo(dut.path, 0x0483, 0x374E), PortInfo(board.path, 0x0483, 0x374E)])
        spec = DeviceSpec(name="stm32h573i-dk", kind="interface", usb=[(0x0483, 0x374E)])
        assert discover(spec, 115200) == board.path


def test_discover_check_name(monkeypatch):
    with PtyDevice({b"name": DUT_REPLY}) as dut:
        fake_ports(monkeypatch, [PortInfo(dut.path, 0x0483, 0x374B)])
        assert discover(dut_spec(extra={"check_name": "x"}), 115200) == dut.path
        with pytest.raises(InputError) as caught:
            discover(dut_spec(extra={"check_name": "Acme"}), 115200)
        assert "answer to name% at 115200 baud (`Acme`)" in str(caught.value)


def test_discover_without_usb_ids_asks_every_usb_port(monkeypatch):
    with PtyDevice({}) as other, PtyDevice({b"name": DUT_REPLY}) as dut:
        fake_ports(monkeypatch, [PortInfo("/dev/ttyS0"), PortInfo(other.path, 0x1A86, 0x7523),
                                 PortInfo(dut.path, 0x0483, 0x374B)])
        assert discover(dut_spec(usb=[]), 115200) == dut.path
        assert other.received == [b"name"]


def test_discover_several_that_answer(monkeypatch):
    with PtyDevice({b"name": DUT_REPLY}) as one, PtyDevice({b"name": DUT_REPLY}) as two:
        fake_ports(monkeypatch, [PortInfo(one.path, 0x0483, 0x374B), PortInfo(two.path, 0x0483, 0x374B)])
        with pytest.raises(InputError) as caught:
            discover(dut_spec(), 115200)
        message = str(caught.value)
        assert "several ports could be dut `l4r5zi`" in message and one.path in message and two.path in message
        assert f"`port: {one.path}` under devices.dut" in message


def test_discover_several_monitors_are_not_probed(monkeypatch):
    fake_ports(monkeypatch, [PortInfo("/dev/nonexistent-a", 0x0483, 0x5740),
                             PortInfo("/dev/nonexistent-b", 0x0483, 0x5740)])
    spec = DeviceSpec(name="lpm01a", kind="monitor", usb=[(0x0483, 0x5740)])
    with pytest.raises(InputError) as caught:
        discover(spec, 3686400)
    assert "several ports could be monitor `lpm01a`" in str(caught.value)


def test_discover_js220_is_not_a_serial_port(monkeypatch):
    fake_ports(monkeypatch, [])
    with pytest.raises(InputError) as caught:
        discover(DeviceSpec(name="js220", kind="monitor", usb=[(0x16D0, 0x10BA)]), 0)
    assert "USB instrument, not a serial port" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Listing


def test_list_ports_converts_pyserial_records(monkeypatch):
    raw = [
        SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, serial_number=None, description="n/a",
                        manufacturer=None),
        SimpleNamespace(device="/dev/ttyACM0", vid=0x0483, pid=0x374B, serial_number="0670FF",
                        description="STM32 STLink", manufacturer="STMicroelectronics"),
    ]
    monkeypatch.setattr(ports_module._pyserial_ports, "comports", lambda: raw)
    assert list_ports() == [
        PortInfo("/dev/ttyACM0", 0x0483, 0x374B, "0670FF", "STM32 STLink", "STMicroelectronics"),
        PortInfo("/dev/ttyS0", None, None, None, None, None),
    ]


def test_list_ports_on_this_machine():
    found = list_ports()
    assert all(isinstance(p, PortInfo) and p.device for p in found)
    assert [p.device for p in found] == sorted(p.device for p in found)


def test_format_ports_table():
    ports = [PortInfo("/dev/ttyACM0", 0x0483, 0x374B, "0670FF", "STM32 STLink", "STMicroelectronics"),
             PortInfo("/dev/ttyACM1", 0x0483, 0x374E), PortInfo("/dev/ttyS0")]
    lines = format_ports_table(ports, [dut_spec()])
    assert len(lines) == 4
    assert lines[0].split() == ["PORT", "VID:PID", "SERIAL", "MANUFACTURER", "DESCRIPTION", "MATCHES"]
    assert lines[1].split()[:3] == ["/dev/ttyACM0", "0483:374B", "0670FF"] and lines[1].endswith("dut l4r5zi")
    assert lines[2].endswith("stm32h573i-dk")  # a board the runner's devices yaml knows
    assert lines[3].split() == ["/dev/ttyS0", "-", "-", "-", "-", "-"]
    column = lines[0].index("VID:PID")
    assert all(line[column - 2:column] == "  " for line in lines)  # the columns line up
    assert format_ports_table([]) == ["(no serial ports found)"]
