"""The refusals of `submit package`, each on a real input: a symbolic link, a path through '..', an
oversized sparse file (never read), a made-up private key (assembled at run time, never echoed)."""

from __future__ import annotations

import os

import pytest
import yaml

from helpers.fixture_trees import fake_secret
from helpers.package_inputs import build_package_inputs
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec
from submission_tools.package import PackageOptions, run_package, safety


@pytest.fixture
def manifest(tmp_path):
    return build_package_inputs(tmp_path, ExampleSpec())


def _refusals(manifest, tmp_path, **options):
    result = run_package(manifest, PackageOptions(out=tmp_path / "out", **options))
    assert result.exit_code() == 1 and result.written is None and not (tmp_path / "out").exists()
    return [(f.rule, f.path, f.message) for f in result.plan.refusals]


def test_symbolic_link_is_refused_and_never_followed(manifest, tmp_path, capsys):
    outside = tmp_path / "outside.txt"
    outside.write_text(fake_secret("private_key"))
    link = manifest.parent / "code" / "kws" / "notes.txt"
    os.symlink(outside, link)
    assert _refusals(manifest, tmp_path) == [("PKG001", "code/kws/notes.txt", f"symbolic link to '{outside}'")]
    assert main(["package", str(manifest), "--out", str(tmp_path / "out")]) == 1
    printed = capsys.readouterr().out
    assert "PKG001 error code/kws/notes.txt" in printed and "PRIVATE" not in printed


def test_path_through_dotdot_is_refused_with_its_line(manifest, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "main.c").write_text("int main(void) { return 0; }\n")
    text = manifest.read_text().replace("code: code/kws", "code: ../elsewhere")
    manifest.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if "../elsewhere" in t)
    result = run_package(manifest, PackageOptions(out=tmp_path / "out"))
    (finding,) = result.plan.refusals
    assert (finding.rule, finding.path, finding.line) == ("PKG002", "submission.yaml", line)
    assert "'../elsewhere' goes through '..'" in finding.message
    assert result.exit_code() == 1 and not (tmp_path / "out").exists()


def test_oversized_sparse_file_is_refused_without_reading_it(manifest, tmp_path, monkeypatch):
    big = manifest.parent / "code" / "ic" / "capture.bin"
    with open(big, "wb") as handle:
        handle.truncate(3 * 1024 ** 3)  # 3 GiB of holes: nothing is written
    assert os.stat(big).st_blocks * 512 < 1024 * 1024
    read = []
    original = safety._read_and_scan
    monkeypatch.setattr(safety, "_read_and_scan", lambda path: read.append(path.name) or original(path))
    assert _refusals(manifest, tmp_path) == [
        ("PKG003", "code/ic/capture.bin", "file is 3072.0 MiB, over the 100 MiB limit (not read)")]
    assert "capture.bin" not in read and read  # every other input was read


def test_private_key_is_refused_and_never_echoed(manifest, tmp_path, capsys):
    key = fake_secret("private_key")
    (manifest.parent / "code" / "kws" / "board.conf").write_text("# flashing\nport=/dev/ttyACM0\n" + key)
    assert _refusals(manifest, tmp_path) == [
        ("PKG006", "code/kws/board.conf", "holds a private key (PEM block) at line 3")]
    assert main(["package", str(manifest), "--out", str(tmp_path / "out"), "--dry-run"]) == 1
    printed = capsys.readouterr().out
    assert "PKG006 error code/kws/board.conf:3" in printed
    assert key.splitlines()[1] not in printed and "PRIVATE" not in printed


def test_secret_split_by_a_read_boundary_is_found(tmp_path):
    key = fake_secret("private_key").encode()
    path = tmp_path / "blob.bin"
    path.write_bytes(b"x" * (safety.CHUNK - 10) + b"\n" + key)
    _digest, size, found = safety._read_and_scan(path)
    assert found == ("pem", 2) and size == safety.CHUNK - 9 + len(key)


def test_every_refusal_is_reported_at_once(manifest, tmp_path):
    code = manifest.parent / "code" / "kws"
    os.symlink("/etc/hostname", code / "host")
    (code / ".env").write_text("TOKEN=x\n")
    (code / "__pycache__").mkdir()
    (code / ".git").mkdir()
    document = yaml.safe_load(manifest.read_text())
    document["checklist"] = "/tmp/checklist.pdf"
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    rules = sorted(rule for rule, _path, _message in _refusals(manifest, tmp_path))
    assert rules == ["PKG001", "PKG002", "PKG004", "PKG005", "PKG006"]
