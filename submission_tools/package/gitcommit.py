"""`submit package --git`: commit the assembled submitter folder with GitPython.

The repository is --out itself: reused when it is the top of a git work tree, created when --out
is new or empty. It must be clean before anything is written (so the commit holds exactly the
packaged tree and nobody's unfinished work), and only <division>/<submitter>/ is staged, with
--force so that a global ignore file cannot drop a file of the submission. Git stores content
and the executable bit only, and the tree is written with fixed modes, so the same inputs give
the same tree hash.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from submission_tools.errors import UsageError


@dataclass
class GitTarget:
    out: Path
    exists: bool  # a repository is already there (else one is initialised at commit time)


@dataclass
class CommitOutcome:
    commit: str | None  # None when the tree was already committed as it is
    head: str
    tree: str  # the whole repository's tree
    subtree: str  # <division>/<submitter>/: the identity of the packaged folder
    created: bool


def _import_git():
    try:
        import git
    except ImportError as exc:  # GitPython imports fine but needs the git program
        raise UsageError(f"--git needs git and GitPython: {exc}") from None
    return git


def prepare(out: Path) -> GitTarget:
    """Check, before anything is written, that --out can take a commit (UsageError, exit 2, if not)."""
    git = _import_git()
    if out.is_dir() and (out / ".git").exists():
        try:
            repo = git.Repo(out)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise UsageError(f"--out {out}: holds a .git that is not a usable repository ({exc})") from None
        if repo.bare or os.path.realpath(repo.working_tree_dir) != os.path.realpath(out):
            raise UsageError(f"--out {out}: is not the top of a git work tree")
        # --no-optional-locks: looking must not rewrite the index (a dry run changes nothing)
        dirty = repo.git.execute(["git", "--no-optional-locks", "status", "--porcelain",
                                  "--untracked-files=normal"]).splitlines()
        if dirty:
            shown = "; ".join(line.strip() for line in dirty[:5]) + (" ..." if len(dirty) > 5 else "")
            raise UsageError(f"--out {out}: the repository has uncommitted changes ({shown}); commit or stash "
                             "them first: --git commits only the packaged folder, over a clean work tree")
        return GitTarget(out, exists=True)
    probe = out if out.exists() else _existing_ancestor(out)
    try:
        outer = git.Repo(probe, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        outer = None
    if outer is not None and not outer.bare:
        raise UsageError(f"--out {out}: lies inside the git repository {outer.working_tree_dir}; with --git give "
                         "the top folder of a repository, or a folder outside any repository")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: exists and is not a git repository; with --git give a clone of the results "
                         "repository, a new folder or an empty one")
    return GitTarget(out, exists=False)


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def commit(target: GitTarget, subpath: str, message: str) -> CommitOutcome:
    """Stage <division>/<submitter>/ and commit it; no commit when nothing changed."""
    git = _import_git()
    repo = git.Repo(target.out) if target.exists else git.Repo.init(target.out)
    repo.git.execute(["git", "-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "add", "--all", "--force",
                      "--", subpath])
    changed = bool(repo.git.diff("--cached", "--name-only", "--", subpath)) if repo.head.is_valid() \
        else bool(repo.index.entries)
    sha = None
    if changed:
        sha = repo.index.commit(message).hexsha
    head = repo.head.commit
    subtree = head.tree
    for part in subpath.split("/"):
        subtree = subtree / part
    return CommitOutcome(commit=sha, head=head.hexsha, tree=head.tree.hexsha, subtree=subtree.hexsha,
                         created=not target.exists)
