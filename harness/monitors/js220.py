"""Client for the Joulescope JS220, as the MLCommons runner uses it (protocol.md 4.2).

The JS220 has no command link: it streams raw current and voltage at 1 MHz through the
`joulescope` package (the optional `energy` extra, imported only when a JS220 is used), with the
GPI0 input (the DUT's timestamp pin) carried in the current's least significant bit
(`current_lsb=gpi0`). The runner turns that into the same stream the LPM01A gives:

* energy accumulates as I·V/raw_rate per raw sample (J);
* every 1000 raw samples (raw_rate // 1000) the accumulator becomes one 1 ms sample;
* a rising edge on GPI0 (0 → 1: the end of the DUT's low timestamp pulse) emits the partial
  accumulator at once as one shortened sample, then an event `NN` (counting from 00), and the
  next sample starts at that edge.

`Js220Converter` is that conversion on numpy arrays, carrying the accumulator, the sample phase,
the last GPI0 level and the event counter across calls; it is what the tests exercise. Chosen
where the runner's behaviour is not documented: an edge that falls exactly on a sample boundary
emits no empty (0-length) sample; NaN raw values (the JS220 marks current-range switches that way
when asked to) propagate into their sample and are counted.

`Js220` drives the device; it needs the hardware and cannot be exercised here beyond a fake
device object with the same methods (`parameter_set`, `start`, `stream_buffer.sample_id_range`,
`stream_buffer.samples_get`). `power_on`/`power_off` do nothing: the JS220 measures but does not
supply the DUT, which must be powered independently (as in the runner).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from harness.monitors.base import (
    Capture,
    CaptureBuffer,
    EnergyMonitor,
    MonitorError,
    MonitorUnavailable,
)

RAW_RATE_HZ = 1_000_000
OUT_RATE_HZ = 1000
INSTALL_HINT = "pip install 'mlperf-tiny-submit[energy]'"
PARAMETERS = (
    ("source", "raw"),
    ("sensor_power", "on"),
    ("sampling_frequency", RAW_RATE_HZ),
    ("io_voltage", "3.3V"),
    ("trigger_source", "gpi0"),
    ("current_lsb", "gpi0"),
)


@dataclass
class Conversion:
    """What one `feed` produced: samples (J) and events whose index is the number of samples the
    converter had produced before the event, counted from its creation or last reset."""

    samples: list[float] = field(default_factory=list)
    events: list[tuple[str, int]] = field(default_factory=list)


class Js220Converter:
    """Raw 1 MHz current/voltage/GPI0 → 1 kHz energy samples and GPI0 rising-edge events."""

    def __init__(self, raw_rate_hz: int = RAW_RATE_HZ, out_rate_hz: int = OUT_RATE_HZ) -> None:
        if raw_rate_hz <= 0 or out_rate_hz <= 0 or raw_rate_hz % out_rate_hz:
            raise ValueError(f"JS220 conversion: raw rate {raw_rate_hz} Hz must be a positive multiple of the "
                             f"output rate {out_rate_hz} Hz")
        self.raw_rate_hz = raw_rate_hz
        self.out_rate_hz = out_rate_hz
        self.stride = raw_rate_hz // out_rate_hz
        self.reset()

    def reset(self) -> None:
        self._acc = 0.0
        self._count = 0  # raw samples in the accumulator
        self._last_gpi: int | None = None
        self.events = 0
        self.samples = 0  # samples produced so far
        self.nan_raw = 0  # raw samples that were NaN

    def feed(self, current, voltage, gpi0) -> Conversion:
        current = np.asarray(current, dtype=np.float64)
        voltage = np.asarray(voltage, dtype=np.float64)
        gpi = np.asarray(gpi0)
        n = min(len(current), len(voltage), len(gpi))
        out = Conversion()
        if n == 0:
            return out
        energy = current[:n] * voltage[:n] / self.raw_rate_hz
        self.nan_raw += int(np.count_nonzero(np.isnan(energy)))
        level = (gpi[:n] != 0).astype(np.int8)
        previous = np.empty(n, dtype=np.int8)
        previous[0] = level[0] if self._last_gpi is None else self._last_gpi
        previous[1:] = level[:-1]
        rising = np.flatnonzero((previous == 0) & (level == 1))
        self._last_gpi = int(level[-1])
        bounds = [0, *rising.tolist(), n]
        for position in range(len(bounds) - 1):
            if position > 0:  # an edge at bounds[position]
                if self._count:
                    self._push(out, self._acc)
                self._acc, self._count = 0.0, 0
                out.events.append((f"{self.events:02d}", self.samples))
                self.events += 1
            self._accumulate(out, energy[bounds[position]:bounds[position + 1]])
        return out

    def _push(self, out: Conversion, value: float) -> None:
        out.samples.append(float(value))
        self.samples += 1

    def _accumulate(self, out: Conversion, energy: np.ndarray) -> None:
        need = self.stride - self._count
        if len(energy) < need:
            self._acc += float(np.sum(energy))
            self._count += len(energy)
            return
        self._push(out, self._acc + float(np.sum(energy[:need])))
        rest = energy[need:]
        whole = len(rest) // self.stride
        if whole:
            for value in rest[:whole * self.stride].reshape(whole, self.stride).sum(axis=1):
                self._push(out, value)
        tail = rest[whole * self.stride:]
        self._acc = float(np.sum(tail))
        self._count = len(tail)


def feed_buffer(buffer: CaptureBuffer, conversion: Conversion, first_index: int) -> None:
    """Put a conversion into a CaptureBuffer in stream order (events between their samples).
    first_index: the converter's sample count before this conversion."""
    done = 0
    for counter, index in conversion.events:
        upto = index - first_index
        buffer.add_samples(conversion.samples[done:upto])
        done = upto
        buffer.add_event(counter)
    buffer.add_samples(conversion.samples[done:])


