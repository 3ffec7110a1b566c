"""One pass over a results tree on disk: names, kinds and sizes, never file contents.

Symbolic links are recorded and never followed, `.git` folders are not entered, and a folder
that cannot be listed is recorded as unreadable instead of aborting the walk.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

FILE = "file"
DIR = "dir"
SYMLINK = "symlink"
OTHER = "other"  # sockets, fifos, devices: nothing a submission should hold
UNREADABLE = "unreadable"  # a folder we could not list

VCS_DIRS = {".git", ".hg", ".svn"}


def display_name(name: str) -> str:
    """A printable form of a file name; bytes that are not UTF-8 become \\xNN escapes."""
    raw = os.fsencode(name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


@dataclass
class Entry:
    path: str  # POSIX, relative to the root; "." is the root
    os_path: str  # what to hand to open()/stat()
    name: str  # display-safe last component
    raw_name: str  # the name as the OS returned it (may hold surrogate escapes)
    kind: str
    size: int = 0
    children: list[str] = field(default_factory=list)  # child paths, for folders
    error: str = ""  # why a folder is UNREADABLE
    vcs_skipped: bool = False  # a VCS folder whose contents were not walked

    @property
    def is_dir(self) -> bool:
        return self.kind in (DIR, UNREADABLE)

    @property
    def is_file(self) -> bool:
        return self.kind == FILE


class TreeIndex:
    """Every entry below a root, by relative path, in sorted walk order."""

    def __init__(self, root: Path, entries: dict[str, Entry]):
        self.root = root
        self.entries = entries

    def get(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def children(self, path: str) -> list[Entry]:
        entry = self.entries.get(path)
        if entry is None:
            return []
        return [self.entries[c] for c in entry.children]

    def child(self, path: str, name: str) -> Entry | None:
        return self.entries.get(join(path, name))

    def descendants(self, path: str) -> list[Entry]:
        """All entries strictly below `path`, in walk order."""
        out: list[Entry] = []
        stack = list(reversed(self.entries[path].children)) if path in self.entries else []
        while stack:
            entry = self.entries[stack.pop()]
            out.append(entry)
            stack.extend(reversed(entry.children))
        return out

    def __iter__(self):
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)


def join(parent: str, name: str) -> str:
    return name if parent == "." else f"{parent}/{name}"


def walk_tree(root: Path) -> TreeIndex:
    """Index `root` (a folder) without following any symbolic link."""
    root_os = os.fspath(root)
    entries: dict[str, Entry] = {}
    root_entry = Entry(path=".", os_path=root_os, name=display_name(root.name or root_os),
                       raw_name=root.name, kind=DIR)
    entries["."] = root_entry
    stack = [root_entry]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder.os_path) as it:
                listing = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            folder.kind = UNREADABLE
            folder.error = exc.strerror or str(exc)
            continue
        subfolders = []
        for item in listing:
            rel = join(folder.path, display_name(item.name))
            entry = Entry(path=rel, os_path=item.path, name=display_name(item.name),
                          raw_name=item.name, kind=OTHER)
            try:
                st = item.stat(follow_symlinks=False)
            except OSError as exc:
                entry.kind = UNREADABLE
                entry.error = exc.strerror or str(exc)
            else:
                if stat.S_ISLNK(st.st_mode):
                    entry.kind = SYMLINK
                elif stat.S_ISDIR(st.st_mode):
                    entry.kind = DIR
                    if item.name in VCS_DIRS:
                        entry.vcs_skipped = True
                    else:
                        subfolders.append(entry)
                elif stat.S_ISREG(st.st_mode):
                    entry.kind = FILE
                    entry.size = st.st_size
            entries[rel] = entry
            folder.children.append(rel)
        # Depth-first in name order keeps `entries` in a stable, readable order.
        stack.extend(reversed(subfolders))
    return TreeIndex(root, entries)
