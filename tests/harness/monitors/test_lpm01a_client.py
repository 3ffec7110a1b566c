"""The LPM01A client: line sorting (values, cut values, events, TimeStamp lines, messages), the
runner's command sequence against the virtual LPM01A, and clear errors instead of hangs."""

from __future__ import annotations

import math
import threading

import pytest

from harness.monitors.base import (
    CaptureBuffer,
    MonitorCommandError,
    MonitorError,
    MonitorTimeout,
)
from harness.monitors.lpm01a import LineSorter, Lpm01a, format_voltage, lcd_voltage_text
from harness.virtual.clock import SimClock
from harness.virtual.lpm01a import VirtualLpm01a
from harness.virtual.power import PowerModel


class EngineSerial:
    """A pyserial stand-in wired to an engine in-process: writes go to receive(), reads poll the
    engine and return its output."""

    def __init__(self, engine, timeout=0.05):
        self.engine = engine
        self.timeout = timeout
        self._out = bytearray()
        self._lock = threading.Lock()
        self.closed = False
        engine.attach(self._emit)

    def _emit(self, data):
        self._out.extend(data)

    @property
    def in_waiting(self):
        return len(self._out)

    def write(self, data):
        with self._lock:
            self.engine.receive(bytes(data))
        return len(data)

    def flush(self):
        pass

    def read(self, size=1):
        if self.closed:
            raise OSError("port closed")
        with self._lock:
            self.engine.poll()
            chunk = bytes(self._out[:max(size, 1)])
            del self._out[:len(chunk)]
        if not chunk:
            threading.Event().wait(0.002)
        return chunk

    def close(self):
        self.closed = True


class Scripted:
    """An engine that answers each command line from a dict (or stays silent)."""

    def __init__(self, answers):
        self.answers = answers
        self.lines = []
        self._emit = None
        self._rx = b""

    def attach(self, emit):
        self._emit = emit

    def receive(self, data):
        self._rx += data
        while b"\r\n" in self._rx:
            line, self._rx = self._rx.split(b"\r\n", 1)
            text = line.decode()
            self.lines.append(text)
            answer = self.answers.get(text, f"PowerShield > ack {text}\r\n")
            if answer:
                self._emit(answer.encode())

    def poll(self):
        pass


def open_client(engine, **kwargs) -> tuple[Lpm01a, EngineSerial]:
    holder = {}

    def factory(port, baud, timeout):
        assert baud == 3686400
        holder["serial"] = EngineSerial(engine)
        return holder["serial"]

    client = Lpm01a("virtual", serial_factory=factory, **kwargs)
    return client, holder["serial"]


# ------------------------------------------------------------------------------- LineSorter

def sorter():
    return LineSorter(CaptureBuffer("LPM01A on test"))


def test_data_lines_with_several_values_and_events_in_between():
    s = sorter()
    for line in ["1683-08 1700-08\r", "1650-08", "event 00 ris", "2400-08 2400-08 2400-08", "event 01 ris",
                 "0600-08"]:
        s.feed(line)
    capture = s.buffer.drain(2, 1.0)
    assert capture.samples == [pytest.approx(v) for v in (16.83e-6, 17e-6, 16.5e-6, 24e-6, 24e-6, 24e-6, 6e-6)]
    assert capture.events == [("00", 3), ("01", 6)]
    assert capture.partial_values == 0 and capture.problems == []


def test_cut_values_become_counted_nans_and_keep_later_indices():
    s = sorter()
    s.feed("1683-08 16")  # cut at the end (the runner also appends nan)
    s.feed("83-08 1683-08")  # cut at the start (the runner would drop this line)
    s.feed("1683-08 1x83-08 1683-08")  # garbled in the middle
    s.feed("event 00 ris")
    s.feed("1683-08")
    capture = s.buffer.drain(1, 1.0)
    assert [math.isnan(v) for v in capture.samples] == [False, True, True, False, False, True, False, False]
    assert capture.events == [("00", 7)]
    assert capture.partial_values == 3
    assert s.garbled_lines == ["1683-08 16", "83-08 1683-08", "1683-08 1x83-08 1683-08"]


def test_message_glued_behind_data_is_still_seen():
    s = sorter()
    s.feed("1683-08 1683-08PowerShield > ack stop")
    s.feed("1683-08event 00 ris")
    s.feed("1683-08")
    assert list(s.messages) == ["PowerShield > ack stop"]
    capture = s.buffer.drain(1, 1.0)
    assert capture.samples == [pytest.approx(16.83e-6)] * 4 and capture.events == [("00", 3)]


def test_timestamp_lines_are_checked_for_1000_samples():
    s = sorter()
    s.feed("TimeStamp: 000s 000ms, buff 00%")
    s.feed(" ".join(["1000-08"] * 1000))
    s.feed("TimeStamp: 001s 000ms, buff 00%")
    s.feed(" ".join(["1000-08"] * 999))
    s.feed("TimeStamp: 002s 000ms, buff 00%")
    s.feed("TimeStamp: garbage")
    capture = s.buffer.drain(0, 1.0)
    assert len(capture.samples) == 1999 and s.timestamp_lines == 4
    assert len(capture.problems) == 2
    assert "999 samples after the previous one" in capture.problems[0]
    assert "unreadable TimeStamp line" in capture.problems[1]


def test_other_lines_are_messages():
    s = sorter()
    for line in ["PowerShield > ack htc", "Acquisition completed", "event x ris", ""]:
        s.feed(line)
    assert list(s.messages) == ["PowerShield > ack htc", "Acquisition completed", "event x ris"]
    assert s.last_line == "event x ris"


