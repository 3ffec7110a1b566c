"""Table-driven rule fixtures: build a results tree from a base ExampleSpec, then edit it.

A fixture file (tests/rules/fixtures/<RULE_ID>.yaml) looks like::

    rule: TREE005
    fail:
      - name: long benchmark name
        base: {round: v1.3}        # ExampleSpec overrides
        version: v1.3              # CheckOptions(version=...)
        max_file_mb: 1             # CheckOptions(max_file_bytes=...)
        ops:
          - rename: {from: "{sys}/ic", to: "{sys}/image_classification_resnet"}
        count: 1                   # exact number of findings of the rule
        lines: [5]                 # the findings' line numbers, sorted (None when a finding has none)
        message_contains: "..."    # some finding of the rule says this
        hint_contains: "..."       # some finding of the rule hints this
    pass:
      - name: ...
        ops: [...]

Every operation is a one-key mapping:

    write: {path, text}          write_bytes: {path, hex}       remove: path (file, link or folder)
    mkdir: path                  mkdirs: {path, count}          rename: {from, to}
    copy: {from, to}             replace: {path, old, new}      symlink: {path, target}
    sparse: {path, size}         chmod: {path, mode}            fifo: path
    json_set: {path, key, value} json_del: {path, key}

`write`, `write_bytes`, `rename`, `copy`, `symlink`, `sparse` and `fifo` create parent folders;
`mkdirs` makes `count` empty folders inside `path`; `replace` needs `old` exactly once;
`sparse` takes bytes or a number with B/KiB/MiB/GiB and only truncates (nothing is written);
`chmod` takes an octal string ("000") and marks the case as needing a non-root user;
`json_set`/`json_del` rewrite the file with json.dumps(indent=2). An op that finds nothing
to act on (removing a missing file) raises FixtureError, so stale fixtures fail loudly.

Paths are relative to the tree root and may use the placeholders {org}
(<division>/<submitter>), {sys} ({org}/results/<system>) and {systems} ({org}/systems). A path that is absolute, climbs out with '..', goes through a symbolic link
or would write through one is refused with ValueError: a fixture never touches anything
outside its tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from submission_tools.check import CheckOptions
from submission_tools.example_tree import ExampleSpec, build_example_tree

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "rules" / "fixtures"

BASE_KEYS = {"round", "runner", "benchmarks", "energy", "division", "submitter", "system", "system_fields"}
CASE_KEYS = {"name", "base", "version", "max_file_mb", "ops", "count", "lines", "message_contains",
             "hint_contains"}
FILE_KEYS = {"rule", "fail", "pass"}
_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$")
_UNITS = {None: 1, "B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
MIB = 1024 * 1024


class FixtureError(ValueError):
    """A fixture file or operation is malformed (a bug in the fixture, not in a rule)."""


@dataclass
class FixtureCase:
    rule: str
    kind: str  # "fail" or "pass"
    name: str
    source: Path
    base: dict = field(default_factory=dict)
    version: str | None = None
    max_file_mb: float | None = None
    ops: list = field(default_factory=list)
    count: int | None = None
    lines: list | None = None
    message_contains: str | None = None
    hint_contains: str | None = None

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.kind}-{self.name}"

    @property
    def needs_permissions(self) -> bool:
        """True when the case relies on file permissions, which root ignores."""
        return any("chmod" in op for op in self.ops)

    def spec(self) -> ExampleSpec:
        return example_spec(self.base)

    def options(self) -> CheckOptions:
        options = CheckOptions(version=self.version)
        if self.max_file_mb is not None:
            options.max_file_bytes = int(self.max_file_mb * MIB)
        return options


def example_spec(base: dict | None) -> ExampleSpec:
    base = dict(base or {})
    unknown = set(base) - BASE_KEYS
    if unknown:
        raise FixtureError(f"unknown base key(s) {sorted(unknown)}; allowed: {sorted(BASE_KEYS)}")
    for key in ("benchmarks", "energy"):
        if key in base:
            if not isinstance(base[key], list):
                raise FixtureError(f"base.{key} must be a list")
            base[key] = tuple(base[key])
    if "system_fields" in base and not isinstance(base["system_fields"], dict):
        raise FixtureError("base.system_fields must be a mapping")
    return ExampleSpec(**base)


# ---------------------------------------------------------------------------------------------
# Loading fixture files


def fixture_files(directory: Path = FIXTURES_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_fixture_file(path: Path) -> tuple[str, list[FixtureCase]]:
    """The rule a fixture file is about and its cases; FixtureError when it is malformed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise FixtureError(f"{path.name}: top level must be a mapping")
    unknown = set(data) - FILE_KEYS
    if unknown:
        raise FixtureError(f"{path.name}: unknown key(s) {sorted(unknown)}")
    rule = data.get("rule")
    if not isinstance(rule, str) or rule != path.stem:
        raise FixtureError(f"{path.name}: 'rule' must be the file's own name ({path.stem}), got {rule!r}")
    cases: list[FixtureCase] = []
    for kind in ("fail", "pass"):
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            raise FixtureError(f"{path.name}: '{kind}' must be a list")
        seen: set[str] = set()
        for raw in entries:
            case = _case(path, rule, kind, raw)
            if case.name in seen:
                raise FixtureError(f"{path.name}: two {kind} cases named {case.name!r}")
            seen.add(case.name)
            cases.append(case)
    return rule, cases


