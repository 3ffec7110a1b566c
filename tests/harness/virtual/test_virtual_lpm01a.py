"""The virtual LPM01A engine, driven byte by byte: acknowledgements, refusals, and the energy
stream (values, events, TimeStamp lines) read the way the MLCommons runner reads it."""

from __future__ import annotations

import math
import re

import pytest

from harness.virtual.clock import SimClock
from harness.virtual.lpm01a import VirtualLpm01a, format_ascii_dec, parse_number
from harness.virtual.power import PowerModel

SETUP = ["htc", 'lcd 1 "MLPerf Tiny"', 'lcd 2 "     monitor    "', "pwr off", "acqtime inf", "trigdelay 0",
         "trigsrc sw", "eventsrc d7 fal", "output energy", "format ascii_dec", "freq 1k", "volt 1800m"]


class Bench:
    def __init__(self, noise=0.0, **kwargs):
        self.clock = SimClock()
        self.power = PowerModel(noise=noise)
        self.lpm = VirtualLpm01a(self.power, self.clock, **kwargs)
        self.out = bytearray()
        self.lpm.attach(self.out.extend)
        self.lpm.boot()

    def send(self, line: str) -> list[str]:
        """Send a command; the lines it produced (taken out of the output)."""
        self.out.clear()
        self.lpm.receive(line.encode() + b"\r\n")
        return self.take().split("\r\n")[:-1]

    def take(self) -> str:
        text = self.out.decode()
        self.out.clear()
        return text

    def configure(self):
        for command in SETUP:
            assert self.send(command) == [f"PowerShield > ack {command}"]
        assert self.send("pwr on nostatus") == ["PowerShield > ack pwr on nostatus"]


def runner_read(text: str):
    """The runner's read_loop + _extract_current_values: (samples, events, timestamps, messages)."""
    samples, events, stamps, messages = [], [], [], []
    for line in text.split("\r\n"):
        if not line:
            continue
        if line.startswith("TimeStamp"):
            stamps.append((line, len(samples)))
        elif re.match(r"\d{4}[+-]\d{2}", line):
            matches = list(re.finditer(r"\d{4}[-+]\d{2}", line))
            values = [m.group() for m in matches]
            if matches[-1].end() < len(line):
                values.append("nan")
            samples += [float(v.replace("+", "e+").replace("-", "e-")) for v in values]
        elif re.match(r"event \d+ ris", line):
            events.append((line.split()[1], len(samples)))
        else:
            messages.append(line)
    return samples, events, stamps, messages


def test_setup_sequence_is_acknowledged_with_the_command_text():
    bench = Bench()
    bench.configure()
    assert bench.lpm.volt_mv == 1800 and bench.lpm.freq_hz == 1000 and bench.lpm.acqtime_s is None
    assert bench.lpm.lcd == ["MLPerf Tiny", "     monitor    "]
    assert bench.send("version") == ["PowerShield > ack version 1.0.8"]
    assert bench.send("volt get") == ["PowerShield > ack volt get 1800m"]
    assert bench.send("hrc") == ["PowerShield > ack hrc"]


@pytest.mark.parametrize("command, detail", [
    ("bogus", "unknown command"),
    ("volt 5000m", "invalid parameter"),
    ("volt 1.2", "invalid parameter"),
    ("freq 3k", "invalid parameter"),
    ('lcd 3 "x"', "invalid parameter"),
    ('lcd 1 "seventeen chars!!"', "invalid parameter"),
    ("acqtime 200", "invalid parameter"),
    ("eventsrc d7 both", "invalid parameter"),
    ("pwr sideways", "invalid parameter"),
])
def test_refusals_name_the_command_and_give_a_detail(command, detail):
    bench = Bench()
    bench.send("htc")
    assert bench.send(command) == [f"PowerShield > error {command}", f"Error detail: {detail}"]


def test_configuration_needs_host_control_first():
    bench = Bench()
    assert bench.send("freq 1k") == ["PowerShield > error freq 1k", "Error detail: host control required (send htc)"]
    assert bench.send("status") == ["PowerShield > ack status ok"]  # queries work in standalone mode


def test_number_arguments():
    assert parse_number("1800m") == pytest.approx(1.8)
    assert parse_number("2-3") == pytest.approx(2e-3)
    assert parse_number("100u") == pytest.approx(1e-4)
    assert parse_number("30") == 30
    assert parse_number("3x") is None


def test_start_refuses_what_it_cannot_stream_and_stop_needs_a_run():
    bench = Bench()
    bench.send("htc")
    assert bench.send("start")[-1].startswith("Error detail: virtual LPM01A streams only output energy")
    assert bench.send("stop") == ["PowerShield > error stop", "Error detail: acquisition is not running"]


