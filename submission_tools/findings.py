"""Findings: what a rule reports about one place in a results tree."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One problem (or note) found by a rule.

    `path` is POSIX-style and relative to the checked root ("." for the root itself).
    `line`/`column` are 1-based and present only when the problem has a place inside a file.
    """

    rule: str
    severity: Severity
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    column: int | None = None
    claimed: Any = None
    recomputed: Any = None
    extra: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }
        if self.line is not None:
            out["line"] = self.line
        if self.column is not None:
            out["column"] = self.column
        if self.claimed is not None:
            out["claimed"] = self.claimed
        if self.recomputed is not None:
            out["recomputed"] = self.recomputed
        return out

    def sort_key(self) -> tuple:
        return (self.path, self.line or 0, self.severity.rank, self.rule, self.message)
