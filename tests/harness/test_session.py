"""Session files: journal durability, torn lines, resume refusals, manifest hashes."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError, SessionMismatch
from harness.session import JOURNAL, Session, read_journal, sha256_file


def _new(tmp_path, fingerprint="f" * 64):
    return Session.create(tmp_path / "s", mode="accuracy", benchmark="kws01", config_raw={"benchmark": "kws01"},
                          fingerprint=fingerprint, config_source=None)


def test_records_are_journalled_before_the_end(tmp_path):
    session = _new(tmp_path)
    session.record({"file": "a.bin", "infer": {"results": [1.0]}})
    session.log("hello")
    records, dropped = read_journal(tmp_path / "s" / JOURNAL)
    assert records == [{"file": "a.bin", "infer": {"results": [1.0]}}] and dropped == 0
    assert (tmp_path / "s" / "log.txt").read_text() == "hello\n"
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["status"] == "running" and manifest["ended"] is None
    session.close_quietly()


def test_finish_hashes_every_file_and_writes_results(tmp_path):
    session = _new(tmp_path)
    session.record({"file": "a.bin"})
    session.finish("complete", ["Top 1% = 90.0"])
    folder = tmp_path / "s"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert set(manifest["files"]) == {"log.txt", JOURNAL, "results.json", "results.txt"}
    assert manifest["files"]["results.json"] == sha256_file(folder / "results.json")
    assert json.loads((folder / "results.json").read_text()) == [{"file": "a.bin"}]


def test_a_torn_last_journal_line_is_dropped_and_counted(tmp_path):
    session = _new(tmp_path)
    session.record({"file": "a.bin"})
    session.close_quietly()
    with open(tmp_path / "s" / JOURNAL, "a") as handle:
        handle.write('{"file": "b.b')  # the crash came mid-write
    resumed = Session.resume(tmp_path / "s", fingerprint="f" * 64)
    assert resumed.records == [{"file": "a.bin"}]
    assert resumed.manifest["resumed"][0]["torn_lines_dropped"] == 1
    resumed.close_quietly()


def test_a_journal_corrupt_in_the_middle_refuses_to_resume(tmp_path):
    session = _new(tmp_path)
    session.close_quietly()
    (tmp_path / "s" / JOURNAL).write_text('{"file": 1}\nnot json\n{"file": 2}\n')
    with pytest.raises(HarnessError, match=r"progress.jsonl:2: the journal is corrupt"):
        Session.resume(tmp_path / "s", fingerprint="f" * 64)


def test_resume_refuses_another_config_and_a_complete_session(tmp_path):
    session = _new(tmp_path)
    session.close_quietly()
    with pytest.raises(SessionMismatch, match="another configuration"):
        Session.resume(tmp_path / "s", fingerprint="0" * 64)
    resumed = Session.resume(tmp_path / "s", fingerprint="f" * 64)
    resumed.finish("complete", [])
    with pytest.raises(HarnessError, match="complete"):
        Session.resume(tmp_path / "s", fingerprint="f" * 64)


def test_resume_of_something_that_is_not_a_session(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "manifest.json").write_bytes(b"\x00\xff binary")
    with pytest.raises(HarnessError, match="not a readable session manifest"):
        Session.resume(tmp_path / "x", fingerprint="f")


def test_create_refuses_an_existing_folder(tmp_path):
    (tmp_path / "s").mkdir()
    with pytest.raises(HarnessError, match="already exists"):
        _new(tmp_path)


def test_drop_records_rewrites_the_journal(tmp_path):
    session = _new(tmp_path)
    for name in ("a", "b", "b"):
        session.record({"file": name})
    assert session.drop_records(lambda r: r["file"] == "a") == 2
    session.record({"file": "c"})
    session.close_quietly()
    assert [r["file"] for r in read_journal(tmp_path / "s" / JOURNAL)[0]] == ["a", "c"]
