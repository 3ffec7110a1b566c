"""Where the shared corpus lives (../shared beside the checkout), and skipping without it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; skips the calling test, saying why, when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared corpus beside the checkout); it is absent here")
    return path


def missing_in_copy(round_dir: Path) -> set[str]:
    """Files of the real submission that the corpus copy leaves out (MISSING.tsv)."""
    listing = round_dir / "MISSING.tsv"
    return {line.split("\t")[0].strip() for line in listing.read_text().splitlines() if line.strip()}
