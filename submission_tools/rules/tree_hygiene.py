"""TREE1xx: hygiene of every entry in the tree: links, sizes, caches, empty folders and names.

All of these work from the walk (names, kinds, sizes); none opens a file.
"""

from __future__ import annotations

import os
from collections import defaultdict

from submission_tools.findings import Severity
from submission_tools.names import OS_JUNK, is_hidden, unportable_reason
from submission_tools.rules.base import Rule, register
from submission_tools.walk import DIR, FILE, OTHER, SYMLINK, UNREADABLE, VCS_DIRS

CHECKER = "Official submission checker (tools/submission/submission_checker.py) and MLCommons general submission rules"


def _entries(ctx):
    """Every entry below the root."""
    return [e for e in ctx.tree.index if e.path != "."]


def _under_any(path: str, folders: set[str]) -> bool:
    parts = path.split("/")
    return any("/".join(parts[:i]) in folders for i in range(1, len(parts)))


def _is_repo_metadata(ctx, entry) -> bool:
    """Hidden entries at the root of a results repository (.github, .gitattributes) belong to git hosting."""
    return ctx.tree.layout == "repository" and "/" not in entry.path


@register
class SymbolicLink(Rule):
    id = "TREE101"
    name = "tree.symbolic-link"
    title = "No symbolic links"
    severity = Severity.ERROR
    spec = f"{CHECKER}: symbolic links are not allowed in a submission."
    rationale = ("A link can point outside the submission (or nowhere) once the tree is cloned elsewhere; "
                 "what it shows is not what gets reviewed.")
    fix = "Replace the link with a copy of the file it points to, or remove it."

    def check(self, ctx):
        for entry in _entries(ctx):
            if entry.kind == SYMLINK:
                try:
                    target = os.readlink(entry.os_path)
                except OSError:
                    target = "?"
                yield self.finding(entry.path, f"symbolic link to '{target}'")


@register
class FileTooLarge(Rule):
    id = "TREE102"
    name = "tree.file-too-large"
    title = "No file over the size limit"
    severity = Severity.ERROR
    spec = (f"{CHECKER}: no file over the size limit (500 MB in the checker); results repositories are "
            "hosted on GitHub, which refuses files over 100 MiB.")
    rationale = "An oversized file cannot be published with the results, so reviewers would never see it."
    fix = "Compress the file, split it, or leave it out and say in the README how to obtain it."

    def check(self, ctx):
        limit = ctx.options.max_file_bytes
        for entry in _entries(ctx):
            if entry.kind == FILE and entry.size > limit:
                yield self.finding(entry.path, f"file is {entry.size / 1048576:.1f} MiB, over the "
                                               f"{limit / 1048576:.0f} MiB limit")


@register
class PythonCache(Rule):
    id = "TREE103"
    name = "tree.python-cache"
    title = "No __pycache__ folders or .pyc files"
    severity = Severity.ERROR
    spec = f"{CHECKER}: __pycache__ folders are not allowed."
    rationale = "Compiled caches are machine-specific noise that can hide or contradict the source next to them."
    fix = "Delete them and add __pycache__/ and *.pyc to .gitignore."

    def check(self, ctx):
        reported: set[str] = set()
        for entry in _entries(ctx):
            if _under_any(entry.path, reported):
                continue
            if entry.kind == DIR and entry.name == "__pycache__":
                reported.add(entry.path)
                yield self.finding(entry.path, "__pycache__ folder")
            elif entry.kind == FILE and entry.name.endswith((".pyc", ".pyo")):
                yield self.finding(entry.path, "compiled Python file")


@register
class EmptyFolder(Rule):
    id = "TREE104"
    name = "tree.empty-folder"
    title = "No empty folders"
    severity = Severity.ERROR
    spec = f"{CHECKER}: empty directories are not allowed."
    rationale = ("An empty folder is usually a result that was meant to be there and is not; git does not "
                 "even keep it, so the published tree differs from the one submitted.")
    fix = "Put the missing files in the folder, or delete it."

    def check(self, ctx):
        index = ctx.tree.index
        has_content: set[str] = set()
        for entry in index:
            if entry.kind != DIR or entry.vcs_skipped:
                parts = entry.path.split("/")
                for i in range(len(parts) + 1):
                    has_content.add("/".join(parts[:i]) or ".")
        if "." not in has_content:
            yield self.finding(".", "the tree holds no files at all", "Point the command at a results tree.")
            return
        empty_below: dict[str, int] = defaultdict(int)
        for entry in index:
            if entry.kind == DIR and entry.path not in has_content:
                parts = entry.path.split("/")
                for i in range(1, len(parts)):
                    empty_below["/".join(parts[:i])] += 1
        for entry in index:
            if entry.kind != DIR or entry.path in has_content:
                continue
            parent = entry.path.rsplit("/", 1)[0] if "/" in entry.path else "."
            if parent in has_content:
                inner = empty_below.get(entry.path, 0)
                detail = f" (and {inner} empty folders inside it)" if inner else ""
                yield self.finding(entry.path, f"empty folder{detail}")


