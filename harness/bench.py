"""The bench a run uses: the DUT's serial link, the interface board, the energy monitor, and the
dataset folder; real devices on their ports, or virtual ones on pseudo-terminals (`port: virtual`).

Opening follows the MLCommons runner's order (protocol.md 2.3): monitor set up, DUT powered and the
acquisition started, the interface board told the DUT's baud (it resets), then the DUT identified
by the caller. Closing stops the acquisition and powers the DUT off, whatever happened.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.interface import InterfaceBoard
from harness.transport import SerialLink

POWER_ON_SETTLE_S = 1.0  # the runner sleeps 1 s after `pwr on` before `start`
ARDUINO_DUT_BAUD = 9600  # EEMBC: "Baud rate fixed at 9600" between the IO manager and the DUT


@dataclass
class Bench:
    dut_link: SerialLink | None = None
    interface: InterfaceBoard | None = None
    monitor: Any = None
    dataset_folder: Path | None = None
    virtual: Any = None  # harness.virtual.bench.VirtualBench when any device is virtual
    description: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return self.description


def _port_for(spec, baud: int, virtual) -> str:
    if spec.is_virtual:
        return virtual.port_of(spec.kind)
    if spec.port:
        return spec.port
    from harness.ports import discover

    return discover(spec, baud)


def _monitor(spec, port: str | None):
    if spec.name == "js220":
        from harness.monitors.js220 import Js220

        return Js220(serial_number=spec.port if spec.port not in (None, "auto") else None)
    from harness.monitors.lpm01a import Lpm01a

    return Lpm01a(port, baud=spec.baud_for("energy"))


@contextlib.contextmanager
def open_bench(config, mode: str, *, faults=None, listener=None) -> Iterator[Bench]:
    bench = Bench()
    with contextlib.ExitStack() as stack:
        virtual = None
        if any(spec.is_virtual for spec in config.devices()):
            from harness.virtual.bench import VirtualBench

            virtual = stack.enter_context(VirtualBench(config, mode, faults=faults))
            bench.virtual = virtual
        # None until the DUT names its model when the runner's YAML decides (<dataset_path>/<model>)
        bench.dataset_folder = config.dataset or (virtual.dataset_folder() if virtual else None)
        use_interface = config.interface is not None and mode in ("energy", "streaming")
        if mode in ("energy",) and config.monitor is None:
            raise HarnessError("energy mode needs an energy monitor: add devices: monitor: to the config")
        if mode in ("energy", "streaming") and config.interface is None:
            raise HarnessError(f"{mode} mode needs an interface board between the host and the DUT: add "
                               "devices: interface: to the config")
        description: dict[str, Any] = {}
        if config.monitor is not None and mode in ("energy", "streaming"):
            spec = config.monitor
            port = None if spec.name == "js220" else _port_for(spec, spec.baud_for("energy"), virtual)
            monitor = _monitor(spec, port)
            stack.callback(_shut_down, monitor)
            if spec.voltage is None:
                raise HarnessError("the energy monitor needs the DUT's supply voltage (devices: monitor: voltage:)")
            monitor.setup(spec.voltage)
            monitor.power_on()
            time.sleep(0.0 if virtual else POWER_ON_SETTLE_S)
            monitor.start()
            bench.monitor = monitor
            description["monitor"] = {"name": spec.name, "port": port, "voltage": spec.voltage}
        if use_interface:
            spec = config.interface
            port = _port_for(spec, spec.baud_for(mode), virtual)
            link = stack.enter_context(SerialLink(port, spec.baud_for(mode), name=spec.name))
            if listener is not None:
                link.listen(listener)
            board = InterfaceBoard(link, spec.name, timeout_s=config.timeouts.command_s,
                                   reset_settle_s=0.2 if virtual else 2.0)
            board_name = board.identify()
            dut_baud = config.dut.baud_for(mode)
            if spec.name == "arduino":
                # the EEMBC IO manager's DUT link is fixed at 9600 baud; it arms its timer instead
                if dut_baud != ARDUINO_DUT_BAUD:
                    raise HarnessError(f"the Arduino IO manager talks to the DUT at {ARDUINO_DUT_BAUD} baud only; "
                                       f"the config says {dut_baud} for {mode} (devices: dut: baud:)")
                board.arm_timestamp_timer()
            else:
                board.set_dut_baud(dut_baud)
            bench.interface = board
            description["interface"] = {"name": spec.name, "answers": board_name, "port": port,
                                        "dut_baud": dut_baud}
        else:
            spec = config.dut
            port = _port_for(spec, spec.baud_for(mode), virtual)
            link = stack.enter_context(SerialLink(port, spec.baud_for(mode), name="DUT"))
            bench.dut_link = link
            if listener is not None:
                link.listen(listener)
            description["dut"] = {"port": port, "baud": spec.baud_for(mode)}
        if virtual is not None:
            description["virtual"] = virtual.describe()
        bench.description = description
        yield bench


def _shut_down(monitor) -> None:
    """Stop the acquisition and power the DUT off; a monitor that fails here must not hide the
    run's own outcome, so problems are swallowed after being attempted."""
    for step in (monitor.stop, monitor.power_off, monitor.close):
        try:
            step()
        except Exception:  # noqa: BLE001 - teardown of a device that may already be gone
            pass
