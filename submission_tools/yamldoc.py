"""Reading the small YAML documents a submitter writes (model manifest, deviations)."""

from __future__ import annotations

import yaml

from submission_tools.textio import TextProblem, read_text


def load_yaml_document(os_path: str) -> tuple[object, str | None]:
    """(parsed document, None), or (None, why it cannot be read: with line and column for bad YAML)."""
    try:
        return yaml.safe_load(read_text(os_path, limit=1024 * 1024)), None
    except TextProblem as exc:
        return None, str(exc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        return None, f"is not valid YAML{where}: {getattr(exc, 'problem', exc)}"
