"""`submit run --resume`: an interrupted accuracy run continues from the last completed input, and
never mixes two DUTs or two configurations in one session."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError, SessionMismatch
from harness.virtual.faults import FaultPlan
from helpers.harness_runs import quiet_run, virtual_config

FAST = "timeouts: {command_s: 0.5, infer_s: 2.0}\n"


def _records(folder):
    return json.loads((folder / "results.json").read_text())


def _interrupted(tmp_path, bench: str, stall_at: int):
    config = virtual_config(tmp_path / "c.yaml", bench, extra=FAST)
    with pytest.raises(HarnessError):
        quiet_run(config, "accuracy", tmp_path / "out", faults=FaultPlan(stall_at_command=stall_at))
    (folder,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    return config, folder


@pytest.mark.parametrize("bench", ["kws", "ad"])
def test_resume_completes_the_run_as_if_nothing_happened(bench, tmp_path):
    config, folder = _interrupted(tmp_path, bench, stall_at=60)
    kept = len(_records(folder))
    assert kept > 0
    resumed = quiet_run(config, "accuracy", tmp_path / "out", resume=folder)
    clean = quiet_run(config, "accuracy", tmp_path / "clean")
    assert resumed.session_dir == folder
    got, want = _records(folder), _records(clean.session_dir)
    assert [(r["file"], r["infer"]["results"]) for r in got] == [(r["file"], r["infer"]["results"]) for r in want]
    def claims(lines):  # Top-1 and AUC lines without their time stamps
        return [line.split("ulp-mlperf: ", 1)[1] for line in lines]

    assert claims(resumed.results_txt) == claims(clean.results_txt)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["resumed"]) == 1
    assert manifest["resumed"][0]["records_kept"] <= kept  # an AD file cut half way is redone whole


def test_resume_survives_a_torn_journal_line(tmp_path):
    config, folder = _interrupted(tmp_path, "kws", stall_at=60)
    with open(folder / "progress.jsonl", "a") as journal:
        journal.write('{"file": "kws_00')  # the power went mid-write
    quiet_run(config, "accuracy", tmp_path / "out", resume=folder)
    assert len(_records(folder)) == 20
    assert json.loads((folder / "manifest.json").read_text())["resumed"][0]["torn_lines_dropped"] == 1


def test_resume_refuses_another_configuration(tmp_path):
    config, folder = _interrupted(tmp_path, "kws", stall_at=60)
    other = virtual_config(tmp_path / "other.yaml", "kws", extra=FAST + "modes: {accuracy: {warmups: 1}}\n")
    with pytest.raises(SessionMismatch, match="another configuration"):
        quiet_run(other, "accuracy", tmp_path / "out", resume=folder)


def test_resume_refuses_another_dut(tmp_path):
    config, folder = _interrupted(tmp_path, "kws", stall_at=60)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["dut"]["name"] = "the-board-that-was-there-before"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SessionMismatch, match="never mixes two DUTs"):
        quiet_run(config, "accuracy", tmp_path / "out", resume=folder)


def test_resume_refuses_another_mode_and_a_complete_session(tmp_path):
    config, folder = _interrupted(tmp_path, "kws", stall_at=60)
    with pytest.raises(SessionMismatch, match="cannot be resumed in performance mode"):
        quiet_run(config, "performance", tmp_path / "out", resume=folder)
    quiet_run(config, "accuracy", tmp_path / "out", resume=folder)
    with pytest.raises(HarnessError, match="complete"):
        quiet_run(config, "accuracy", tmp_path / "out", resume=folder)
