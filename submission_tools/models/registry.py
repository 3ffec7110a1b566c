"""The closed-division reference models: which file is which, where it lives in an mlcommons/tiny
checkout, and which benchmark a given .tflite belongs to.

The data is reference_models.yaml (sha256 of each reference file, copied from
reference_digests.yaml, and a dtype-free structure digest per benchmark). A file is identified
by its sha256 (it *is* a reference file), else by its structure (same graph as a reference:
"structurally the <bench> reference", e.g. a re-quantized submission), else it is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Optional

import yaml

from submission_tools.errors import InputError, UsageError
from submission_tools.models.equivalence import structure_digest
from submission_tools.models.tflite_reader import ModelFileError, TFLiteModel, read_model
from submission_tools.reference import ReferenceCheckout, sha256_of

ROLES = ("int8", "float")


@dataclass(frozen=True)
class ReferenceFile:
    benchmark: str
    role: str  # "int8" or "float"
    key: str  # key in reference_digests.yaml (kws_int8, ...)
    path: str  # relative to the checkout root
    sha256: str
    weights: str = "int8"  # float32 | hybrid | int8
    hybrid: bool = False
    note: Optional[str] = None

    @property
    def label(self) -> str:
        """How to name it in a sentence: "int8 reference", "float reference (hybrid)", ..."""
        if self.role == "float" and self.weights == "int8":
            return "reference (fully int8, the only published model)"
        if self.hybrid:
            return "float reference (hybrid: some weights int8)"
        return f"{self.role} reference"

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def to_dict(self) -> dict:
        return {"benchmark": self.benchmark, "role": self.role, "key": self.key, "path": self.path,
                "sha256": self.sha256, "weights": self.weights, "hybrid": self.hybrid}


@dataclass(frozen=True)
class BenchmarkModels:
    benchmark: str
    title: str
    rounds: tuple[str, ...]
    int8: Optional[ReferenceFile]
    float: ReferenceFile
    structure_sha256: str
    operators: int

    @property
    def files(self) -> list[ReferenceFile]:
        return [f for f in (self.int8, self.float) if f is not None]


@lru_cache(maxsize=1)
def registry() -> dict[str, BenchmarkModels]:
    text = resources.files("submission_tools.models").joinpath("reference_models.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    out = {}
    for name, spec in data["benchmarks"].items():
        files = {}
        for role in ROLES:
            entry = spec.get(role)
            if entry:
                files[role] = ReferenceFile(benchmark=name, role=role, key=entry["key"], path=entry["path"],
                                            sha256=entry["sha256"], weights=entry.get("weights", "int8"),
                                            hybrid=bool(entry.get("hybrid", False)), note=entry.get("note"))
        out[name] = BenchmarkModels(benchmark=name, title=spec["title"], rounds=tuple(spec["rounds"]),
                                    int8=files.get("int8"), float=files["float"],
                                    structure_sha256=spec["structure"]["sha256"],
                                    operators=int(spec["structure"]["operators"]))
    return out


def benchmark_names() -> list[str]:
    return list(registry())


def benchmarks_for_round(round_version: str) -> list[str]:
    """Benchmarks run with a reference model in a round (v1.0 ... v1.4)."""
    version = round_version if round_version.startswith("v") else f"v{round_version}"
    return [name for name, models in registry().items() if version in models.rounds]


def benchmark(name: str) -> BenchmarkModels:
    models = registry().get(name)
    if models is None:
        raise UsageError(f"unknown benchmark {name!r}; choose one of: {', '.join(registry())}")
    return models


def file_by_sha256(digest: str) -> Optional[ReferenceFile]:
    for models in registry().values():
        for ref in models.files:
            if ref.sha256 == digest:
                return ref
    return None


# --------------------------------------------------------------------------------------------
# Identification


@dataclass
class Identification:
    path: str
    kind: str  # "reference" (its sha256), "structure" (its graph) or "unknown"
    benchmark: Optional[str] = None
    role: Optional[str] = None  # for kind == "reference": int8 or float
    sha256: Optional[str] = None
    operators: Optional[int] = None
    message: str = ""
    readable: bool = True

    def to_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "benchmark": self.benchmark, "role": self.role,
                "sha256": self.sha256, "operators": self.operators, "readable": self.readable,
                "message": self.message}


def identify(path: Path, checkout: Optional[Path] = None, model: Optional[TFLiteModel] = None) -> Identification:
    """Which reference model a file is: by sha256, else by structure, else unknown.

    `checkout` (an mlcommons/tiny folder) adds its actual files, in case they differ from the
    digests this tool records (a newer checkout).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    digest = sha256_of(path)
    ident = Identification(path=str(path), kind="unknown", sha256=digest)
    ref = file_by_sha256(digest)
    local = _checkout_files(checkout) if checkout is not None else []
    if ref is None:
        ref = next((r for r, p, d in local if d == digest), None)
    if model is None:
        try:
            model = read_model(path)
        except ModelFileError as exc:
            ident.readable = False
            if ref is None:
                ident.message = f"unknown: not a readable .tflite ({_short(str(exc), str(path))})"
                return ident
    if model is not None:
        ident.operators = len(model.operators)
    if ref is not None:
        ident.kind, ident.benchmark, ident.role = "reference", ref.benchmark, ref.role
        ident.message = f"the {ref.benchmark} {ref.label} model ({ref.filename}, sha256 {digest[:12]}…)"
        return ident
    shape_digest = structure_digest(model)
    for name, models in registry().items():
        if models.structure_sha256 == shape_digest:
            return _structural(ident, name)
    for ref, ref_path, _ in local:
        try:
            if structure_digest(read_model(ref_path)) == shape_digest:
                return _structural(ident, ref.benchmark)
        except ModelFileError:
            continue
    ident.message = f"unknown: no reference model has this file's sha256 or structure ({ident.operators} operators)"
    hint = _nearest(model)
    if hint:
        ident.message += f"; {hint}"
    return ident


