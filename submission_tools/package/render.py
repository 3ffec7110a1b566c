"""The files `submit package` writes itself, from the Jinja2 templates in templates/.

Every generated file is a pure function of its data: sorted, no timestamps of the packaging run,
"\\n" line endings, so the same inputs always give the same bytes. Values are passed to the
templates as data (never compiled as templates), and each rendered file is parsed back and
compared with what was meant, so a value can never break its file.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import jinja2
import yaml

from submission_tools.resources import templates_dir
from submission_tools.rules.system_description import official_fields
from submission_tools.strictjson import parse_strict_json

CHECKSUMS = "MANIFEST.sha256"


class RenderError(RuntimeError):
    """A rendered file does not say what it was meant to (a bug in a template or here)."""


def yaml_scalar(value) -> str:
    """A YAML double-quoted scalar for any string (escapes whatever YAML cannot carry raw)."""
    return yaml.safe_dump(str(value), default_style='"', allow_unicode=True, width=1 << 30).rstrip("\n")


def md_cell(value) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(value).split()).replace("|", "\\|") or "–"


@lru_cache(maxsize=2)
def _environment(trim: bool) -> jinja2.Environment:
    """Templates of data files control their white space themselves; Markdown ones use trimmed blocks."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False, trim_blocks=trim, lstrip_blocks=trim)
    env.filters["yaml"] = yaml_scalar
    env.filters["cell"] = md_cell
    return env


def render_template(name: str, **data) -> str:
    return _environment(name.endswith(".md.j2")).get_template(name).render(**data)


def system_json(fields: dict) -> bytes:
    """systems/<id>.json with exactly the official fields, in the official order."""
    ordered = {name: fields.get(name, "") for name in official_fields()}
    text = render_template("system_description.json.j2", fields=ordered) + "\n"
    parsed = parse_strict_json(text)
    if parsed.duplicates or list(parsed.value) != list(ordered) or parsed.value != ordered:
        raise RenderError("the system description template did not reproduce its fields")
    return text.encode("utf-8")


def deviations_yaml(submitter: str, round_version: str, entries: list[dict]) -> bytes:
    """code/deviations.yaml of an open submission (schemas/deviations.schema.json)."""
    text = render_template("deviations.yaml.j2", submitter=submitter, round=round_version, entries=entries)
    expected = {"submitter": submitter, "deviations": [dict(entry) for entry in entries]}
    if yaml.safe_load(text) != expected:
        raise RenderError("the deviations template did not reproduce its entries")
    return text.encode("utf-8")


def models_yaml(entries: list[dict]) -> bytes:
    """code/models.yaml of a closed submission (schemas/model_manifest.schema.json)."""
    header = ("# Which model each closed result ran, written by `submit package` from the submission manifest.\n"
              "# Paths are relative to code/. Schema: `submit schema model_manifest`.\n")
    text = header + yaml.safe_dump({"models": entries}, sort_keys=False, allow_unicode=True, width=1 << 30)
    return text.encode("utf-8")


def readme(data: dict) -> bytes:
    text = render_template("submitter_README.md.j2", **data)
    return (text.rstrip("\n") + "\n").encode("utf-8")


def config_yaml(document) -> str:
    """A harness config as the README shows it (keys sorted, block style)."""
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, default_flow_style=False,
                          width=100).rstrip("\n")


def checksums(files: dict[str, str]) -> bytes:
    """MANIFEST.sha256 in `sha256sum` format: one '<sha256>  <path>' line per file, sorted by path
    (names holding a backslash or a newline are escaped as GNU sha256sum does)."""
    lines = []
    for path in sorted(files):
        digest = files[path]
        if "\\" in path or "\n" in path:
            lines.append("\\" + digest + "  " + path.replace("\\", "\\\\").replace("\n", "\\n"))
        else:
            lines.append(f"{digest}  {path}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def inputs_digest(inputs: list) -> str:
    """One sha256 for every input a session sent, in the order sent ('file offset bytes sha256' lines)."""
    digest = hashlib.sha256()
    for item in inputs:
        if isinstance(item, dict):
            digest.update(f"{item.get('file')}\t{item.get('offset')}\t{item.get('bytes')}\t"
                          f"{item.get('sha256')}\n".encode("utf-8"))
    return digest.hexdigest()
