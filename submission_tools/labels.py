"""Label sets (y_labels.csv): from the reference checkout, and extra folders given with --labels.

A label set maps an input file name to its class (and, for ad01, the sliding-window width and
stride). Which set a run used is detected from the file names it loaded.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from submission_tools.errors import InputError
from submission_tools.reference import ReferenceCheckout, known_digests, sha256_of

# Which model each label set belongs to (the folder name in mlcommons/tiny and eembc/energyrunner).
LABEL_SET_MODEL = {"kws01": "kws01", "vww01": "vww01", "ic01": "ic01", "ad01": "ad01", "ad01_alt": "ad01",
                   "ic01_pre_v07": "ic01"}


@dataclass(frozen=True)
class LabelEntry:
    label: int
    classes: int
    width: int | None = None
    stride: int | None = None


@dataclass
class LabelSet:
    name: str  # kws01, ad01_alt, ic01_pre_v07, or "<folder>/y_labels.csv" when unknown
    model: str  # kws01, vww01, ic01, ad01
    path: Path
    entries: dict[str, LabelEntry]

    def overlap(self, files: set[str]) -> int:
        return len(files & self.entries.keys())


def read_label_file(path: Path, name: str, model: str) -> LabelSet:
    entries = {}
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip():
            continue
        try:
            entry = LabelEntry(label=int(row[2]), classes=int(row[1]),
                               width=int(row[3]) if len(row) > 3 and row[3].strip() else None,
                               stride=int(row[4]) if len(row) > 4 and row[4].strip() else None)
        except (IndexError, ValueError):
            raise InputError(f"{path}:{number}: not a y_labels.csv row (file,classes,label[,width,stride])") from None
        entries[row[0].strip()] = entry
    return LabelSet(name, model, path, entries)


def label_sets_from_reference(reference: ReferenceCheckout) -> list[LabelSet]:
    sets = []
    for key, model in LABEL_SET_MODEL.items():
        path = reference.label_file(key)
        if path is not None:
            sets.append(read_label_file(path, key, model))
    return sets


def label_sets_from_folder(folder: Path) -> list[LabelSet]:
    """Every <model>*/y_labels*.csv under `folder` (an eembc/energyrunner `datasets` folder, say).
    A file whose sha256 is a known set keeps that set's name."""
    if not folder.is_dir():
        raise InputError(f"{folder}: --labels wants a folder holding <model>/y_labels.csv files")
    by_digest = {spec["sha256"]: key for table in ("label_sets", "external_label_sets")
                 for key, spec in known_digests()[table].items()}
    sets = []
    for path in sorted(folder.glob("*/y_labels*.csv")):
        model = path.parent.name.split("-")[0]
        if model not in {"kws01", "vww01", "ic01", "ad01"}:
            continue
        known = by_digest.get(sha256_of(path))
        name = known or f"{path.parent.name}/{path.name}"
        sets.append(read_label_file(path, name, LABEL_SET_MODEL.get(name, model)))
    if not sets:
        raise InputError(f"{folder}: no <model>/y_labels.csv files found for --labels")
    return sets


def choose_label_set(files: set[str], candidates: list[LabelSet]) -> LabelSet | None:
    """The set that names most of `files` (ties: the one with the fewest extra entries)."""
    best = None
    for candidate in candidates:
        score = (candidate.overlap(files), -abs(len(candidate.entries) - len(files)))
        if score[0] and (best is None or score > best[0]):
            best = (score, candidate)
    return best[1] if best else None
