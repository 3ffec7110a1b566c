"""The inputs of a benchmark run: a dataset folder and its truth file (y_labels.csv), in file order,
cut into the windows the DUT receives (ad01: `bytes_to_send` wide, every `stride` bytes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from submission_tools.errors import InputError
from submission_tools.labels import read_label_file


@dataclass(frozen=True)
class DatasetInput:
    index: int  # position in the truth file
    file: str
    classes: int
    label: int
    width: int | None  # ad01 bytes_to_send
    stride: int | None


@dataclass(frozen=True)
class Segment:
    offset: int
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class Dataset:
    def __init__(self, folder: Path, truth_file: str = "y_labels.csv", model: str = "") -> None:
        self.folder = folder
        truth = folder / truth_file
        if not truth.is_file():
            raise HarnessError(f"{truth}: the truth file is missing; a dataset folder holds the inputs and "
                               f"{truth_file} (file,classes,class[,bytes_to_send,stride]), as in "
                               "eembc/energyrunner's datasets/<model>/")
        try:
            labels = read_label_file(truth, truth_file, model)
        except InputError as exc:
            raise HarnessError(str(exc)) from None
        self.inputs = [DatasetInput(i, name, e.classes, e.label, e.width, e.stride)
                       for i, (name, e) in enumerate(labels.entries.items())]
        if not self.inputs:
            raise HarnessError(f"{truth}: no inputs listed")

    def read(self, item: DatasetInput, max_bytes: int = 64 * 1024 * 1024) -> bytes:
        path = self.folder / item.file
        if Path(item.file).name != item.file:
            raise HarnessError(f"{self.folder}: the truth file names {item.file!r}, which is not a plain file "
                               "name inside the dataset folder")
        try:
            size = path.stat().st_size
            if size > max_bytes:
                raise HarnessError(f"{path}: {size} bytes is larger than any MLPerf Tiny input")
            if size == 0:
                raise HarnessError(f"{path}: the input file is empty")
            return path.read_bytes()
        except OSError as exc:
            raise HarnessError(f"{path}: cannot read the input listed in the truth file ({exc.strerror})") from None

    def segments(self, item: DatasetInput, data: bytes, first_only: bool = False) -> list[Segment]:
        """The windows sent for one input: the whole file, or ad01's sliding windows (protocol.md 2.3)."""
        if item.width is None and item.stride is None:
            return [Segment(0, data)]
        if not (item.width and item.stride and item.width > 0 and item.stride > 0):
            # a zero or negative stride would never end; a missing or non-positive width has no window
            raise HarnessError(f"{self.folder / item.file}: the truth file gives bytes_to_send {item.width} and "
                               f"stride {item.stride}; both must be whole numbers above 0")
        out, start = [], 0
        while start + item.width <= len(data):
            out.append(Segment(start, data[start:start + item.width]))
            if first_only:
                break
            start += item.stride
        if not out:
            raise HarnessError(f"{self.folder / item.file}: {len(data)} bytes is shorter than one "
                               f"{item.width}-byte window")
        return out
