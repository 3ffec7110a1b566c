"""Fault injection on the virtual line: every fault ends in a correct, complete session, or in a
clear error with every measurement completed before it kept on disk."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.virtual.faults import ByteFaults, FaultPlan
from helpers.harness_runs import quiet_run, virtual_config

FAST = "timeouts: {command_s: 0.5, infer_s: 2.0}\n"


def _results(folder):
    return [r["infer"]["results"] for r in json.loads((folder / "results.json").read_text())]


def _only_session(out):
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    config = virtual_config(root / "c.yaml", "kws", extra=FAST)
    return _results(quiet_run(config, "accuracy", root / "out").session_dir)


PLANS = {
    "bytes dropped on the way to the DUT": (FaultPlan(seed=1, to_device=ByteFaults(drop_rate=0.0005)), False),
    "bytes dropped on the way to the host": (FaultPlan(seed=3, to_host=ByteFaults(drop_rate=0.002)), False),
    "bytes corrupted on the way to the host": (FaultPlan(seed=4, to_host=ByteFaults(corrupt_rate=0.002)), False),
    # in hex, a digit corrupted into another is invisible to the text protocol unless read back
    "bytes corrupted on the way to the DUT, read back": (
        FaultPlan(seed=2, to_device=ByteFaults(corrupt_rate=0.0005)), True),
    "a reset in the middle of the run": (FaultPlan(reset_at_command=60), False),
    "a DUT silent for a second": (FaultPlan(stall_at_command=60, stall_s=1.0), False),
}
# in binary, the CRC-32 the DUT confirms catches corrupted bytes without reading anything back
BINARY_PLANS = {**PLANS, "bytes corrupted on the way to the DUT, no read back": (
    FaultPlan(seed=2, to_device=ByteFaults(corrupt_rate=0.0005)), False)}
CASES = [(name, "hex") for name in PLANS] + [(name, "binary") for name in BINARY_PLANS]


@pytest.mark.parametrize("name, transfer", CASES)
def test_accuracy_run_survives_or_fails_cleanly(name, transfer, clean, tmp_path):
    plan, verify = BINARY_PLANS[name]
    extra = FAST + ("verify_download: true\n" if verify else "")
    config = virtual_config(tmp_path / "c.yaml", "kws", extra=extra, transfer=transfer)
    try:
        outcome = quiet_run(config, "accuracy", tmp_path / "out", faults=plan)
    except HarnessError as exc:
        folder = _only_session(tmp_path / "out")
        kept = _results(folder)
        assert kept == clean[:len(kept)], "a measurement kept after a fault differs from the clean run"
        assert json.loads((folder / "manifest.json").read_text())["status"] == "failed"
        assert str(folder) in str(exc)
    else:
        assert _results(outcome.session_dir) == clean
        assert json.loads((outcome.session_dir / "manifest.json").read_text())["download"]["transfer"] == transfer


def test_a_dut_that_goes_silent_ends_the_run_with_what_was_measured(clean, tmp_path):
    config = virtual_config(tmp_path / "c.yaml", "kws", extra=FAST)
    with pytest.raises(HarnessError, match="stopped answering") as caught:
        quiet_run(config, "accuracy", tmp_path / "out", faults=FaultPlan(stall_at_command=60))
    folder = _only_session(tmp_path / "out")
    kept = _results(folder)
    assert 0 < len(kept) < len(clean) and kept == clean[:len(kept)]
    assert "--resume" in str(caught.value)
    journal = (folder / "progress.jsonl").read_text().splitlines()
    assert len(journal) == len(kept)


def test_energy_run_through_a_noisy_interface_link(tmp_path):
    config = virtual_config(tmp_path / "c.yaml", "ic", interface=True, monitor=True, extra=FAST)
    clean = quiet_run(config, "energy", tmp_path / "clean")
    plan = FaultPlan(seed=5, to_host=ByteFaults(drop_rate=0.001))
    try:
        noisy = quiet_run(config, "energy", tmp_path / "noisy", faults=plan)
    except HarnessError:
        folder = _only_session(tmp_path / "noisy")
        assert json.loads((folder / "manifest.json").read_text())["status"] == "failed"
    else:
        assert [r["infer"]["results"] for r in json.loads((noisy.session_dir / "results.json").read_text())] == \
            [r["infer"]["results"] for r in json.loads((clean.session_dir / "results.json").read_text())]


def test_performance_run_after_a_reset_keeps_valid_windows(tmp_path):
    """Resets at each of the commands around the first inference (name, profile, then `db load`,
    13 chunks and `infer` of the first calibration pass): a reset during a download restarts the
    download, a reset during `infer` re-identifies the DUT; every session stays valid."""
    config = virtual_config(tmp_path / "c.yaml", "kws", extra=FAST)
    traces = set()
    for command in range(13, 21):
        outcome = quiet_run(config, "performance", tmp_path / f"out{command}",
                            faults=FaultPlan(reset_at_command=command))
        records = json.loads((outcome.session_dir / "results.json").read_text())
        assert len(records) == 5 and all(r["infer"]["elapsed_time"] >= 10_000_000 for r in records)
        log = (outcome.session_dir / "log.txt").read_text()
        traces |= {t for t in ("input resent after: DUT: it rebooted",
                               "Re-synchronising with the DUT after: DUT: it rebooted") if t in log}
    assert len(traces) == 2


def test_bytes_corrupted_in_binary_chunks_are_caught_by_the_crc_and_sent_again(clean, tmp_path):
    config = virtual_config(tmp_path / "c.yaml", "kws", extra=FAST, transfer="binary")
    plan = FaultPlan(seed=2, to_device=ByteFaults(corrupt_rate=0.0005))
    outcome = quiet_run(config, "accuracy", tmp_path / "out", faults=plan)
    assert _results(outcome.session_dir) == clean
    log = (outcome.session_dir / "log.txt").read_text()
    assert log.count("CRC-32 mismatch") >= 1
