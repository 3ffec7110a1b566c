"""ProcessEngine (harness/virtual/process_engine.py): the C host firmware (firmware/ports/host, run
with --stdio) behind the pty carrier, paced at a real baud rate, driven by the harness's own client
(SerialLink, DirectChannel, DutClient) exactly as the virtual DUT is; and a firmware process that
cannot start, prints no banner, exits or is killed gives a HarnessError saying so, without hanging.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import time
import zlib

import pytest

from harness.channel import DirectChannel
from harness.dut import DutClient
from harness.errors import DeviceTimeout, HarnessError
from harness.transport import SerialLink
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.models import BuiltinModel
from harness.virtual.process_engine import ProcessEngine
from harness.virtual.pty import PtyDevice
from helpers.firmware import BAUD, build, sim_args

INFER_US = 30_000


@pytest.fixture(scope="module")
def host_firmware(tmp_path_factory):
    """The host port, built once for this module (skips, saying why, without cc or make)."""
    return build(tmp_path_factory.mktemp("fw-process-engine")) / "host-firmware"


def _data(model_id: str, seed: int) -> bytes:
    size = BuiltinModel(model_id).input_size
    return bytes((i * 37 + seed * 101 + 11) % 256 for i in range(size))


def _session(device: PtyDevice, data: bytes, **client_options) -> tuple:
    """What the harness sees of a DUT: identity, a hex download, an inference."""
    with SerialLink(device.port, BAUD, name="DUT") as link:
        link.drain(0.1)
        client = DutClient(DirectChannel(link), **client_options)
        identity = client.identify()
        client.load(data)
        reply = client.infer(3, 1)
        printed = client.command("db print")
        return identity, reply, printed, link.counters.tx_bytes + link.counters.rx_bytes


def _firmware(binary, model_id: str, *extra: str, **options) -> ProcessEngine:
    return ProcessEngine([binary, "--stdio", *sim_args(model_id, INFER_US), *extra], **options)


@contextlib.contextmanager
def _paced(engine: ProcessEngine, pace: bool = True):
    """The engine behind a pty paced at BAUD, opened as the harness opens a DUT's port."""
    with PtyDevice(engine, clock=SimClock(), baud=BAUD, pace=pace, advance_clock=False) as device, \
            SerialLink(device.port, BAUD, name="DUT") as link:
        link.drain(0.1)
        yield link


@pytest.mark.parametrize("model_id", ["kws01", "ic01"])
def test_host_firmware_behind_the_paced_pty_answers_as_the_virtual_dut(host_firmware, model_id):
    data = _data(model_id, 1)
    engine = _firmware(host_firmware, model_id)
    with engine, PtyDevice(engine, clock=SimClock(), baud=BAUD, pace=True, advance_clock=False) as device:
        assert device.drain()  # the boot banner was emitted before the constructor returned
        started = time.monotonic()
        identity, reply, printed, wire = _session(device, data)
        seconds = time.monotonic() - started
    assert engine.returncode == 0 and engine.failure is None  # EOF on stdin ended it cleanly
    assert engine.pid is None

    clock = SimClock()
    dut = VirtualDut(BuiltinModel(model_id), clock, infer_cost_us=INFER_US, uart_baud=BAUD)
    with PtyDevice(dut, clock=clock, baud=BAUD, pace=False) as device:
        assert device.drain()
        v_identity, v_reply, v_printed, _ = _session(device, data)
    assert identity == v_identity
    assert reply.results == v_reply.results == [float(f"{v:0.3f}") for v in BuiltinModel(model_id).run(data)]
    assert [x for x in reply.lines if not x.startswith("m-lap-us-")] == \
        [x for x in v_reply.lines if not x.startswith("m-lap-us-")]
    # both clocks are simulated: 3 inferences and the first lap line's UART time (+-1 us of rounding)
    assert abs(reply.elapsed_us - v_reply.elapsed_us) <= 1
    assert printed == v_printed
    # the carrier paced the firmware's UART: every byte of the session took its 10 bit times
    assert seconds >= 0.95 * wire * 10 / BAUD, (seconds, wire)


