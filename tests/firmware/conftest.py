"""Firmware tests: one build of the host port per session, in a temporary folder."""

from __future__ import annotations

import pytest

from helpers.firmware import build


@pytest.fixture(scope="session")
def host_firmware(tmp_path_factory):
    """The host firmware binary (default flags: -O2, warnings as errors)."""
    return build(tmp_path_factory.mktemp("fw-host")) / "host-firmware"
