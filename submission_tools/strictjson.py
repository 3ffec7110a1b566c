"""JSON parsing that reports what `json.load` hides: duplicate keys (both places), keys with
stray white space, NaN/Infinity, and errors with line and column.

The standard parser decides validity; a small tokenizer then finds where each object key
stands, which is all the stdlib cannot tell us.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.S)


class JsonProblem(Exception):
    """The text is not valid strict JSON; `line`/`column` are 1-based."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class KeyPlace:
    key: str
    pointer: str  # JSON pointer of the object holding the key ("" for the top level)
    line: int
    column: int


@dataclass(frozen=True)
class DuplicateKey:
    """A key given twice in one object; readers keep `second_value` and lose `first_value`."""

    first: KeyPlace
    second: KeyPlace
    first_value: Any
    second_value: Any


@dataclass
class ParsedJson:
    value: Any
    keys: list[KeyPlace] = field(default_factory=list)
    duplicates: list[DuplicateKey] = field(default_factory=list)

    def last_place(self, key: str, pointer: str = "") -> KeyPlace | None:
        """Where the occurrence of `key` that readers keep (the last one) stands."""
        found = None
        for place in self.keys:
            if place.pointer == pointer and place.key == key:
                found = place
        return found


class _Pairs(list):
    """An object as its (key, value) pairs in order, duplicates included."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def parse_strict_json(text: str) -> ParsedJson:
    """Parse `text`; raise JsonProblem when it is not strict JSON."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonProblem(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:  # NaN / Infinity
        line, col = _locate(text, re.search(r"NaN|-?Infinity", text))
        raise JsonProblem(str(exc), line, col) from None
    except RecursionError:
        raise JsonProblem("nesting is too deep to parse") from None
    keys = _key_places(text)
    pairs_tree = json.loads(text, object_pairs_hook=_Pairs) if _has_duplicates(keys) else None
    return ParsedJson(value=value, keys=keys, duplicates=_duplicates(keys, pairs_tree))


def _locate(text: str, match: re.Match | None) -> tuple[int | None, int | None]:
    if match is None:
        return None, None
    offset = match.start()
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _key_places(text: str) -> list[KeyPlace]:
    """Where every object key stands. `text` is already known to be valid JSON."""
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
    places: list[KeyPlace] = []
    # Each frame: [kind, pointer, expecting_key, last_key, array_index]; one per open container.
    stack: list[list] = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        top = stack[-1] if stack else None
        if tok in "{[":
            if top is None:
                pointer = ""
            elif top[0] == "obj":
                pointer = f"{top[1]}/{_escape_pointer(top[3])}"
            else:
                pointer = f"{top[1]}/{top[4]}"
            stack.append(["obj" if tok == "{" else "arr", pointer, tok == "{", "", 0])
        elif tok in "}]":
            stack.pop()
        elif tok == ",":
            if top is not None:
                if top[0] == "obj":
                    top[2] = True
                else:
                    top[4] += 1
        elif tok.startswith('"') and top is not None and top[0] == "obj" and top[2]:
            key = json.loads(tok)
            line = bisect.bisect_right(line_starts, m.start())
            column = m.start() - line_starts[line - 1] + 1
            places.append(KeyPlace(key, top[1], line, column))
            top[2] = False
            top[3] = key
    return places


def _has_duplicates(keys: list[KeyPlace]) -> bool:
    return len({(k.pointer, k.key) for k in keys}) != len(keys)


def _object_at(pairs_tree: Any, pointer: str) -> Any:
    node = pairs_tree
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, _Pairs):
            node = [v for k, v in node if k == token][-1]
        elif isinstance(node, list):
            node = node[int(token)]
    return node


def _plain(value: Any) -> Any:
    """A _Pairs tree back to ordinary values (last duplicate wins, as json.loads does)."""
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _duplicates(keys: list[KeyPlace], pairs_tree: Any) -> list[DuplicateKey]:
    places: dict[tuple[str, str], list[KeyPlace]] = {}
    for place in keys:
        places.setdefault((place.pointer, place.key), []).append(place)
    dups = []
    for (pointer, key), found in places.items():
        if len(found) < 2:
            continue
        try:
            values = [_plain(v) for k, v in _object_at(pairs_tree, pointer) if k == key]
        except (IndexError, ValueError, TypeError):
            values = []
        for i in range(1, len(found)):
            first_value = values[0] if len(values) == len(found) else None
            second_value = values[i] if len(values) == len(found) else None
            dups.append(DuplicateKey(found[0], found[i], first_value, second_value))
    dups.sort(key=lambda d: (d.second.line, d.second.column))
    return dups
