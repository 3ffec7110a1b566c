"""One model of a run, whichever runner wrote its files, so that scoring never asks which.

Parsers (submission_tools/logs/) fill it; scoring (scoring.py) reads it; rules compare the
claims it carries with what scoring recomputes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Printed:
    """A number as a runner printed it: the value, its text, and where it stands."""

    value: float
    text: str
    line: int

    @property
    def decimals(self) -> int:
        mantissa = self.text.lower().split("e")[0]
        return len(mantissa.split(".")[1]) if "." in mantissa else 0

    def agrees(self, recomputed: float) -> bool:
        """True when `recomputed`, printed the same way, would read as this number."""
        if "e" in self.text.lower():  # %g-style: compare significant digits
            digits = len(self.text.lower().split("e")[0].replace(".", "").lstrip("-0")) or 1
            return f"{recomputed:.{digits}g}" == f"{self.value:.{digits}g}"
        half_step = 0.5 * 10 ** -self.decimals
        return abs(recomputed - self.value) <= half_step * (1 + 1e-9) + 1e-12


@dataclass
class ClaimedWindow:
    number: int  # as printed: EEMBC 2,4,..10; MLC 1..5
    line: int
    iterations: int | None = None
    runtime_s: Printed | None = None
    throughput: Printed | None = None
    requirements_met: bool | None = None
    error: str | None = None


@dataclass
class ClaimedEnergyWindow:
    number: int  # EEMBC window 2..10 or MLC trial 0..4
    line: int
    start_s: Printed | None = None  # EEMBC "at time"
    duration_s: Printed | None = None  # EEMBC "for ... sec." / MLC "Elapsed time"
    iterations: int | None = None
    energy_uj: Printed | None = None
    power: Printed | None = None  # EEMBC in uW, MLC in mW (see power_unit)
    power_unit: str = ""
    energy_per_inf_uj: Printed | None = None


@dataclass
class Claims:
    """What results.txt says (both runners)."""

    windows: dict[int, ClaimedWindow] = field(default_factory=dict)
    median_throughput: Printed | None = None
    top1_pct: Printed | None = None
    auc: Printed | None = None
    energy_windows: dict[int, ClaimedEnergyWindow] = field(default_factory=dict)
    median_energy_uj: Printed | None = None
    sww_tp: int | None = None
    sww_fn: int | None = None
    sww_fp: int | None = None
    sww_line: int | None = None
    duty_cycle: Printed | None = None
    period_s: Printed | None = None
    sww_throughput: Printed | None = None
    runner_errors: list[tuple[int, str]] = field(default_factory=list)  # (line, text)
    duplicated_blocks: int = 0  # blocks whose window number was already seen
    repeated_lines: int = 0  # lines identical to the one before them


@dataclass
class Window:
    """One `infer N W` command: a timed window (performance/energy) or one input (accuracy)."""

    index: int  # 1-based, in log order
    line: int  # line of log.txt (or index in results.json) where it starts
    iterations: int
    warmups: int
    input_file: str | None = None  # basename of the input loaded before it
    offset: int | None = None  # AD: byte offset of the segment
    length: int | None = None
    laps_us: list[int] = field(default_factory=list)
    runtime_us: int | None = None
    outputs: list[float] | None = None  # the last m-results vector of the window
    outputs_text: str | None = None
    output_problem: str | None = None
    label: int | None = None  # MLC results.json carries the class
    infer_start_s: float | None = None  # log times of m-infer-start / m-infer-done (EEMBC)
    infer_done_s: float | None = None


@dataclass
class EnergyTrial:
    """MLCommons-runner energy: the samples (J per ms) and events of one trial."""

    samples_j: list[float]
    events: list[tuple[str, int]]  # (counter, sample index)
    iterations: int


@dataclass
class SwwRun:
    detections_ms: list[int]
    detection_windows: list[tuple[float, float]]
    start_times_s: list[float]
    stop_times_s: list[float]
    length_s: float | None = None


@dataclass
class ParseProblem:
    file: str  # name inside the mode folder
    message: str
    line: int | None = None


@dataclass
class Run:
    mode: str
    runner: str
    windows: list[Window] = field(default_factory=list)
    claims: Claims = field(default_factory=Claims)
    session_id: str | None = None  # EEMBC m-session-start-id or MLC session folder (YYYYMMDDhhmmss)
    runner_version: str | None = None
    config: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None
    energy_trials: list[EnergyTrial] = field(default_factory=list)
    trace: object = None  # logs.energy_trace.EnergyTrace (EEMBC energy mode), memory-mapped
    trace_timestamps_s: list[float] | None = None
    sww: SwwRun | None = None
    sww_detections_from_log: list[int] | None = None  # MLC sww energy: the list log.txt prints
    problems: list[ParseProblem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # role ("log", "results_txt", ...) -> file name read
    digests: dict[str, str] = field(default_factory=dict)  # role -> sha256 of the file's bytes

    @property
    def timing_file(self) -> str:
        """The file the windows were timed from: results.json (MLCommons) or log.txt (EEMBC)."""
        return self.files.get("results_json") or self.files.get("log") or "log.txt"
