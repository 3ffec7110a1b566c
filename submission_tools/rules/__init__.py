"""The rule registry; importing this package registers every rule family."""

from submission_tools.rules.base import FAMILIES, REGISTRY, Rule, RuleRegistryError, register

# Importing a family module registers its rules.
from submission_tools.rules import (  # noqa: E402,F401
    tree_layout, tree_hygiene, system_description, runner, performance, accuracy, energy, sww, open_division,
    model, packaging,
)

__all__ = ["FAMILIES", "REGISTRY", "Rule", "RuleRegistryError", "register"]
