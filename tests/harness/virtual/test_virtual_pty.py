"""A virtual DUT behind a pseudo-terminal (harness/virtual/pty.py), opened with pyserial as a
host would: round trips, real-time pacing at the baud rate, simulated UART time, fault plans,
and a clean shutdown."""

from __future__ import annotations

import gc
import os
import threading
import time
import warnings

import pytest
import serial

from harness.virtual.clock import SimClock, uart_time_us
from harness.virtual.dut import VirtualDut
from harness.virtual.faults import ByteFaults, FaultPlan
from harness.virtual.models import BuiltinModel
from harness.virtual.pty import PtyDevice

READY = b"m-ready\r\n"


def device(*, pace: bool = True, faults: FaultPlan | None = None, baud: int = 115200) -> PtyDevice:
    """A booted kws01 DUT whose boot banner is already out (pyserial drops it on open)."""
    clock = SimClock()
    d = PtyDevice(VirtualDut(BuiltinModel("kws01"), clock), clock=clock, baud=baud, pace=pace,
                  faults=faults)
    assert d.drain()
    return d


def command(port: serial.Serial, text: str) -> bytes:
    port.write(text.encode() + b"%")
    return port.read_until(READY)


@pytest.fixture
def dev():
    with device() as d, serial.serial_for_url(d.port, 115200, timeout=1) as port:
        yield d, port


def test_name_round_trip(dev):
    _, port = dev
    assert command(port, "name") == b"m-name-dut-[virtual]\r\nm-ready\r\n"
    assert command(port, "profile") == (b"m-profile-[ULPMark for tinyML Firmware V0.0.1]\r\n"
                                        b"m-model-[kws01]\r\nm-ready\r\n")
    assert port.read(1) == b""  # nothing after m-ready


def test_infer_over_the_pty_includes_the_lap_line_time(dev):
    d, port = dev
    lines = command(port, "infer 10 1").decode().split("\r\n")
    t0, t1 = (int(line[len("m-lap-us-"):]) for line in lines if line.startswith("m-lap-us-"))
    lap_line = len(f"m-lap-us-{t0}\r\n")
    assert t1 - t0 == 10 * d.engine.infer_cost_us + round(uart_time_us(lap_line, 115200))


def test_pacing_host_to_device_2000_bytes(dev):
    d, port = dev
    before = d.clock.now_us()
    started = time.monotonic()
    reply = command(port, "x" * 2000)
    elapsed = time.monotonic() - started
    assert reply == b"e-[Unknown command: " + b"x" * 80 + b"]\r\nm-ready\r\n"
    wire = uart_time_us(2001 + len(reply), 115200)
    assert elapsed >= wire / 1e6 - 0.002  # >= 0.17 s: the bytes took their time on the wire
    assert elapsed < wire / 1e6 + 0.5
    assert abs(d.clock.now_us() - before - wire) <= 1  # and exactly that much simulated time


def test_pacing_device_to_host_throughput(dev):
    _, port = dev
    data = bytes(i % 256 for i in range(490))
    command(port, "db load 490")
    for i in range(0, 490, 31):
        assert command(port, "db " + data[i:i + 31].hex()).endswith(READY)
    started = time.monotonic()
    reply = command(port, "db print")
    elapsed = time.monotonic() - started
    assert len(reply) > 2000 and reply.endswith(READY)
    assert reply.startswith(b"m-buffer-00-01-02-03-04-05-06-07\r\n")
    rate = len(reply) / elapsed
    assert 115200 / 10 * 0.8 < rate <= 115200 / 10 * 1.02  # at the baud rate, not faster


def test_unpaced_is_fast_but_keeps_simulated_uart_time():
    with device(pace=False) as d, serial.serial_for_url(d.port, 115200, timeout=1) as port:
        before = d.clock.now_us()
        started = time.monotonic()
        reply = command(port, "x" * 2000)
        assert time.monotonic() - started < 0.15
        assert abs(d.clock.now_us() - before - uart_time_us(2001 + len(reply), 115200)) <= 1


def test_dropped_and_corrupted_bytes():
    plan = FaultPlan(to_device=ByteFaults(drop_at={0}), to_host=ByteFaults(corrupt_at={3}))
    with device(faults=plan) as d:
        boot_banner = len(b"m-timestamp-mode-performance\r\nm-lap-us-0\r\nm-init-done\r\nm-ready\r\n")
        assert d.fault_counts()["to_host_corrupted"] == 1  # offset 3 was in the boot banner
        with serial.serial_for_url(d.port, 115200, timeout=1) as port:
            assert command(port, "name") == b"e-[Unknown command: ame]\r\nm-ready\r\n"
        assert boot_banner > 3


def test_random_corruption_to_host_is_seen_by_the_host():
    plan = FaultPlan(seed=5, to_host=ByteFaults(corrupt_rate=0.2))
    with device(faults=plan) as d, serial.serial_for_url(d.port, 115200, timeout=0.3) as port:
        replies = [command(port, "name") for _ in range(5)]
    assert any(r != b"m-name-dut-[virtual]\r\nm-ready\r\n" for r in replies)
    assert d.fault_counts()["to_host_corrupted"] > 0


def test_reset_at_the_second_command():
    with device(faults=FaultPlan(reset_at_command=2)) as d, \
            serial.serial_for_url(d.port, 115200, timeout=1) as port:
        assert command(port, "db load 4") == b"m-[Expecting 4 bytes]\r\nm-ready\r\n"
        reply = command(port, "name").decode()
        assert reply.startswith("m-timestamp-mode-performance\r\nm-lap-us-")
        assert reply.endswith("m-init-done\r\nm-ready\r\n")
        assert command(port, "db 01020304") == (b"e-[No room in the db buffer: send 'db load N' first]"
                                                b"\r\nm-ready\r\n")  # the load was lost


def test_stall_for_a_while_then_answer():
    plan = FaultPlan(stall_at_command=2, stall_s=0.4)
    with device(faults=plan) as d, serial.serial_for_url(d.port, 115200, timeout=0.2) as port:
        assert command(port, "name").endswith(READY)
        before = d.clock.now_us()
        assert command(port, "name") == b""  # run, but the answer is lost
        assert d.stalled
        assert command(port, "profile") == b""  # lost: the device is not listening
        time.sleep(0.2)
        assert not d.stalled
        assert command(port, "name") == b"m-name-dut-[virtual]\r\nm-ready\r\n"
        assert d.clock.now_us() - before >= 400_000  # the hang took simulated time too


def test_stall_forever():
    with device(faults=FaultPlan(stall_at_command=1)) as d, \
            serial.serial_for_url(d.port, 115200, timeout=0.2) as port:
        assert command(port, "name") == b""
        assert command(port, "name") == b""
        assert d.stalled


def test_close_stops_the_thread_and_closes_every_fd():
    before = set(threading.enumerate())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = device()
        fds = list(d._fds)
        with serial.serial_for_url(d.port, 115200, timeout=1) as port:
            assert command(port, "name").endswith(READY)
        d.close()
        d.close()  # idempotent
        del d
        gc.collect()
    assert set(threading.enumerate()) == before
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


def test_the_port_works_after_the_host_reopens_it(dev):
    d, port = dev
    port.close()
    with serial.serial_for_url(d.port, 115200, timeout=1) as again:
        assert command(again, "name").endswith(READY)
