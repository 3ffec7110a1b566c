"""`submit package --git`: a new repository, a reused clean one, and refusals before anything is written."""

from __future__ import annotations

import git
import pytest

from helpers.package_inputs import build_package_inputs
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec


@pytest.fixture
def manifest(tmp_path):
    return build_package_inputs(tmp_path, ExampleSpec())


def _package(manifest, out, *extra) -> int:
    return main(["package", str(manifest), "--out", str(out), "--git", *extra])


def test_a_new_repository_gets_one_commit_naming_version_and_manifest(manifest, tmp_path, capsys):
    out = tmp_path / "results"
    assert _package(manifest, out) == 0
    assert "(new repository)" in capsys.readouterr().out
    repo = git.Repo(out)
    (commit,) = list(repo.iter_commits())
    assert commit.message.startswith("Package closed/example_org for MLPerf Tiny v1.4 (submit 0.1.0)")
    assert "Manifest: submission.yaml (sha256 " in commit.message and "Gate: submit check PASSED" in commit.message
    paths = {item.path for item in commit.tree.traverse() if item.type == "blob"}
    assert "closed/example_org/MANIFEST.sha256" in paths and all(p.startswith("closed/example_org/") for p in paths)
    assert {item.mode for item in commit.tree.traverse() if item.type == "blob"} == {0o100644}
    assert not repo.is_dirty(untracked_files=True)


def test_a_clean_repository_is_reused(manifest, tmp_path):
    out = tmp_path / "results"
    repo = git.Repo.init(out)
    (out / "README.md").write_text("# Results of the round\n")
    repo.index.add(["README.md"])
    first = repo.index.commit("Start the results repository")
    assert _package(manifest, out) == 0
    head = repo.head.commit
    assert head.parents == (first,) and (out / "README.md").read_text() == "# Results of the round\n"
    assert not repo.is_dirty(untracked_files=True)


@pytest.mark.parametrize("change", ["untracked", "modified", "staged"])
def test_uncommitted_changes_are_refused_before_anything_is_written(manifest, tmp_path, capsys, change):
    out = tmp_path / "results"
    repo = git.Repo.init(out)
    (out / "README.md").write_text("# Results\n")
    repo.index.add(["README.md"])
    repo.index.commit("Start")
    if change == "untracked":
        (out / "notes.txt").write_text("draft\n")
    elif change == "modified":
        (out / "README.md").write_text("# Results, edited\n")
    else:
        (out / "new.txt").write_text("new\n")
        repo.index.add(["new.txt"])
    assert _package(manifest, out) == 2
    err = capsys.readouterr().err
    assert "the repository has uncommitted changes" in err and "commit or stash them first" in err
    assert not (out / "closed").exists() and not list(out.glob(".submit-package-*"))


def test_a_folder_that_is_not_a_repository_is_refused(manifest, tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    (out / "something.txt").write_text("x\n")
    assert _package(manifest, out) == 2
    assert "exists and is not a git repository" in capsys.readouterr().err


def test_a_folder_inside_another_repository_is_refused(manifest, tmp_path, capsys):
    git.Repo.init(tmp_path / "outer")
    assert _package(manifest, tmp_path / "outer" / "results") == 2
    assert "lies inside the git repository" in capsys.readouterr().err
    assert not (tmp_path / "outer" / "results").exists()


def test_a_new_package_replaces_the_previous_one_in_a_new_commit(manifest, tmp_path):
    out = tmp_path / "results"
    assert _package(manifest, out) == 0
    extra = manifest.parent / "code" / "kws" / "extra.c"
    extra.write_text("int extra(void) { return 1; }\n")
    (manifest.parent / "code" / "kws" / "main.c").unlink()
    assert _package(manifest, out) == 0
    repo = git.Repo(out)
    assert len(list(repo.iter_commits())) == 2
    changed = repo.head.commit.stats.files
    assert set(changed) >= {"closed/example_org/code/kws/kws/extra.c", "closed/example_org/code/kws/kws/main.c"}
    assert not (out / "closed/example_org/code/kws/kws/main.c").exists()
    assert not repo.is_dirty(untracked_files=True)
