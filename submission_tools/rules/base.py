"""What a rule is: a small class with a stable ID, its documentation, and a `check` method."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Iterable

from submission_tools.findings import Finding, Severity

if TYPE_CHECKING:
    from submission_tools.check import CheckContext

FAMILIES = {
    "TREE": "Layout and hygiene of the results tree",
    "SYS": "System description files",
    "RUN": "Runner and run provenance",
    "PERF": "Performance results recomputed from the logs",
    "ACC": "Accuracy results recomputed from the logs",
    "ENERGY": "Energy results recomputed from traces and samples",
    "SWW": "Streaming wakeword results",
    "MODEL": "Closed-division model equivalence",
    "OPEN": "Open-division deviations",
    "PKG": "Packaging of a submission",
}
_ID = re.compile(r"^(?P<family>[A-Z]+)(?P<number>\d{3})$")
# When a rule applies: `submit check` on a tree, or `submit package` on its inputs (PKG family).
CHECK = "check"
PACKAGE = "package"
STAGES = (CHECK, PACKAGE)


class RuleRegistryError(Exception):
    """A rule definition is inconsistent with the registry (a programming error)."""


class Rule:
    """Subclasses set every ClassVar below and implement `check`.

    `spec` cites the rule text enforced (MLPerf Tiny rules section, or the round's
    directory_structure); `rationale` says why it matters; `fix` says how to fix it and is
    the default hint of every finding. `stage` says which command applies the rule: "check"
    rules inspect a tree (`check` yields findings); "package" rules (the PKG family) are the
    refusals of `submit package`, raised while it reads its inputs, and find nothing in a tree.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    spec: ClassVar[str]
    rationale: ClassVar[str]
    fix: ClassVar[str]
    stage: ClassVar[str] = CHECK

    @property
    def family(self) -> str:
        return family_of(self.id)

    def check(self, ctx: "CheckContext") -> Iterable[Finding]:
        raise NotImplementedError

    def finding(self, path: str, message: str, hint: str | None = None,
                severity: Severity | None = None, **kwargs) -> Finding:
        return Finding(rule=self.id, severity=severity or self.severity, path=path,
                       message=message, hint=self.fix if hint is None else hint, **kwargs)


def results_txt_path(mode, scored) -> str:
    """Where a run's claims stand: its results.txt (under the name it was read from)."""
    return f"{mode.path}/{scored.run.files.get('results_txt', 'results.txt')}"


def family_of(rule_id: str) -> str:
    match = _ID.match(rule_id)
    if not match:
        raise RuleRegistryError(f"rule ID {rule_id!r} is not FAMILY + three digits")
    return match.group("family")


class Registry:
    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, cls: type[Rule]) -> type[Rule]:
        for attr in ("id", "name", "title", "severity", "spec", "rationale", "fix"):
            if not getattr(cls, attr, None):
                raise RuleRegistryError(f"rule {cls.__name__} has no {attr}")
        family = family_of(cls.id)
        if family not in FAMILIES:
            raise RuleRegistryError(f"rule {cls.id}: unknown family {family}")
        if cls.stage not in STAGES or (cls.stage == PACKAGE) != (family == "PKG"):
            raise RuleRegistryError(f"rule {cls.id}: stage {cls.stage!r}; PKG rules (and only they) "
                                    f"apply at the {PACKAGE!r} stage")
        if cls.id in self._rules:
            raise RuleRegistryError(
                f"duplicate rule ID {cls.id}: {cls.__name__} and {type(self._rules[cls.id]).__name__}")
        if any(r.name == cls.name for r in self._rules.values()):
            raise RuleRegistryError(f"duplicate rule name {cls.name} ({cls.id})")
        self._rules[cls.id] = cls()
        return cls

    def get(self, rule_id: str) -> Rule | None:
        return self._rules.get(rule_id.upper())

    def __iter__(self):
        return iter(sorted(self._rules.values(), key=lambda r: (list(FAMILIES).index(r.family), r.id)))

    def __len__(self) -> int:
        return len(self._rules)


REGISTRY = Registry()
register = REGISTRY.register
