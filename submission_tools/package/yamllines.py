"""YAML read twice: once for the values, once as nodes, so that every value has a line.

A key given twice in one mapping is a problem (PyYAML would silently keep the last one).
Paths are tuples of str keys and int indexes, as jsonschema's `absolute_path` gives them.
"""

from __future__ import annotations

import yaml

from submission_tools.package.problems import ManifestError, Problem


def load_yaml_with_lines(text: str, name: str) -> tuple[object, dict[tuple, int]]:
    """The document and the line of every value in it (key: the path of str keys and int indexes).
    A key given twice in one mapping is an error (PyYAML would silently keep the last)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ManifestError(name, [Problem(None, "", "the file is empty",
                                               "write the manifest (`submit schema submission_manifest`)")])
        lines: dict[tuple, int] = {}
        problems: list[Problem] = []
        _walk_nodes(node, (), lines, problems)
        if problems:
            raise ManifestError(name, problems)
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"is not valid YAML: {what}" + (f" ({context})" if context else "")
        raise ManifestError(name, [Problem(mark.line + 1 if mark else None, "", message,
                                           "check the indentation and quoting at that line")]) from None
    finally:
        loader.dispose()


def _walk_nodes(node, path: tuple, lines: dict, problems: list) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                problems.append(Problem(line, place_of(path),
                                        f"key '{key}' appears twice (lines {seen[key]} and {line})",
                                        "keep one of them"))
            seen[key] = line
            _walk_nodes(value_node, path + (key,), lines, problems)
            lines[path + (key,)] = line  # a value is reported at its key's line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, path + (index,), lines, problems)


def place_of(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def line_of(lines: dict, path: tuple) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)
