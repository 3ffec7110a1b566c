"""Where the bundled JSON Schemas and templates are, in a checkout and in an installed wheel.

They live at the top of the repository (schemas/, templates/); a wheel carries them under
submission_tools/_bundled/ (see pyproject.toml).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from submission_tools.errors import UsageError

_PACKAGE = Path(__file__).resolve().parent
SCHEMA_SUFFIX = ".schema.json"


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[0]


def schemas_dir() -> Path:
    return _first_existing(_PACKAGE.parent / "schemas", _PACKAGE / "_bundled" / "schemas")


def templates_dir() -> Path:
    return _first_existing(_PACKAGE.parent / "templates", _PACKAGE / "_bundled" / "templates")


def schema_names() -> list[str]:
    return sorted(p.name[: -len(SCHEMA_SUFFIX)] for p in schemas_dir().glob(f"*{SCHEMA_SUFFIX}"))


def schema_path(name: str) -> Path:
    name = name.removesuffix(SCHEMA_SUFFIX).removesuffix(".json")
    path = schemas_dir() / f"{name}{SCHEMA_SUFFIX}"
    if not path.is_file():
        raise UsageError(f"no bundled schema named '{name}'; choose one of: {', '.join(schema_names())}")
    return path


@lru_cache(maxsize=None)
def load_schema(name: str) -> dict:
    return json.loads(schema_path(name).read_text(encoding="utf-8"))
