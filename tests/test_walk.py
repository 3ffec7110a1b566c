"""The walk: one pass, no link followed, VCS folders not entered, odd names kept printable."""

import os

import pytest

from submission_tools.walk import DIR, FILE, SYMLINK, UNREADABLE, walk_tree


def test_walk_records_kinds_and_sizes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_bytes(b"12345")
    index = walk_tree(tmp_path)
    assert index.get("a").kind == DIR
    assert (index.get("a/f.txt").kind, index.get("a/f.txt").size) == (FILE, 5)
    assert [e.path for e in index.descendants(".")] == ["a", "a/f.txt"]


def test_links_are_recorded_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    index = walk_tree(root)
    assert index.get("link").kind == SYMLINK
    assert index.get("link/secret.txt") is None


def test_git_folder_is_not_entered(tmp_path):
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    index = walk_tree(tmp_path)
    assert index.get(".git").vcs_skipped and index.get(".git/objects") is None


def test_non_utf8_names_are_escaped(tmp_path):
    raw = os.fsencode(str(tmp_path)) + b"/bad\xffname"
    with open(raw, "wb") as fh:
        fh.write(b"x")
    index = walk_tree(tmp_path)
    assert "bad\\xffname" in index.entries


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any folder, so permissions cannot be tested")
def test_unlistable_folder_is_recorded(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert walk_tree(tmp_path).get("locked").kind == UNREADABLE
    finally:
        locked.chmod(0o755)
