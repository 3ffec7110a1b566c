"""PKG0xx: what `submit package` refuses to put into a submission.

These rules apply while `submit package` reads its inputs (the files a submission manifest
names, relative to the manifest's folder), not to a finished tree: each finding is a refusal,
and nothing is written while any stands. Their `check` finds nothing in a tree; the tree
rules (TREE1xx) say the same things about a tree assembled by hand.
"""

from __future__ import annotations

from submission_tools.findings import Severity
from submission_tools.rules.base import PACKAGE, Rule, register

CHECKER = "Official submission checker (tools/submission/submission_checker.py) and MLCommons general submission rules"
PUBLIC = "MLCommons publishes every submission in a public repository after review"


class PackageRule(Rule):
    stage = PACKAGE
    severity = Severity.ERROR

    def check(self, ctx):
        return iter(())


@register
class SymbolicLinkInput(PackageRule):
    id = "PKG001"
    name = "pkg.symbolic-link"
    title = "No symbolic links among the inputs"
    spec = f"{CHECKER}: symbolic links are not allowed in a submission."
    rationale = ("Following a link would copy whatever it points to (outside the inputs, or something else "
                 "tomorrow); copying the link itself would publish a link the checker refuses.")
    fix = "Replace the link with the file or folder it points to (a copy), or name the real path in the manifest."


@register
class PathEscapesRoot(PackageRule):
    id = "PKG002"
    name = "pkg.path-escapes-root"
    title = "Every input path stays inside the manifest's folder"
    spec = "submit package: the paths of a submission manifest are relative to its folder, without '..'."
    rationale = ("An absolute path or one that climbs out with '..' can pull in anything on the machine "
                 "(a home folder, ~/.ssh); keeping every input below one folder makes the inputs reviewable.")
    fix = "Move (or copy) the input below the manifest's folder and give its path relative to that folder."


@register
class InputFileTooLarge(PackageRule):
    id = "PKG003"
    name = "pkg.file-too-large"
    title = "No input file over the size limit"
    spec = (f"{CHECKER}: no file over the size limit (500 MB in the checker); results repositories are hosted "
            "on GitHub, which refuses files over 100 MiB (submit package --max-file-mb).")
    rationale = "An oversized file cannot be published, so reviewers would never see it; the file is never read."
    fix = "Leave the file out (say in the README how to obtain it), compress or split it."


@register
class VcsFolderInput(PackageRule):
    id = "PKG004"
    name = "pkg.vcs-folder"
    title = "No version-control folders among the inputs"
    spec = "Results are published as one git repository; a nested .git, .hg or .svn folder is not part of it."
    rationale = ("A version-control folder carries the whole history of the code, often with files deleted "
                 "from the working copy on purpose, and turns the folder into a submodule nobody can review.")
    fix = "Name a clean export of the code (e.g. `git archive` or `git worktree`), without its .git folder."


@register
class PythonCacheInput(PackageRule):
    id = "PKG005"
    name = "pkg.python-cache"
    title = "No __pycache__ folders or compiled Python files among the inputs"
    spec = f"{CHECKER}: __pycache__ folders are not allowed."
    rationale = "Compiled caches are machine-specific and can hide code that differs from the source next to them."
    fix = "Delete __pycache__ folders and *.pyc files from the code folder (and ignore them in git)."


@register
class SecretInput(PackageRule):
    id = "PKG006"
    name = "pkg.secret"
    title = "No private keys, .env files or access tokens among the inputs"
    spec = f"{PUBLIC}; anything in it is public for good."
    rationale = ("A private key or token published once must be revoked everywhere it worked: deleting it "
                 "later does not remove it from clones and mirrors.")
    fix = ("Remove the file or the secret from the input (keep credentials outside the code folder); "
           "revoke the secret if it was ever committed or shared.")


@register
class SessionFileChanged(PackageRule):
    id = "PKG007"
    name = "pkg.session-file-changed"
    title = "Session files are the ones the harness wrote"
    spec = ("directory_structure.adoc: runner files are submitted as produced; `submit run` records the "
            "sha256 of every file of a session in its manifest.json.")
    rationale = "A runner file that differs from its recorded digest was edited (or damaged) after the measurement."
    fix = "Name the untouched session folder, or measure again; never edit runner files by hand."


@register
class SpecialInput(PackageRule):
    id = "PKG008"
    name = "pkg.special-file"
    title = "Every input is a readable regular file or folder"
    spec = "A submission is a tree of plain files and folders that reviewers can read."
    rationale = ("A pipe, socket or device cannot be copied (reading one may block forever); an unreadable "
                 "folder hides content.")
    fix = "Remove the special file from the input folder, or fix the permissions."