def _case(path: Path, rule: str, kind: str, raw: Any) -> FixtureCase:
    where = f"{path.name} ({kind})"
    if not isinstance(raw, dict):
        raise FixtureError(f"{where}: each case must be a mapping")
    unknown = set(raw) - CASE_KEYS
    if unknown:
        raise FixtureError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(CASE_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FixtureError(f"{where}: every case needs a 'name' string")
    if kind == "pass" and any(k in raw for k in ("count", "lines", "message_contains", "hint_contains")):
        raise FixtureError(f"{where} {name!r}: count/lines/message_contains/hint_contains only apply to fail cases")
    ops = raw.get("ops") or []
    if not isinstance(ops, list):
        raise FixtureError(f"{where} {name!r}: 'ops' must be a list")
    for op in ops:
        _validate_op(op, f"{where} {name!r}")
    count = raw.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise FixtureError(f"{where} {name!r}: 'count' must be a positive integer")
    lines = raw.get("lines")
    if lines is not None and not (isinstance(lines, list) and all(isinstance(n, int) or n is None for n in lines)):
        raise FixtureError(f"{where} {name!r}: 'lines' must be a list of line numbers")
    version = raw.get("version")
    if version is not None and not isinstance(version, str):
        raise FixtureError(f"{where} {name!r}: 'version' must be a string such as v1.3")
    max_mb = raw.get("max_file_mb")
    if max_mb is not None and (isinstance(max_mb, bool) or not isinstance(max_mb, (int, float)) or max_mb <= 0):
        raise FixtureError(f"{where} {name!r}: 'max_file_mb' must be a positive number")
    case = FixtureCase(rule=rule, kind=kind, name=name, source=path, base=raw.get("base") or {},
                       version=version, max_file_mb=max_mb, ops=ops, count=count, lines=lines,
                       message_contains=raw.get("message_contains"), hint_contains=raw.get("hint_contains"))
    case.spec()  # validates `base`
    return case


# ---------------------------------------------------------------------------------------------
# Operations

# op name -> (argument shape, required keys, optional keys); shape "str" takes a path string.
_OP_ARGS: dict[str, tuple[str, set[str], set[str]]] = {
    "write": ("map", {"path", "text"}, set()),
    "write_bytes": ("map", {"path", "hex"}, set()),
    "remove": ("str", set(), set()),
    "mkdir": ("str", set(), set()),
    "mkdirs": ("map", {"path", "count"}, set()),  # `count` empty folders inside `path`
    "rename": ("map", {"from", "to"}, set()),
    "copy": ("map", {"from", "to"}, set()),
    "replace": ("map", {"path", "old", "new"}, set()),  # `old` must occur exactly once
    "symlink": ("map", {"path", "target"}, set()),
    "sparse": ("map", {"path", "size"}, set()),
    "chmod": ("map", {"path", "mode"}, set()),
    "json_set": ("map", {"path", "key", "value"}, set()),
    "json_del": ("map", {"path", "key"}, set()),
    "fifo": ("str", set(), set()),
}


def _validate_op(op: Any, where: str) -> None:
    if not isinstance(op, dict) or len(op) != 1:
        raise FixtureError(f"{where}: each op is a mapping with exactly one key, got {op!r}")
    (name, args), = op.items()
    if name not in _OP_ARGS:
        raise FixtureError(f"{where}: unknown op {name!r}; known: {sorted(_OP_ARGS)}")
    shape, required, optional = _OP_ARGS[name]
    if shape == "str":
        if not isinstance(args, str):
            raise FixtureError(f"{where}: op {name} takes a path string, got {args!r}")
        return
    if not isinstance(args, dict):
        raise FixtureError(f"{where}: op {name} takes a mapping with {sorted(required)}, got {args!r}")
    missing, extra = required - set(args), set(args) - required - optional
    if missing or extra:
        raise FixtureError(f"{where}: op {name} needs {sorted(required)}; missing {sorted(missing)}, "
                           f"unknown {sorted(extra)}")
    if name == "chmod" and not (isinstance(args["mode"], str) and re.fullmatch(r"[0-7]{3,4}", args["mode"])):
        raise FixtureError(f"{where}: chmod mode must be an octal string such as \"000\" (quote it in YAML)")
    if name in ("write",) and not isinstance(args["text"], str):
        raise FixtureError(f"{where}: write text must be a string")
    if name == "mkdirs" and not (isinstance(args["count"], int) and args["count"] > 0):
        raise FixtureError(f"{where}: mkdirs count must be a positive integer")


def parse_size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise FixtureError(f"size {value!r} is not bytes or a number with B/KiB/MiB/GiB")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class BuiltTree:
    root: Path
    spec: ExampleSpec
    chmodded: list[tuple[Path, int]] = field(default_factory=list)

    def restore_permissions(self) -> None:
        """Undo chmod ops (innermost first) so pytest can delete the tree."""
        for path, mode in reversed(self.chmodded):
            try:
                os.chmod(path, mode)
            except OSError:
                pass
        self.chmodded.clear()


class TreeEditor:
    """Applies fixture operations to a tree, never outside it."""

    def __init__(self, root: Path, spec: ExampleSpec):
        self.root = root
        self.real_root = os.path.realpath(root)
        org = f"{spec.division}/{spec.submitter}"
        self.placeholders = {"{org}": org, "{sys}": f"{org}/results/{spec.system}",
                             "{systems}": f"{org}/systems"}
        self.chmodded: list[tuple[Path, int]] = []

    def expand(self, rel: str) -> str:
        for token, value in self.placeholders.items():
            rel = rel.replace(token, value)
        leftover = _PLACEHOLDER.search(rel)
        if leftover:
            raise FixtureError(f"unknown placeholder {leftover.group()} in {rel!r}; "
                               f"known: {', '.join(self.placeholders)}")
        return rel

    def resolve(self, rel: Any, *, link_ok: bool = False) -> Path:
        """The absolute path of `rel` inside the tree.

        ValueError when `rel` is absolute, climbs out of the tree, is the root itself or passes
        through a symbolic link; also when it names a symbolic link itself, unless `link_ok`
        (for ops that act on the link, not on what it points to: remove, rename's source).
        """
        if not isinstance(rel, str) or not rel.strip():
            raise ValueError(f"op path must be a non-empty string, got {rel!r}")
        rel = self.expand(rel)
        if "\x00" in rel:
            raise ValueError(f"op path {rel!r} holds a NUL byte")
        pure = PurePosixPath(rel)
        if pure.is_absolute() or rel.startswith("\\") or re.match(r"^[A-Za-z]:[\\/]", rel):
            raise ValueError(f"op path {rel!r} is absolute; paths are relative to the tree root")
        parts = [p for p in pure.parts if p != "."]
        if ".." in parts:
            raise ValueError(f"op path {rel!r} escapes the tree root")
        if not parts:
            raise ValueError(f"op path {rel!r} is the tree root itself")
        target = Path(self.root, *parts)
        parent_real = os.path.realpath(target.parent)
        if parent_real != self.real_root and not parent_real.startswith(self.real_root + os.sep):
            raise ValueError(f"op path {rel!r} escapes the tree root (through a symbolic link)")
        # A link anywhere in the parents would make later writes land behind it.
        probe = target.parent
        while probe != self.root:
            if probe.is_symlink():
                raise ValueError(f"op path {rel!r} goes through the symbolic link {probe}")
            probe = probe.parent
        if not link_ok and target.is_symlink():
            raise ValueError(f"op path {rel!r} is a symbolic link; writing would follow it")
        return target

    # -- the operations ------------------------------------------------------------------------

    def apply(self, ops: list) -> None:
        for op in ops:
            _validate_op(op, "op")
            (name, args), = op.items()
            getattr(self, f"op_{name}")(args)

    def op_write(self, args):
        path = self.resolve(args["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(args["text"])

    def op_write_bytes(self, args):
        path = self.resolve(args["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes.fromhex(str(args["hex"])))

    def op_remove(self, rel):
        path = self.resolve(rel, link_ok=True)
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            raise FixtureError(f"remove: {rel!r} does not exist (stale fixture?)")

    def op_mkdir(self, rel):
        path = self.resolve(rel)
        path.mkdir(parents=True, exist_ok=False)

    def op_mkdirs(self, args):
        path = self.resolve(args["path"])
        path.mkdir(parents=True, exist_ok=True)
        width = len(str(args["count"]))
        base = os.fspath(path)
        for i in range(args["count"]):
            os.mkdir(os.path.join(base, f"d{i:0{width}d}"))

    def op_rename(self, args):
        src = self.resolve(args["from"], link_ok=True)
        dst = self.resolve(args["to"])
        if not os.path.lexists(src):
            raise FixtureError(f"rename: {args['from']!r} does not exist (stale fixture?)")
        if os.path.lexists(dst):
            raise FixtureError(f"rename: {args['to']!r} already exists")
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dst)

    def op_copy(self, args):
        src = self.resolve(args["from"])
        dst = self.resolve(args["to"])
        if not src.exists():
            raise FixtureError(f"copy: {args['from']!r} does not exist (stale fixture?)")
        if os.path.lexists(dst):
            raise FixtureError(f"copy: {args['to']!r} already exists")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copyfile(src, dst)

    def op_replace(self, args):
        path = self.resolve(args["path"])
        text = path.read_text(encoding="utf-8")
        found = text.count(args["old"])
        if found != 1:
            raise FixtureError(f"replace: {args['old']!r} occurs {found} times in {args['path']!r}, expected once")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text.replace(args["old"], args["new"]))

    def op_symlink(self, args):
        path = self.resolve(args["path"])
        if os.path.lexists(path):
            raise FixtureError(f"symlink: {args['path']!r} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        # The target is only recorded in the link; nothing is written there.
        os.symlink(str(args["target"]), path)

    def op_sparse(self, args):
        path = self.resolve(args["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(parse_size(args["size"]))

    def op_chmod(self, args):
        path = self.resolve(args["path"])
        if not path.exists():
            raise FixtureError(f"chmod: {args['path']!r} does not exist")
        self.chmodded.append((path, stat.S_IMODE(path.stat().st_mode)))
        os.chmod(path, int(args["mode"], 8))

    def _load_json(self, args) -> tuple[Path, dict]:
        path = self.resolve(args["path"])
        value = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(value, dict):
            raise FixtureError(f"{args['path']!r}: json ops need a JSON object")
        return path, value

    def _dump_json(self, path: Path, value: dict) -> None:
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    def op_json_set(self, args):
        path, value = self._load_json(args)
        value[args["key"]] = args["value"]
        self._dump_json(path, value)

    def op_json_del(self, args):
        path, value = self._load_json(args)
        if args["key"] not in value:
            raise FixtureError(f"json_del: no key {args['key']!r} in {args['path']!r}")
        del value[args["key"]]
        self._dump_json(path, value)

    def op_fifo(self, rel):
        path = self.resolve(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)


def build_fixture_tree(tmp_path: Path, spec: ExampleSpec, ops: list) -> BuiltTree:
    """Build the clean tree of `spec` in tmp_path/tree and apply `ops` to it."""
    root = build_example_tree(tmp_path / "tree", spec)
    editor = TreeEditor(root, spec)
    built = BuiltTree(root=root, spec=spec, chmodded=editor.chmodded)
    try:
        editor.apply(ops)
    except BaseException:
        built.restore_permissions()
        raise
    return built