@register
class HiddenFile(Rule):
    id = "TREE105"
    name = "tree.hidden-entry"
    title = "No hidden files or folders"
    severity = Severity.WARNING
    spec = f"{CHECKER}: names starting with '.' are warned about."
    rationale = "Hidden files are invisible in most listings, so reviewers do not see what they hold."
    fix = "Delete the file, or rename it without the leading dot if it belongs to the submission."

    def check(self, ctx):
        reported: set[str] = set()
        for entry in _entries(ctx):
            if (not is_hidden(entry.name) or OS_JUNK.match(entry.name) or entry.name in VCS_DIRS
                    or _is_repo_metadata(ctx, entry) or _under_any(entry.path, reported)):
                continue
            if entry.is_dir:
                reported.add(entry.path)
            yield self.finding(entry.path, f"hidden {'folder' if entry.is_dir else 'file'} '{entry.name}'")


@register
class OsJunkFile(Rule):
    id = "TREE106"
    name = "tree.os-junk-file"
    title = "No operating-system or editor leftovers (._*, .DS_Store, ~$*, Thumbs.db)"
    severity = Severity.WARNING
    spec = f"{CHECKER}: names starting with '.' are warned about; layout of directory_structure.adoc."
    rationale = ("AppleDouble ._ files and Office ~$ lock files are copies of metadata, not results; "
                 "they look like results to naive tools (._log.txt next to log.txt).")
    fix = "Delete them; on macOS copy with `COPYFILE_DISABLE=1` or run `dot_clean`."

    def check(self, ctx):
        for entry in _entries(ctx):
            if OS_JUNK.match(entry.name):
                yield self.finding(entry.path, f"leftover file '{entry.name}'")


@register
class NameWithSpaces(Rule):
    id = "TREE107"
    name = "tree.name-with-spaces"
    title = "No spaces in file or folder names"
    severity = Severity.WARNING
    spec = f"{CHECKER}: names with spaces are warned about."
    rationale = "Spaces break unquoted shell scripts and many review tools."
    fix = "Replace spaces with underscores or hyphens."

    def check(self, ctx):
        for entry in _entries(ctx):
            if " " in entry.name.strip(" ") and unportable_reason(entry.raw_name) is None:
                yield self.finding(entry.path, f"name '{entry.name}' contains spaces",
                                   f"Rename it to '{entry.name.replace(' ', '_')}'.")


@register
class UnportableName(Rule):
    id = "TREE108"
    name = "tree.unportable-name"
    title = "Names work on Linux, macOS and Windows alike"
    severity = Severity.ERROR
    spec = "MLCommons results repositories are cloned on every operating system; names must survive that."
    rationale = ("A name with characters Windows refuses, bytes that are not UTF-8, or a twin that differs "
                 "only in case cannot be checked out everywhere: files silently go missing or overwrite each other.")
    fix = "Rename it with letters, digits, '.', '_' and '-' only."

    def check(self, ctx):
        index = ctx.tree.index
        for entry in _entries(ctx):
            reason = unportable_reason(entry.raw_name)
            if reason:
                yield self.finding(entry.path, f"name contains {reason}")
        for folder in index:
            if not folder.children:
                continue
            by_case: dict[str, list[str]] = defaultdict(list)
            for child in index.children(folder.path):
                by_case[child.name.lower()].append(child.name)
            for names in by_case.values():
                if len(names) > 1:
                    first = index.child(folder.path, names[0])
                    yield self.finding(first.path, f"names differ only in case: {', '.join(names)}",
                                       "Keep one of them; on Windows and macOS they are the same file.")


@register
class UnreadableEntry(Rule):
    id = "TREE109"
    name = "tree.unreadable-entry"
    title = "Every entry is a readable file or folder"
    severity = Severity.ERROR
    spec = "A submission is a tree of plain files and folders that reviewers can read."
    rationale = "A folder that cannot be listed, or a device, socket or pipe, hides content from every check."
    fix = "Fix the permissions (files readable, folders listable) or remove the special file."

    def check(self, ctx):
        for entry in ctx.tree.index:
            if entry.kind == UNREADABLE:
                yield self.finding(entry.path, f"cannot be read: {entry.error}")
            elif entry.kind == OTHER:
                yield self.finding(entry.path, "special file (device, socket or pipe), not a regular file")


@register
class NestedVcsFolder(Rule):
    id = "TREE110"
    name = "tree.nested-vcs-folder"
    title = "No version-control folders inside the submission"
    severity = Severity.WARNING
    spec = "Results are published as one git repository; a nested repository is not part of it."
    rationale = "A nested .git folder turns part of the tree into a submodule or a blob nobody can review."
    fix = "Remove the nested .git (or .hg/.svn) folder; keep only the files."

    def check(self, ctx):
        for entry in _entries(ctx):
            if entry.vcs_skipped and not (_is_repo_metadata(ctx, entry)):
                yield self.finding(entry.path, f"version-control folder '{entry.name}' (not walked)")
