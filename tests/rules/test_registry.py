"""The rule registry: stable IDs, no duplicates, every attribute present."""

import pytest

from submission_tools.findings import Severity
from submission_tools.rules import REGISTRY
from submission_tools.rules.base import FAMILIES, Registry, Rule, RuleRegistryError


def _rule(rule_id: str, name: str, **overrides) -> type[Rule]:
    attrs = dict(id=rule_id, name=name, title="t", severity=Severity.ERROR, spec="s", rationale="r", fix="f",
                 check=lambda self, ctx: iter(()))
    attrs.update(overrides)
    return type(f"Rule{rule_id}", (Rule,), attrs)


def test_duplicate_ids_are_rejected():
    registry = Registry()
    registry.register(_rule("TREE900", "tree.one"))
    with pytest.raises(RuleRegistryError, match="duplicate rule ID TREE900"):
        registry.register(_rule("TREE900", "tree.two"))


def test_duplicate_names_bad_ids_and_missing_docs_are_rejected():
    registry = Registry()
    registry.register(_rule("TREE900", "tree.one"))
    with pytest.raises(RuleRegistryError, match="duplicate rule name"):
        registry.register(_rule("TREE901", "tree.one"))
    with pytest.raises(RuleRegistryError, match="three digits"):
        registry.register(_rule("TREE9", "tree.nine"))
    with pytest.raises(RuleRegistryError, match="unknown family"):
        registry.register(_rule("FOO001", "foo.one"))
    with pytest.raises(RuleRegistryError, match="has no fix"):
        registry.register(_rule("TREE902", "tree.two", fix=""))


def test_registered_rules_are_consistent():
    ids = [rule.id for rule in REGISTRY]
    assert len(ids) == len(set(ids)) == len(REGISTRY)
    for rule in REGISTRY:
        assert rule.family in FAMILIES
        assert rule.name.split(".")[0] == rule.family.lower()
        assert isinstance(rule.severity, Severity)


def test_pkg_rules_and_only_they_apply_when_packaging():
    registry = Registry()
    with pytest.raises(RuleRegistryError, match="PKG rules"):
        registry.register(_rule("PKG900", "pkg.check-stage"))
    with pytest.raises(RuleRegistryError, match="PKG rules"):
        registry.register(_rule("TREE900", "tree.package-stage", stage="package"))
    registry.register(_rule("PKG901", "pkg.package-stage", stage="package"))
    assert {rule.stage for rule in REGISTRY if rule.family == "PKG"} == {"package"}
    assert {rule.stage for rule in REGISTRY if rule.family != "PKG"} == {"check"}
