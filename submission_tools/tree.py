"""The shape of a tiny_results tree: divisions, submitters, systems, benchmarks and mode folders.

Built from a TreeIndex only (names and kinds); nothing here opens a file. Names that the
round does not know (`enegy/`, `image_classification/`) are kept as they are so that rules
can flag them; this module does not judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from submission_tools.walk import TreeIndex, Entry, walk_tree

DIVISION_NAMES = ("closed", "open")
SUBMITTER_PARTS = ("systems", "results", "code")


@dataclass
class ModeDir:
    name: str
    entry: Entry
    files: dict[str, Entry]  # regular files directly inside, by name
    others: list[Entry]  # anything else directly inside (folders, links)

    @property
    def path(self) -> str:
        return self.entry.path


@dataclass
class BenchmarkDir:
    name: str
    entry: Entry
    modes: dict[str, ModeDir]  # every child folder, whatever its name
    files: dict[str, Entry]  # files directly in the benchmark folder (EEMBC_RUNNER marker)
    others: list[Entry]

    @property
    def path(self) -> str:
        return self.entry.path


@dataclass
class SystemResults:
    name: str
    entry: Entry
    benchmarks: dict[str, BenchmarkDir]
    files: dict[str, Entry]
    others: list[Entry]

    @property
    def path(self) -> str:
        return self.entry.path


@dataclass
class Submitter:
    name: str
    division: str  # folder name of the division ("" when the tree starts at the submitter)
    entry: Entry
    systems_dir: Entry | None
    results_dir: Entry | None
    code_dir: Entry | None
    system_files: dict[str, Entry]  # every entry directly in systems/, by name
    results: dict[str, SystemResults]  # results/<system_desc_id>
    results_files: list[Entry]  # non-folders directly in results/
    other_entries: list[Entry]  # entries of the submitter folder besides systems/results/code

    @property
    def path(self) -> str:
        return self.entry.path

    def system_json(self, system_id: str) -> Entry | None:
        entry = self.system_files.get(f"{system_id}.json")
        return entry if entry is not None and entry.is_file else None


@dataclass
class Division:
    name: str
    entry: Entry | None  # None when the tree starts inside a division
    submitters: list[Submitter] = field(default_factory=list)


@dataclass
class ResultsTree:
    """`layout` says where PATH sits: a results repository, one division, or one submitter."""

    root: Path
    index: TreeIndex
    layout: str
    divisions: list[Division]
    root_dirs: list[Entry]  # folders at the root that are not divisions (repository layout)

    @property
    def submitters(self) -> list[Submitter]:
        return [s for d in self.divisions for s in d.submitters]

    def systems(self):
        for submitter in self.submitters:
            for system in submitter.results.values():
                yield submitter, system

    def benchmarks(self):
        for submitter, system in self.systems():
            for bench in system.benchmarks.values():
                yield submitter, system, bench

    def modes(self):
        for submitter, system, bench in self.benchmarks():
            for mode in bench.modes.values():
                yield submitter, system, bench, mode


def _split(entries: list[Entry]) -> tuple[list[Entry], dict[str, Entry], list[Entry]]:
    folders = [e for e in entries if e.is_dir]
    files = {e.name: e for e in entries if e.is_file}
    others = [e for e in entries if not e.is_dir and not e.is_file]
    return folders, files, others


def _read_system(index: TreeIndex, entry: Entry) -> SystemResults:
    folders, files, others = _split(index.children(entry.path))
    benchmarks = {}
    for bench_entry in folders:
        mode_folders, bench_files, bench_others = _split(index.children(bench_entry.path))
        modes = {}
        for mode_entry in mode_folders:
            children = index.children(mode_entry.path)
            modes[mode_entry.name] = ModeDir(
                name=mode_entry.name, entry=mode_entry,
                files={e.name: e for e in children if e.is_file},
                others=[e for e in children if not e.is_file],
            )
        benchmarks[bench_entry.name] = BenchmarkDir(
            name=bench_entry.name, entry=bench_entry, modes=modes, files=bench_files, others=bench_others)
    return SystemResults(name=entry.name, entry=entry, benchmarks=benchmarks, files=files, others=others)


def _read_submitter(index: TreeIndex, entry: Entry, division: str) -> Submitter:
    parts = {e.name: e for e in index.children(entry.path)}
    systems_dir = parts.get("systems") if parts.get("systems") and parts["systems"].is_dir else None
    results_dir = parts.get("results") if parts.get("results") and parts["results"].is_dir else None
    code_dir = parts.get("code") if parts.get("code") and parts["code"].is_dir else None
    system_files = {e.name: e for e in index.children(systems_dir.path)} if systems_dir else {}
    results: dict[str, SystemResults] = {}
    results_files: list[Entry] = []
    if results_dir:
        for child in index.children(results_dir.path):
            if child.is_dir:
                results[child.name] = _read_system(index, child)
            else:
                results_files.append(child)
    known = {e.path for e in (systems_dir, results_dir, code_dir) if e is not None}
    return Submitter(
        name=entry.name, division=division, entry=entry, systems_dir=systems_dir,
        results_dir=results_dir, code_dir=code_dir, system_files=system_files, results=results,
        results_files=results_files, other_entries=[e for e in parts.values() if e.path not in known],
    )


def _looks_like_submitter(index: TreeIndex, entry: Entry) -> bool:
    names = {e.name for e in index.children(entry.path) if e.is_dir}
    return bool(names & {"systems", "results"})


def read_tree(root: Path, index: TreeIndex | None = None) -> ResultsTree:
    """Interpret `root` as a results repository, a division folder, or a submitter folder."""
    index = index or walk_tree(root)
    top = index.get(".")
    children = [e for e in index.children(".") if e.is_dir and not e.vcs_skipped]
    root_name = root.resolve().name

    if root_name in DIVISION_NAMES and not any(c.name in DIVISION_NAMES for c in children):
        division = Division(name=root_name, entry=None)
        division.submitters = [_read_submitter(index, c, root_name) for c in children]
        return ResultsTree(root, index, "division", [division], [])

    if _looks_like_submitter(index, top) and not any(c.name in DIVISION_NAMES for c in children):
        parent = root.resolve().parent.name
        division_name = parent if parent in DIVISION_NAMES else ""
        division = Division(name=division_name, entry=None)
        division.submitters = [_read_submitter(index, top, division_name)]
        return ResultsTree(root, index, "submitter", [division], [])

    divisions = []
    root_dirs = []
    for child in children:
        if child.name in DIVISION_NAMES:
            division = Division(name=child.name, entry=child)
            division.submitters = [
                _read_submitter(index, s, child.name) for s in index.children(child.path) if s.is_dir
                and not s.vcs_skipped
            ]
            divisions.append(division)
        else:
            root_dirs.append(child)
    return ResultsTree(root, index, "repository", divisions, root_dirs)
