"""Which round a tree belongs to, from what the tree says about itself.

Evidence, strongest first: the repository README title ("MLPerf Tiny v1.1 results"), the
round named in the submission checklist file names, directory_structure.adoc, and the name
of the folder itself (tiny_results_v1.1). The first source that names a round decides.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from submission_tools.rulesets import (
    OLDER_ROUNDS, SUPPORTED_ROUNDS, load_ruleset, nearest_supported, normalise_version, Ruleset,
)
from submission_tools.textio import TextProblem, read_text
from submission_tools.tree import ResultsTree

_README_TITLE = re.compile(r"MLPerf\W{0,3}\s*Tiny\s+v?(\d+\.\d+)\b", re.I)
_CHECKLIST_VERSION = re.compile(r"v(\d+)\.?(\d+)", re.I)
_ADOC_CHECKLIST = re.compile(r"TinyMLPerf_v(\d+\.\d+)_Submission_Checklist", re.I)
_FOLDER_VERSION = re.compile(r"(?:^|[_\-])v(\d+\.\d+)$", re.I)


@dataclass(frozen=True)
class RoundChoice:
    ruleset: Ruleset
    detected: str | None  # the round the tree names, when it names one
    source: str  # how the choice was made, in words
    note: str  # said to the user next to the verdict

    def to_dict(self) -> dict:
        return {"version": self.ruleset.version, "detected": self.detected,
                "source": self.source, "note": self.note}


def _root_text(tree: ResultsTree, name: str) -> str | None:
    """A small text file at the root of the tree, or None when absent or unreadable."""
    entry = tree.index.get(name)
    if entry is None or not entry.is_file:
        return None
    try:
        return read_text(entry.os_path, limit=1024 * 1024)
    except TextProblem:
        return None


def _from_readme(tree: ResultsTree) -> tuple[str, str] | None:
    text = _root_text(tree, "README.md")
    if text is None:
        return None
    for line in text.splitlines()[:5]:
        match = _README_TITLE.search(line)
        if match and line.lstrip().startswith("#"):
            return match.group(1), f"README.md title \"{line.strip('# ').strip()}\""
    return None


def _from_checklists(tree: ResultsTree) -> tuple[str, str] | None:
    votes: Counter[str] = Counter()
    for submitter in tree.submitters:
        for name in submitter.system_files:
            if "checklist" in name.lower():
                match = _CHECKLIST_VERSION.search(name)
                if match:
                    votes[f"{match.group(1)}.{match.group(2)}"] += 1
    if not votes:
        return None
    version, count = votes.most_common(1)[0]
    return version, f"submission checklist names ({count} of {sum(votes.values())} name v{version})"


def _from_adoc(tree: ResultsTree) -> tuple[str, str] | None:
    text = _root_text(tree, "directory_structure.adoc")
    if text is None:
        return None
    found = Counter(_ADOC_CHECKLIST.findall(text))
    if not found:
        return None
    version = max(found, key=lambda v: tuple(int(p) for p in v.split(".")))
    return version, "directory_structure.adoc"


def _from_folder_name(tree: ResultsTree) -> tuple[str, str] | None:
    name = tree.root.resolve().name
    match = _FOLDER_VERSION.search(name)
    return (match.group(1), f"folder name \"{name}\"") if match else None


def _choice(version: str, source: str, how: str) -> RoundChoice:
    if version in SUPPORTED_ROUNDS:
        return RoundChoice(load_ruleset(version), version, source, f"round {version} {how}")
    nearest = nearest_supported(version)
    older = " (an older round)" if version in OLDER_ROUNDS else ""
    return RoundChoice(
        load_ruleset(nearest), version, source,
        f"round {version}{older} {how}; there is no rule set for it, so it is checked with the "
        f"nearest one, {nearest}")


def choose_round(tree: ResultsTree, requested: str | None) -> RoundChoice:
    if requested:
        version = normalise_version(requested)
        if version not in SUPPORTED_ROUNDS and version not in OLDER_ROUNDS:
            load_ruleset(version)  # raises the usage error that lists the supported rounds
        return _choice(version, "--version", "selected by --version")
    for source in (_from_readme, _from_checklists, _from_adoc, _from_folder_name):
        found = source(tree)
        if found is not None:
            version, how = found
            return _choice(normalise_version(version), how, f"detected from {how}")
    latest = SUPPORTED_ROUNDS[-1]
    return RoundChoice(load_ruleset(latest), None, "default",
                       f"the tree does not name its round; checked with the latest rule set, {latest} "
                       f"(pass --version to choose)")
