"""What every mode shares: the connected bench, measuring one input with the fault policy, and the
MLCommons runner's results.json record."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.dataset import Dataset, DatasetInput, Segment
from harness.dut import DownloadStats, DutClient, DutIdentity, InferReply
from harness.errors import DeviceReset, DeviceTimeout, DutCommandError, GarbledReply, HarnessError
from harness.interface import InterfaceBoard
from harness.mlc_format import stamp
from harness.progress import Progress
from harness.session import Session

MODE_LETTER = {"performance": "p", "accuracy": "a", "energy": "e", "streaming": "p"}


@dataclass
class RunContext:
    mode: str
    model: str  # the DUT's m-model value: kws01, vww01, ic01, ad01, sww01
    dut: DutClient
    identity: DutIdentity
    session: Session
    spec: Any  # harness.config.ModeSpec
    progress: Progress
    dataset: Dataset | None = None
    dataset_folder: Path | None = None
    truth_file: str = "y_labels.csv"
    interface: InterfaceBoard | None = None
    monitor: Any = None  # harness.monitors.base.EnergyMonitor
    voltage: float | None = None
    input_retries: int = 3
    download_seconds: float = 0.0
    download_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def log(self, text: str) -> None:
        self.session.log(text)

    def prefix(self) -> str:
        return stamp()

    def resync(self, why: Exception) -> None:
        """After a reset or a silence: the same DUT must answer again, or the run stops."""
        self.log(f"{self.prefix()} Re-synchronising with the DUT after: {why}")
        try:
            if self.interface is not None:
                self.interface.flush_dut_queue()
            identity = self.dut.identify()
        except HarnessError as exc:
            raise HarnessError(f"the DUT stopped answering ({why}); it did not answer `name`/`profile` "
                               f"afterwards either ({exc}). Measurements completed so far are kept in "
                               f"{self.session.directory}; fix the DUT and continue with "
                               f"`submit run --resume {self.session.directory}`.") from None
        if identity != self.identity:
            raise HarnessError(f"after a reset another DUT answered ({identity} instead of {self.identity}); "
                               "one session never mixes two DUTs. Completed measurements are kept in "
                               f"{self.session.directory}.")


def measure(ctx: RunContext, item: DatasetInput, segment: Segment, iterations: int, warmups: int, *,
            expect_laps: bool) -> tuple[InferReply, DownloadStats]:
    """Download one input and infer. The download retries on its own (DutClient.load); a reset, a
    garbled reply or a silence during the inference redoes the whole input; a DUT that stops
    answering ends the run with what it measured kept."""
    last: Exception | None = None
    label = f"{item.file}" + (f" at byte {segment.offset}" if item.width else "")
    for attempt in range(ctx.input_retries):
        if attempt:
            ctx.log(f"{ctx.prefix()} Measuring {label} again (attempt {attempt + 1}) after: {last}")
        try:
            stats = ctx.dut.load(segment.data)
        except HarnessError as exc:
            ctx.resync(exc)  # raises when the DUT is gone: that, not the download, is the problem
            raise HarnessError(f"{label}: the download failed although the DUT answers ({exc}). Completed "
                               f"measurements are kept in {ctx.session.directory}.") from None
        for note in stats.notes:
            ctx.log(f"{ctx.prefix()} {note}")
        ctx.session.note_input(item.file, segment.offset, segment.sha256, len(segment.data))
        ctx.download_seconds += stats.seconds
        ctx.download_bytes += stats.bytes
        try:
            return ctx.dut.infer(iterations, warmups, expect_laps=expect_laps), stats
        except (DeviceReset, DeviceTimeout) as exc:
            last = exc
            ctx.resync(exc)
        except (GarbledReply, DutCommandError) as exc:
            last = exc
    raise HarnessError(f"{label}: no clean inference in {ctx.input_retries} attempts; the last problem: {last}. "
                       f"Completed measurements are kept in {ctx.session.directory}.")


def record(item: DatasetInput | None, mode: str, infer: dict, *, segments: int | None = None,
           extra: dict | None = None) -> dict:
    """One element of the runner's results.json (protocol.md 7.3), in its key order."""
    out: dict[str, Any] = {}
    if item is not None:
        out = {"file": item.file, "classes": str(item.classes), "class": str(item.label),
               "bytes_to_send": str(item.width) if item.width else None,
               "stride": str(item.stride) if item.stride else None,
               "total_length": segments if item.width else None}
    out["infer"] = infer
    out.update(extra or {})
    out["mode"] = MODE_LETTER[mode]
    return out


def timed_infer(reply: InferReply, *, throughput: bool) -> dict:
    elapsed = reply.elapsed_us
    infer: dict[str, Any] = {"start_time": reply.laps_us[0], "end_time": reply.laps_us[-1],
                             "results": reply.results, "elapsed_time": elapsed, "total_inferences": 1,
                             "iterations": reply.iterations, "warmups": reply.warmups}
    if throughput and elapsed:
        infer["throughput"] = reply.iterations / (elapsed / 1e6)
    return infer
