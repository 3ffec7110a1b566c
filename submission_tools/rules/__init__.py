"""The rule registry; importing this package registers every rule family."""

from submission_tools.rules.base import FAMILIES, REGISTRY, Rule, RuleRegistryError, register

# Importing a family module registers its rules.
from submission_tools.rules import tree_layout, tree_hygiene, system_description, runner  # noqa: E402,F401

__all__ = ["FAMILIES", "REGISTRY", "Rule", "RuleRegistryError", "register"]