def test_binary_download_through_the_paced_pty(host_firmware):
    """`caps` and `db bin` as a host sends them: raw chunks, each after the previous acknowledgement."""
    data = _data("kws01", 2)
    engine = _firmware(host_firmware, "kws01", "--bin-chunk", "128")
    with engine, _paced(engine) as link:
        client = DutClient(DirectChannel(link))
        assert client.command("caps") == ["m-caps-[cmd=80,db=490,bin=128]", "m-ready"]
        link.write(f"db bin {len(data)} {zlib.crc32(data):08x}%")
        lines = [link.read_line(5.0)]
        for offset in range(0, len(data), 128):
            link.write_bytes(data[offset:offset + 128])
            lines.append(link.read_line(5.0))
        lines.append(link.read_line(5.0))
        assert lines == ["m-[Expecting 490 bytes]", "m-ack-128", "m-ack-256", "m-ack-384", "m-load-done", "m-ready"]
        reply = client.infer(1, 0)
    assert reply.results == [float(f"{v:0.3f}") for v in BuiltinModel("kws01").run(data)]
    assert engine.returncode == 0


def test_reset_starts_a_new_process_that_boots_again(host_firmware):
    engine = _firmware(host_firmware, "kws01")
    with engine, _paced(engine) as link:
        client = DutClient(DirectChannel(link))
        client.load(_data("kws01", 3))
        first = engine.pid
        engine.reset()
        assert engine.pid != first and engine.failure is None
        banner = [link.read_line(5.0) for _ in range(4)]
        assert banner[0] == "m-timestamp-mode-performance" and banner[2:] == ["m-init-done", "m-ready"]
        # a new process: the buffer is empty again
        assert client.command("db print") == ["m-ready"]
    assert engine.returncode == 0


def test_a_firmware_that_cannot_start_is_reported(host_firmware, tmp_path):
    with pytest.raises(HarnessError, match=r"cannot start .*no-such-firmware"):
        PtyDevice(ProcessEngine([tmp_path / "no-such-firmware", "--stdio"]), clock=SimClock(), baud=BAUD)
    # bad arguments: the host port prints its usage and exits 2 before any banner
    started = time.monotonic()
    with pytest.raises(HarnessError) as caught:
        PtyDevice(ProcessEngine([host_firmware, "--stdio", "--model", "nope"]), clock=SimClock(), baud=BAUD)
    message = str(caught.value)
    assert "ended before its boot banner" in message and "exited with code 2" in message
    assert "unknown model nope" in message
    assert time.monotonic() - started < 5


def test_a_firmware_that_prints_no_banner_is_stopped(tmp_path):
    started = time.monotonic()
    with pytest.raises(HarnessError, match=r"no boot banner .* within 0.3 s: it is still running"):
        PtyDevice(ProcessEngine([sys.executable, "-c", "import time; time.sleep(30)"], boot_timeout_s=0.3),
                  clock=SimClock(), baud=BAUD)
    assert time.monotonic() - started < 5  # terminated at once, not left running


def test_a_firmware_killed_mid_session_is_a_silent_dut_then_a_clear_error(host_firmware):
    engine = _firmware(host_firmware, "kws01")
    killed = r"firmware process stopped: it was killed by signal SIGKILL"
    with pytest.raises(HarnessError, match=killed) as caught, engine, _paced(engine) as link:
        client = DutClient(DirectChannel(link), command_timeout_s=0.5)
        assert client.identify().model == "kws01"
        os.kill(engine.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while engine.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(DeviceTimeout):  # the host sees what a dead board shows: silence
            client.command("name")
        assert isinstance(engine.failure, HarnessError)
    assert caught.value is engine.failure  # leaving `with engine` raised it
    assert engine.pid is None


def test_a_firmware_that_exits_reports_its_code_and_stderr():
    script = ("import sys; sys.stdout.buffer.write(b'm-ready\\r\\n'); sys.stdout.flush(); sys.stdin.buffer.read(1); "
              "sys.stderr.write('model arena overflow\\n'); sys.exit(5)")
    engine = ProcessEngine([sys.executable, "-c", script], name="board")
    with _paced(engine, pace=False) as link:
        link.write("name%")
        deadline = time.monotonic() + 5
        while engine.failure is None and time.monotonic() < deadline:
            time.sleep(0.01)
    assert engine.close() == 5
    with pytest.raises(HarnessError) as caught:
        engine.check()
    assert re.search(r"^board: the firmware process stopped: it exited with code 5; its stderr ends: "
                     r"'model arena overflow'", str(caught.value))


def test_close_ends_a_process_that_ignores_eof_and_sigterm():
    script = ("import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
              "sys.stdout.buffer.write(b'm-ready\\r\\n'); sys.stdout.flush(); time.sleep(60)")
    engine = ProcessEngine([sys.executable, "-c", script], stop_timeout_s=0.3)
    engine.boot()
    started = time.monotonic()
    assert engine.close() == -signal.SIGKILL
    assert time.monotonic() - started < 3
    assert engine.failure is None  # ended by us: not a failure
    engine.check()
