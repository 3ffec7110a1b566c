"""Energy monitors for the harness's energy mode: one interface (`base.EnergyMonitor`, `Capture`)
and its clients, the STM LPM01A over serial (`lpm01a`) and the Joulescope JS220 (`js220`, optional
`energy` extra)."""

from harness.monitors.base import (
    Capture,
    CaptureBuffer,
    EnergyMonitor,
    MonitorCommandError,
    MonitorError,
    MonitorTimeout,
    MonitorUnavailable,
)

__all__ = [
    "Capture",
    "CaptureBuffer",
    "EnergyMonitor",
    "MonitorCommandError",
    "MonitorError",
    "MonitorTimeout",
    "MonitorUnavailable",
]
