"""Firmware tests: one build of the host port per session, in a temporary folder; generated virtual
datasets (should a test fall back to the harness's cache) go to a temporary cache, never ~/.cache."""

from __future__ import annotations

import pytest

from helpers.firmware import build


@pytest.fixture(autouse=True, scope="session")
def _virtual_dataset_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def host_firmware(tmp_path_factory):
    """The host firmware binary (default flags: -O2, warnings as errors)."""
    return build(tmp_path_factory.mktemp("fw-host")) / "host-firmware"