def test_values_events_and_timestamps_as_the_runner_reads_them():
    bench = Bench(values_per_line=8)
    bench.configure()
    bench.clock.advance_us(777)  # the acquisition starts at an arbitrary time
    assert bench.send("start") == ["PowerShield > ack start"]
    t0 = bench.clock.now_us()
    bench.power.activity(t0 + 2_500, "infer")
    bench.power.timestamp_edge(t0 + 2_500)
    bench.power.timestamp_edge(t0 + 1_502_999)
    bench.power.activity(t0 + 1_502_999, "idle")
    bench.clock.advance_us(2_003_400)
    bench.lpm.poll()
    text = bench.take()
    samples, events, stamps, messages = runner_read(text)
    assert messages == []
    assert len(samples) == 2003  # whole milliseconds only; the rest comes at the next poll
    assert events == [("00", 2), ("01", 1502)]  # floor((t_edge - t0) / 1 ms)
    assert [s for s, _ in stamps] == ["TimeStamp: 001s 000ms, buff 00%", "TimeStamp: 002s 000ms, buff 00%"]
    assert [i for _, i in stamps] == [1000, 2000]
    expected = [float(format_ascii_dec(bench.power.energy_j(t0 + k * 1000, t0 + (k + 1) * 1000))
                      .replace("-", "e-").replace("+", "e+")) for k in range(2003)]
    assert samples == expected
    assert samples[0] == pytest.approx(6e-6) and samples[2] == pytest.approx((6 * 500 + 24 * 500) * 1e-9)
    for line in text.split("\r\n"):
        if re.match(r"\d{4}", line):
            assert len(line.split(" ")) <= 8 and not line.endswith(" ")
    # Every poll ends its line, and the next one continues the stream.
    bench.clock.advance_us(1_500)
    bench.lpm.poll()
    more, _, _, _ = runner_read(bench.take())
    assert len(more) == 1
    bench.clock.advance_us(600)
    lines = bench.send("stop")
    assert lines[-2:] == ["PowerShield > ack stop", "PowerShield > Acquisition completed"]
    assert len(runner_read("\r\n".join(lines))[0]) == 1  # flushed before the ack
    assert bench.power.late_signals == []


def test_one_value_per_line_and_event_counter_runs_across_the_acquisition():
    bench = Bench(values_per_line=1)
    bench.configure()
    bench.send("start")
    t0 = bench.clock.now_us()
    for k in range(12):
        bench.power.timestamp_edge(t0 + 1_000 * k + 10)
    bench.clock.advance_us(15_000)
    bench.lpm.poll()
    text = bench.take()
    assert "event 11 ris" in text
    _, events, _, _ = runner_read(text)
    assert [c for c, _ in events] == [f"{k:02d}" for k in range(12)]
    assert [i for _, i in events] == list(range(12))
    assert all(len(line) == 7 for line in text.split("\r\n") if re.match(r"\d{4}", line))


def test_supply_follows_pwr_and_calls_back():
    switched = []
    bench = Bench(on_power=switched.append)
    for command in SETUP:  # includes pwr off
        bench.send(command)
    bench.send("start")
    bench.clock.advance_us(5_000)
    bench.lpm.poll()
    off, _, _, _ = runner_read(bench.take())
    assert off == [0.0] * 5
    assert bench.send("pwr on nostatus") == ["PowerShield > ack pwr on nostatus"]  # allowed while running
    bench.clock.advance_us(5_000)
    bench.lpm.poll()
    on, _, _, _ = runner_read(bench.take())
    assert on == [pytest.approx(6e-6)] * 5
    assert switched == [False, True]


def test_other_commands_are_refused_while_acquiring():
    bench = Bench()
    bench.configure()
    bench.send("start")
    assert bench.send("freq 1k") == ["PowerShield > error freq 1k",
                                     "Error detail: not allowed while acquisition is running"]


def test_edge_reported_after_its_value_was_sent_is_placed_late_and_noted():
    bench = Bench()
    bench.configure()
    bench.send("start")
    t0 = bench.clock.now_us()
    bench.clock.advance_us(10_000)
    bench.lpm.poll()
    bench.take()
    bench.power.timestamp_edge(t0 + 4_200)  # the DUT reported it after the clock had moved on
    bench.clock.advance_us(2_000)
    bench.lpm.poll()
    _, events, _, _ = runner_read(bench.take())
    assert events == [("00", 0)]  # at the current position of this read, not at value 4
    assert bench.lpm.problems and "late" in bench.lpm.problems[0]
    assert bench.power.late_signals


def test_finite_acquisition_time_ends_by_itself():
    bench = Bench()
    bench.configure()
    bench.send("acqtime 10m")
    bench.send("start")
    bench.clock.advance_us(25_000)
    bench.lpm.poll()
    samples, _, _, messages = runner_read(bench.take())
    assert len(samples) == 10
    assert messages == ["PowerShield > Acquisition completed"]
    assert not bench.lpm.acquiring


@pytest.mark.parametrize("joules, text", [
    (16.83e-6, "1683-08"), (6e-6, "6000-09"), (24.0123e-6, "2401-08"), (1e-9, "1000-12"),
    (9.99951e-6, "1000-08"), (0.0, "0000+00"), (123.4, "1234-01"), (2.5, "2500-03"),
])
def test_ascii_dec_format(joules, text):
    assert format_ascii_dec(joules) == text


def test_ascii_dec_keeps_four_significant_digits():
    for k in range(1, 2000):
        joules = k * 1.37e-7
        text = format_ascii_dec(joules)
        assert re.fullmatch(r"\d{4}[+-]\d{2}", text)
        value = float(text[:4] + "e" + text[4:])
        assert math.isclose(value, joules, rel_tol=5.01e-4)
        assert 1000 <= int(text[:4]) <= 9999


def test_long_jumps_go_out_over_several_polls_and_stop_flushes_the_rest():
    bench = Bench(max_values_per_poll=300)
    bench.configure()
    bench.send("start")
    t0 = bench.clock.now_us()
    bench.power.timestamp_edge(t0 + 450_500)
    bench.clock.advance_us(1_000_000)
    bench.lpm.poll()
    first, events, _, _ = runner_read(bench.take())
    assert len(first) == 300 and events == []
    bench.lpm.poll()
    second, events, _, _ = runner_read(bench.take())
    assert len(second) == 300 and events == [("00", 150)]
    rest, _, stamps, messages = runner_read("\r\n".join(bench.send("stop")))
    assert len(rest) == 400 and [s for s, _ in stamps] == ["TimeStamp: 001s 000ms, buff 00%"]
    assert messages == ["PowerShield > ack stop", "PowerShield > Acquisition completed"]