def _joulescope():
    try:
        import joulescope
    except ImportError as error:
        raise MonitorUnavailable(f"JS220: the `joulescope` package is not installed; install it with "
                                 f"{INSTALL_HINT}") from error
    return joulescope


class Js220(EnergyMonitor):
    """A JS220 found with `joulescope.scan()` (the first, or the one whose path/serial contains
    `serial_number`). `scan` replaces joulescope.scan (tests use a fake device)."""

    def __init__(self, serial_number: str | None = None, *, scan=None, poll_s: float = 0.002,
                 raw_rate_hz: int = RAW_RATE_HZ) -> None:
        self.serial_number = serial_number
        self.name = f"JS220 {serial_number}" if serial_number else "JS220"
        self._scan = scan
        self.poll_s = poll_s
        self.voltage_v: float | None = None
        self._converter = Js220Converter(raw_rate_hz, OUT_RATE_HZ)
        self._buffer = CaptureBuffer(self.name)
        self._device = None
        self._thread: threading.Thread | None = None
        self._running = False
        self._last_read: str | None = None

    # ------------------------------------------------------------------ EnergyMonitor

    def setup(self, voltage_v: float) -> None:
        """Find and open the device and set the runner's parameters. The JS220 does not set the
        DUT's voltage: `voltage_v` is only recorded (for results.json's `voltage`)."""
        scan = self._scan or _joulescope().scan
        try:
            devices = list(scan(config="off"))
        except Exception as error:
            raise MonitorError(f"{self.name}: scanning for devices failed: {error}") from error
        if self.serial_number:
            devices = [d for d in devices if self.serial_number in str(d)]
        if not devices:
            raise MonitorUnavailable(f"{self.name}: no Joulescope found"
                                     + (f" matching {self.serial_number!r}" if self.serial_number else ""))
        device = devices[0]
        try:
            device.open()
            for name, value in PARAMETERS:
                device.parameter_set(name, value)
        except Exception as error:
            raise MonitorError(f"{self.name}: configuring the device failed: {error}") from error
        self._device = device
        self.voltage_v = voltage_v

    def power_on(self) -> None:
        pass  # the JS220 does not supply the DUT

    def power_off(self) -> None:
        pass

    def start(self) -> None:
        if self._device is None:
            raise MonitorError(f"{self.name}: start before setup")
        self._buffer.clear()
        self._converter.reset()
        try:
            self._device.start()
        except Exception as error:
            raise MonitorError(f"{self.name}: starting the stream failed: {error}") from error
        self._running = True
        self._thread = threading.Thread(target=self._read_loop, name="js220-reader", daemon=True)
        self._thread.start()

    def collect(self, expect_events: int, timeout_s: float) -> Capture:
        capture = self._buffer.drain(expect_events, timeout_s, last_line=lambda: self._last_read)
        if self._converter.nan_raw:
            capture.problems.append(f"{self._converter.nan_raw} raw sample(s) were NaN since start")
        return capture

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._device is not None:
            try:
                self._device.stop()
            except Exception as error:
                raise MonitorError(f"{self.name}: stopping the stream failed: {error}") from error

    def close(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        device, self._device = self._device, None
        if device is not None:
            # Closing a device that is already gone: nothing is left to release.
            with contextlib.suppress(Exception):
                device.close()

    # ------------------------------------------------------------------ reader

    def _read_loop(self) -> None:
        buffer = self._buffer
        last_id = None
        try:
            stream = self._device.stream_buffer
            while self._running:
                id_range = stream.sample_id_range
                if id_range is None:
                    time.sleep(self.poll_s)
                    continue
                start_id, end_id = id_range
                if last_id is None:
                    last_id = start_id
                if last_id < start_id:
                    # The stream buffer wrapped past unread samples: they are gone for good.
                    buffer.add_problem(f"{start_id - last_id} raw sample(s) lost: the reader fell behind "
                                       f"the stream buffer")
                    last_id = start_id
                if end_id <= last_id:
                    time.sleep(self.poll_s)
                    continue
                data = stream.samples_get(last_id, end_id, fields=["current", "voltage", "current_lsb"])
                signals = data["signals"]
                before = self._converter.samples
                conversion = self._converter.feed(signals["current"]["value"], signals["voltage"]["value"],
                                                  signals["current_lsb"]["value"])
                feed_buffer(buffer, conversion, before)
                self._last_read = f"raw samples {last_id}..{end_id}"
                last_id = end_id
        except Exception as error:  # noqa: BLE001 - any driver failure ends the stream, reported by collect
            buffer.fail(error)
