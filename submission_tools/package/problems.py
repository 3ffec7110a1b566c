"""Problems with the inputs of `submit package` that stop it before it reads any further (exit 2):
each says where (file, line, place in the manifest), what is wrong, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from submission_tools.errors import InputError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the manifest: where, what, and how to fix it."""

    line: int | None
    where: str  # the place in the document, e.g. systems[0].benchmarks.kws
    message: str
    fix: str = ""
    file: str = ""  # another input the problem is in (a system description JSON); the manifest when empty

    def render(self, name: str) -> str:
        place = f"{self.file or name}:{self.line}" if self.line else (self.file or name)
        where = f" {self.where}:" if self.where else ""
        fix = f" Fix: {self.fix.rstrip('.')}." if self.fix else ""
        return f"{place}:{where} {self.message}.{fix}"


class ManifestError(InputError):
    """The manifest (or an input it names) cannot be used; the message lists every problem."""

    def __init__(self, name: str, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.where, p.message))
        count = len(self.problems)
        head = f"{name}: {count} problem{'s' if count != 1 else ''} in the submission manifest"
        super().__init__("\n".join([head] + ["  " + p.render(name) for p in self.problems]))