def _structural(ident: Identification, name: str) -> Identification:
    ident.kind, ident.benchmark = "structure", name
    ident.message = (f"structurally the {name} reference ({ident.operators} operators, same graph and "
                     f"shapes); not a reference file itself (its weights or quantization differ)")
    return ident


def _short(message: str, prefix: str) -> str:
    return message[len(prefix) + 2:] if message.startswith(prefix + ": ") else message


def _nearest(model: TFLiteModel) -> Optional[str]:
    ops = len(model.operators)
    same_count = [name for name, m in registry().items() if m.operators == ops]
    if same_count:
        return f"same operator count as the {', '.join(same_count)} reference, but a different graph or shapes"
    return None


def _checkout_files(checkout: Path) -> list[tuple[ReferenceFile, Path, Optional[str]]]:
    """(reference, path, actual sha256) of each reference file present in a checkout."""
    ReferenceCheckout.open(checkout)
    out = []
    for models in registry().values():
        for ref in models.files:
            path = checkout / ref.path
            if path.is_file():
                out.append((ref, path, sha256_of(path)))
    return out


# --------------------------------------------------------------------------------------------
# Locating the reference of a verification


@dataclass
class ReferencePair:
    benchmark: str
    float_path: Path
    int8_path: Optional[Path]
    float_ref: ReferenceFile
    notes: list[str] = field(default_factory=list)


def locate_pair(checkout: Path, name: str) -> ReferencePair:
    """The reference files of a benchmark in a validated mlcommons/tiny checkout."""
    models = benchmark(name)
    ReferenceCheckout.open(checkout)
    notes = []
    float_path = checkout / models.float.path
    if not float_path.is_file():
        raise InputError(f"{float_path}: the {name} float reference is missing from the checkout "
                         f"{checkout}; update the checkout, or pass the float .tflite itself as --reference")
    actual = sha256_of(float_path)
    if actual != models.float.sha256:
        notes.append(f"{models.float.path} differs from the version this tool knows (sha256 {actual[:12]}…); "
                     f"it is used as the reference anyway")
    int8_path = checkout / models.int8.path if models.int8 is not None else None
    if int8_path is not None and not int8_path.is_file():
        int8_path = None
    if models.float.note:
        notes.append(models.float.note)
    return ReferencePair(benchmark=name, float_path=float_path, int8_path=int8_path,
                         float_ref=models.float, notes=notes)
