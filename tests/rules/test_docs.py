"""docs/rules.md is generated from the registry and must not go stale."""

from pathlib import Path

from submission_tools.rules import REGISTRY
from submission_tools.rules.docs import rules_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_rules_md_is_current():
    assert DOCS.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `submit rules --format markdown > docs/rules.md`")


def test_every_rule_is_documented_in_rules_md():
    text = DOCS.read_text(encoding="utf-8")
    for rule in REGISTRY:
        assert f'<a id="{rule.id.lower()}"></a>' in text
        assert rule.spec and rule.rationale and rule.fix