# ------------------------------------------------------------------------------- against the virtual LPM01A

def test_voltage_formats():
    assert format_voltage(3.3) == "3300m"  # int(3.3 * 1000) would give 3299m
    assert format_voltage(1.8) == "1800m"
    assert lcd_voltage_text(3.3) == "           3.3V " and len(lcd_voltage_text(1.8)) == 16


def test_runner_sequence_and_a_trial_against_the_virtual_device():
    clock = SimClock()
    power = PowerModel(noise=0.0)
    device = VirtualLpm01a(power, clock)
    client, _ = open_client(device)
    with client:
        client.setup(3.3)
        client.power_on()
        client.start()
        t0 = clock.now_us()
        power.activity(t0 + 3_000, "infer")
        power.timestamp_edge(t0 + 3_000)
        clock.advance_us(1_003_000)
        power.timestamp_edge(clock.now_us())
        power.activity(clock.now_us(), "idle")
        clock.advance_us(5_500)
        capture = client.collect(2, timeout_s=5.0)
        assert capture.events == [("00", 3), ("01", 1003)]
        assert len(capture.samples) == 1008
        assert capture.check() == []
        window = capture.score(iterations=100)
        assert window.energy_uj == pytest.approx(24 * 1_000_000e-3, rel=1e-9)  # 24 mW for 1 s = 24000 µJ
        assert window.duration_s == pytest.approx(1.0)
        assert window.power_mw == pytest.approx(24.0)
        assert window.energy_per_inf_uj == pytest.approx(240.0)
        # The next trial's indices start from its own first sample.
        power.timestamp_edge(clock.now_us() + 2_000)
        clock.advance_us(4_000)
        assert client.collect(1, timeout_s=5.0).events == [("02", 2)]
        client.stop()
        client.power_off()
    assert device.commands == [
        "htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off", "acqtime inf", "trigdelay 0",
        "trigsrc sw", "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k", "volt 3300m",
        'lcd 2 "           3.3V "', "pwr on nostatus", "start", "stop", "pwr off", "hrc"]
    assert not device.host_control


def test_refused_command_names_device_command_and_detail():
    client, _ = open_client(VirtualLpm01a(PowerModel(), SimClock()))
    with client:
        with pytest.raises(MonitorCommandError) as info:
            client.command("freq 1k")  # before htc
        message = str(info.value)
        assert "LPM01A on virtual" in message and "'freq 1k'" in message and "host control required" in message


def test_voltage_out_of_range_is_refused_before_any_command():
    engine = Scripted({})
    client, _ = open_client(engine)
    with client, pytest.raises(MonitorError, match="outside the LPM01A's range"):
        client.setup(5.0)
    assert engine.lines == []


def test_missing_acknowledgement_times_out_with_the_last_line():
    engine = Scripted({"trigdelay 0": "PowerShield > something else\r\n"})
    client, _ = open_client(engine, ack_timeout_s=0.3)
    with client, pytest.raises(MonitorTimeout) as info:
        client.setup(1.8)
    message = str(info.value)
    assert "no acknowledgement" in message
    assert "'trigdelay 0'" in message and "PowerShield > something else" in message
    assert "LPM01A on virtual" in message


def test_garbled_acknowledgement_is_not_taken():
    engine = Scripted({"htc": "PowerShield > ack h\x00tx\r\n"})
    client, _ = open_client(engine, ack_timeout_s=0.3)
    with client, pytest.raises(MonitorTimeout, match="'htc'"):
        client.command("htc")


def test_error_without_detail_line_still_raises_clearly():
    engine = Scripted({"volt 1800m": "PowerShield > error volt 1800m\r\n"})
    client, _ = open_client(engine, ack_timeout_s=0.3)
    with client, pytest.raises(MonitorCommandError, match="no Error detail line followed"):
        client.command("volt 1800m")


def test_stop_without_completion_times_out():
    engine = Scripted({"stop": "PowerShield > ack stop\r\n"})
    client, _ = open_client(engine, stop_timeout_s=0.3)
    with client:
        client.start()
        with pytest.raises(MonitorTimeout, match="Acquisition completed.*'stop'|'stop'.*Acquisition completed"):
            client.stop()


def test_collect_timeout_says_what_arrived():
    clock = SimClock()
    power = PowerModel(noise=0.0)
    client, _ = open_client(VirtualLpm01a(power, clock))
    with client:
        client.setup(1.8)
        client.start()
        power.timestamp_edge(clock.now_us() + 500)
        clock.advance_us(3_000)
        with pytest.raises(MonitorTimeout) as info:
            client.collect(2, timeout_s=0.3)
        message = str(info.value)
        assert "2 event(s)" in message and "3 sample(s) and 1 event(s) [('00', 0)]" in message
        assert "last line seen" in message
        # Nothing was lost: a later collect still gets everything.
        power.timestamp_edge(clock.now_us())
        clock.advance_us(2_000)
        capture = client.collect(2, timeout_s=2.0)
        assert capture.events == [("00", 0), ("01", 3)] and len(capture.samples) == 5


def test_a_dead_port_raises_instead_of_waiting():
    engine = Scripted({})
    client, serial_port = open_client(engine)
    serial_port.closed = True  # unplugged: every read fails from now on
    with pytest.raises(MonitorError, match="port failed|reader stopped"):
        client.collect(1, timeout_s=5.0)
    client.close()


def test_cannot_open_port_is_a_monitor_error():
    def factory(port, baud, timeout):
        raise OSError("no such device")

    with pytest.raises(MonitorError, match="LPM01A on /dev/nothing: cannot open the port: no such device"):
        Lpm01a("/dev/nothing", serial_factory=factory)
