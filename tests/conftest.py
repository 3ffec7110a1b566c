"""Shared test setup: make tests/ importable so test modules can use `helpers.*`, and keep the
virtual datasets that `submit run` generates in a per-session temporary cache, never ~/.cache."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))



@pytest.fixture(autouse=True, scope="session")
def _virtual_dataset_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    mp.undo()
