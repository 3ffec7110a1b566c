"""Reference data from the user's checkout of mlcommons/tiny (`--reference DIR` or TINY_REFERENCE).

The project ships no third-party data: it records, as data, the sha256 of the label files and
reference models it knows (reference_digests.yaml) and checks a checkout against them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from submission_tools.errors import ReferenceCheckoutError

ENV_VAR = "TINY_REFERENCE"
# The label sets without which a folder is not a usable checkout.
REQUIRED_LABEL_SETS = ("kws01", "vww01", "ic01", "ad01")


@lru_cache(maxsize=1)
def known_digests() -> dict:
    text = resources.files("submission_tools").joinpath("reference_digests.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class KnownFile:
    key: str  # e.g. "kws01" or "kws_int8"
    kind: str  # "label_set" or "model"
    path: Path  # inside the checkout
    expected_sha256: str
    actual_sha256: str | None  # None when the file is absent

    @property
    def status(self) -> str:
        if self.actual_sha256 is None:
            return "absent"
        return "known" if self.actual_sha256 == self.expected_sha256 else "different"

    def to_dict(self) -> dict:
        return {"key": self.key, "kind": self.kind, "path": str(self.path),
                "sha256": self.actual_sha256, "status": self.status}


@dataclass
class ReferenceCheckout:
    root: Path
    files: list[KnownFile] = field(default_factory=list)

    @classmethod
    def open(cls, root: Path) -> "ReferenceCheckout":
        """Validate that `root` is a checkout of mlcommons/tiny and fingerprint its files."""
        if not root.exists():
            raise ReferenceCheckoutError(
                f"{root}: no such folder; point --reference (or {ENV_VAR}) at a checkout of mlcommons/tiny")
        if not root.is_dir():
            raise ReferenceCheckoutError(f"{root}: is a file; --reference wants the mlcommons/tiny checkout folder")
        digests = known_digests()
        files = []
        for kind, table in (("label_set", digests["label_sets"]), ("model", digests["models"]),
                            ("runner_file", digests["runner_files"])):
            for key, spec in table.items():
                path = root / spec["path"]
                try:
                    actual = sha256_of(path) if path.is_file() else None
                except OSError:
                    actual = None
                files.append(KnownFile(key, kind, path, spec["sha256"], actual))
        checkout = cls(root=root, files=files)
        missing = [f for f in files if f.kind == "label_set" and f.key in REQUIRED_LABEL_SETS
                   and f.status == "absent"]
        if missing:
            listed = ", ".join(str(f.path.relative_to(root)) for f in missing)
            raise ReferenceCheckoutError(
                f"{root}: not a checkout of mlcommons/tiny (missing {listed}); "
                f"clone https://github.com/mlcommons/tiny and pass its folder")
        return checkout

    def label_file(self, key: str) -> Path | None:
        return self._present("label_set", key)

    def runner_file(self, key: str) -> Path | None:
        return self._present("runner_file", key)

    def _present(self, kind: str, key: str) -> Path | None:
        for f in self.files:
            if f.kind == kind and f.key == key and f.status != "absent":
                return f.path
        return None

    @property
    def notes(self) -> list[str]:
        return [f"{f.path.relative_to(self.root)} differs from the version this tool knows "
                f"(sha256 {f.actual_sha256[:12]}…); results that use it may not be comparable"
                for f in self.files if f.status == "different"]

    def to_dict(self) -> dict:
        return {"root": str(self.root), "files": [f.to_dict() for f in self.files], "notes": self.notes}
