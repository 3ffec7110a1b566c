"""The README quick start has exactly two commands, and CI runs the test one verbatim."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_has_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    assert "submit demo" in commands[0]
    assert "pytest" in commands[1]


def test_the_check_example_is_still_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "submit check examples/clean-submission" in readme


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _quick_start_commands()[1] in ci.splitlines()
    assert '"$status" -eq 5' in ci  # pytest's "no tests" must fail the suite
