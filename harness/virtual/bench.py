"""A whole virtual bench for `submit run`: the devices a config marks `port: virtual`, wired on one
SimClock and carried on pseudo-terminals, so the harness drives them exactly as it drives hardware.

    performance, accuracy:  host --pty--> VirtualDut
    energy, streaming:      host --pty--> virtual interface board --(in-process UART)--> VirtualDut
                            host --pty--> VirtualLpm01a, measuring the DUT's PowerModel
"""

from __future__ import annotations

import contextlib
import json
import os
import wave
from pathlib import Path

from harness.errors import HarnessError
from harness.virtual.clock import SimClock
from harness.virtual.dut import VirtualDut
from harness.virtual.faults import FaultPlan
from harness.virtual.models import LiteRtMissing, load_model, synthetic_dataset
from harness.virtual.power import PowerModel, SignalHub
from harness.virtual.pty import PtyDevice

SWW_WAV = "long_wav.wav"
SWW_TRUTH = "sww_long_test.json"


class VirtualBench:
    def __init__(self, config, mode: str, *, faults: FaultPlan | None = None, workdir: Path | None = None) -> None:
        self.config, self.mode = config, mode
        self.spec = config.virtual
        self.faults = faults
        self.workdir = workdir
        self.clock = SimClock()
        self.power = PowerModel(mw=self.spec.power_mw)
        self.hub = SignalHub()
        self.hub.add(self.power)
        self._stack = contextlib.ExitStack()
        self._ports: dict[str, str] = {}
        self.devices: dict[str, PtyDevice] = {}

    # -- wiring ---------------------------------------------------------------------------------
    def __enter__(self) -> "VirtualBench":
        try:
            self._wire()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def _model(self):
        benchmark = self.config.benchmark
        if benchmark is None:
            raise HarnessError("a virtual DUT needs `benchmark:` in the config (it decides the model it runs)")
        model_id = "ic01" if benchmark == "ic02" else benchmark
        try:
            return load_model(str(self.spec.model), model_id)
        except LiteRtMissing as exc:
            raise HarnessError(str(exc)) from None
        except (OSError, ValueError) as exc:
            raise HarnessError(f"virtual DUT model {self.spec.model}: {exc}") from None

    def _wire(self) -> None:
        config, mode = self.config, self.mode
        behind_board = mode in ("energy", "streaming") and config.interface is not None
        energy_mode = mode == "energy" or (mode == "streaming" and config.monitor is not None)
        dut = VirtualDut(self._model(), self.clock, signals=self.hub, energy_mode=energy_mode,
                         infer_cost_us=self.spec.infer_us, uart_baud=config.dut.baud_for(mode),
                         firmware=self.spec.firmware, binary_chunk=self.spec.binary_chunk,
                         command_buffer=self.spec.command_buffer)
        self.dut = dut
        if behind_board:
            if not config.interface.is_virtual:
                raise HarnessError("a virtual DUT can only sit behind a virtual interface board")
            from harness.virtual.interface import VirtualArduinoIoManager, VirtualStmInterface

            if config.interface.name == "arduino":
                board = VirtualArduinoIoManager(dut, self.clock)
            else:
                board = VirtualStmInterface(dut, self.clock, sd_root=self.dataset_folder())
            self.hub.add(board)
            self._carry("interface", board, config.interface.baud_for(mode), faults=self.faults)
        else:
            self._carry("dut", dut, config.dut.baud_for(mode), faults=self.faults)
        if config.monitor is not None and config.monitor.is_virtual and mode in ("energy", "streaming"):
            from harness.virtual.lpm01a import VirtualLpm01a

            self._carry("monitor", VirtualLpm01a(self.power, self.clock), config.monitor.baud_for("energy"),
                        advance_clock=False)

    def _carry(self, kind: str, engine, baud: int, faults: FaultPlan | None = None,
               advance_clock: bool = True) -> None:
        device = self._stack.enter_context(PtyDevice(engine, clock=self.clock, baud=baud, pace=self.spec.pace,
                                                     faults=faults, advance_clock=advance_clock))
        # The boot banner must be in the pty before the harness opens the port (pyserial flushes
        # what waits there on open, as with a board that booted before the cable was plugged in):
        # otherwise whether the harness reads it, and sends `name` again, and the simulated clock
        # with it, depend on thread scheduling.
        device.drain()
        self.devices[kind] = device
        self._ports[kind] = device.port

    def port_of(self, kind: str) -> str:
        if kind not in self._ports:
            raise HarnessError(f"no virtual {kind} in this bench for {self.mode} mode")
        return self._ports[kind]

    # -- data -----------------------------------------------------------------------------------
    def dataset_folder(self) -> Path:
        """The config's dataset, or synthetic inputs for the built-in model (made once, reused)."""
        if self.config.dataset is not None:
            return Path(self.config.dataset)
        if str(self.spec.model) != "builtin":
            raise HarnessError("a virtual DUT running a .tflite model needs a real dataset folder (`dataset:`)")
        benchmark = "ic01" if self.config.benchmark == "ic02" else self.config.benchmark
        root = (self.workdir or cache_dir()) / "virtual-datasets"
        folder = root / f"{benchmark}-{self.spec.dataset_count}"
        if benchmark == "sww01":
            return synthetic_sww(folder)
        if not (folder / "y_labels.csv").is_file():
            synthetic_dataset(benchmark, folder, self.spec.dataset_count)
        return folder

    def describe(self) -> dict:
        return {"model": str(self.spec.model), "infer_us": self.spec.infer_us, "pace": self.spec.pace,
                "power_mw": dict(self.power.mw), "clock_us": self.clock.now_us()}


def cache_dir() -> Path:
    """Where generated inputs are kept between runs: $XDG_CACHE_HOME/mlperf-tiny-submit."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlperf-tiny-submit"


def synthetic_sww(folder: Path, length_s: int = 1200, wakewords: int = 50) -> Path:
    """A silent 2-channel 16 kHz wav and its truth file, shaped like the runner's long_wav.wav (1200 s,
    50 wakewords, which the rules count on): the oracle detector of the virtual DUT needs only the
    wakeword windows, the board only the wav's length."""
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / SWW_WAV
    if not wav.is_file():
        with wave.open(str(wav), "wb") as handle:
            # silent and at 100 frames/s: the virtual board reads only the length, and a 16 kHz file
            # of 20 minutes would put 77 MB of zeros in the cache
            handle.setnchannels(2)
            handle.setsampwidth(1)
            handle.setframerate(100)
            handle.writeframes(b"\x80" * (100 * 2 * length_s))
    spacing = (length_s - 20.0) / wakewords
    windows = [[round(10.0 + spacing * k, 4), round(10.6 + spacing * k, 4)] for k in range(wakewords)]
    truth = [{"wav_file": SWW_WAV, "sample_rate": 16000, "length_sec": float(length_s), "detection_windows": windows}]
    (folder / SWW_TRUTH).write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return folder
