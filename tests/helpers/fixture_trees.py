"""Table-driven rule fixtures: build a results tree from a base ExampleSpec, then edit it.

A fixture file (tests/rules/fixtures/<RULE_ID>.yaml) looks like::

    rule: TREE005
    fail:
      - name: long benchmark name
        base: {round: v1.3}        # ExampleSpec overrides (round, runner, benchmarks, energy,
                                   # accuracy_inputs, division, submitter, system, system_fields)
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

PKG rules are refusals of `submit package`, found in its inputs rather than in a tree; their
files say `stage: package` and run in tests/package/test_package_rule_fixtures.py. There the
base is turned into package inputs (helpers/package_inputs.py: sessions, code folders, documents
and a submission manifest), the ops edit those inputs, and `submit package` runs on them: a fail
case is refused with findings of exactly its rule, a pass case is written and passes the gate.

Every operation is a one-key mapping:

    write: {path, text}          write_bytes: {path, hex}       remove: path (file, link or folder)
    mkdir: path                  mkdirs: {path, count}          rename: {from, to}
    copy: {from, to}             replace: {path, old, new}      symlink: {path, target}
    sparse: {path, size}         chmod: {path, mode}            fifo: path
    json_set: {path, key, value} json_del: {path, key}
    json_pointer_set: {path, pointer, value}                json_pointer_del: {path, pointer}
    labels_remove: {set, file}                              labels_copy: {from, to}
    fake_secret: {path, kind}    (kind: private_key, github_token or aws_key)

`write`, `write_bytes`, `rename`, `copy`, `symlink`, `sparse` and `fifo` create parent folders;
`mkdirs` makes `count` empty folders inside `path`; `replace` needs `old` exactly once;
`sparse` takes bytes or a number with B/KiB/MiB/GiB and only truncates (nothing is written);
`chmod` takes an octal string ("000") and marks the case as needing a non-root user;
`json_set`/`json_del` rewrite the file with json.dumps(indent=2). `json_pointer_set` and
`json_pointer_del` do the same at an RFC 6901 pointer into any JSON document (a results.json list:
"/0/infer/end_time"); `json_pointer_set` replaces an existing member or list item, adds a new key
to an object, or appends to a list with "-", and never creates missing parents.
`fake_secret` writes a made-up credential of that kind, assembled at run time, so that no file
of this repository looks like a key. `labels_remove` and `labels_copy` edit the stand-in reference checkout (the --reference of every
case), not the tree: `set` is a label-set key of reference_digests.yaml (kws01, ad01, ad01_alt,
...), whose y_labels.csv loses the row of `file`, or is copied to the place of another set.
An op that finds nothing to act on (removing a missing file or row) raises FixtureError, so stale
fixtures fail loudly.

Paths are relative to the tree root and may use the placeholders {org}
(<division>/<submitter>), {sys} ({org}/results/<system>) and {systems} ({org}/systems); in
package-stage files they are relative to the inputs' root, with {sessions}
(sessions/<system>), {code} (code) and {docs} (docs). A path that is absolute, climbs out with '..', goes through a symbolic link
or would write through one is refused with ValueError: a fixture never touches anything
outside its tree, except the label files of its own stand-in reference (labels_* ops).
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

from helpers.shared import shared_path
from submission_tools.check import CheckOptions
from submission_tools.example_tree import ExampleSpec, build_example_tree, write_example_reference
from submission_tools.reference import known_digests

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "rules" / "fixtures"

BASE_KEYS = {"round", "runner", "benchmarks", "energy", "division", "submitter", "system", "system_fields",
             "accuracy_inputs"}
CASE_KEYS = {"name", "base", "version", "max_file_mb", "ops", "count", "lines", "message_contains",
             "hint_contains", "also"}
FILE_KEYS = {"rule", "stage", "fail", "pass"}
STAGES = ("check", "package")
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
    # Rules that the cause of a failing case necessarily triggers too (each must be justified in
    # the fixture); the case still fails unless its own rule fires and nothing else does.
    also: list[str] = field(default_factory=list)
    stage: str = "check"  # "package": a refusal of `submit package`, run on package inputs

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
    inputs = base.get("accuracy_inputs")
    if inputs is not None and (not isinstance(inputs, int) or isinstance(inputs, bool) or inputs < 1):
        raise FixtureError("base.accuracy_inputs must be a positive integer")
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
    stage = data.get("stage", "check")
    if stage not in STAGES:
        raise FixtureError(f"{path.name}: 'stage' must be one of {', '.join(STAGES)}, got {stage!r}")
    if (stage == "package") != rule.startswith("PKG"):
        raise FixtureError(f"{path.name}: PKG rules (and only they) have stage: package")
    cases: list[FixtureCase] = []
    for kind in ("fail", "pass"):
        entries = data.get(kind) or []
        if not isinstance(entries, list):
            raise FixtureError(f"{path.name}: '{kind}' must be a list")
        seen: set[str] = set()
        for raw in entries:
            case = _case(path, rule, kind, raw)
            case.stage = stage
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
    also = raw.get("also") or []
    if not (isinstance(also, list) and all(isinstance(r, str) and r != rule for r in also)) or (
            also and kind != "fail"):
        raise FixtureError(f"{where} {name!r}: 'also' lists other rule IDs, and only in failing cases")
    case = FixtureCase(rule=rule, kind=kind, name=name, source=path, base=raw.get("base") or {},
                       version=version, max_file_mb=max_mb, ops=ops, count=count, lines=lines,
                       message_contains=raw.get("message_contains"), hint_contains=raw.get("hint_contains"),
                       also=also)
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
    "json_pointer_set": ("map", {"path", "pointer", "value"}, set()),
    "json_pointer_del": ("map", {"path", "pointer"}, set()),
    "labels_remove": ("map", {"set", "file"}, set()),  # edits the stand-in reference, not the tree
    "labels_copy": ("map", {"from", "to"}, set()),
    "fifo": ("str", set(), set()),
    "fake_secret": ("map", {"path", "kind"}, set()),
    # Real models from ../shared (the case is skipped without it): the reference .tflite files copied
    # into the stand-in reference checkout, and a simulated submission (helpers.model_variants)
    # written into the tree; `case` is a row of model-equivalence.md 1.5 (A0 = the int8 file itself).
    "reference_models": ("map", set(), set()),
    "model_variant": ("map", {"benchmark", "case", "to"}, set()),
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
    if name.startswith("json_pointer_") and not (isinstance(args["pointer"], str)
                                                 and args["pointer"].startswith("/")):
        raise FixtureError(f"{where}: {name} pointer must be an RFC 6901 pointer such as \"/0/infer\"")
    if name == "fake_secret" and args["kind"] not in FAKE_SECRETS:
        raise FixtureError(f"{where}: fake_secret kind must be one of {sorted(FAKE_SECRETS)}")
    if name.startswith("labels_"):
        for key in ("set", "from", "to"):
            if key in args and (not isinstance(args[key], str) or args[key] not in _label_set_paths()):
                raise FixtureError(f"{where}: {name} {key} {args[key]!r} is not a label set; "
                                   f"known: {sorted(_label_set_paths())}")
        if name == "labels_remove" and not (isinstance(args["file"], str) and args["file"].strip()):
            raise FixtureError(f"{where}: labels_remove file must be an input file name")
        if name == "labels_copy" and args["from"] == args["to"]:
            raise FixtureError(f"{where}: labels_copy from and to are the same set")


def _label_set_paths() -> dict[str, str]:
    """Label-set key -> its y_labels.csv path inside a reference checkout."""
    return {key: spec["path"] for key, spec in known_digests()["label_sets"].items()}


def _pointer_tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


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
    reference: Path | None = None  # a stand-in mlcommons/tiny checkout labelling the example inputs

    def restore_permissions(self) -> None:
        restore_permissions(self.chmodded)


def restore_permissions(chmodded: list[tuple[Path, int]]) -> None:
    """Undo chmod ops (innermost first) so pytest can delete the tree; empties `chmodded`."""
    for path, mode in reversed(chmodded):
        try:
            os.chmod(path, mode)
        except OSError:
            pass
    chmodded.clear()


class TreeEditor:
    """Applies fixture operations to a tree, never outside it."""

    def __init__(self, root: Path, spec: ExampleSpec, reference: Path | None = None):
        self.root = root
        self.reference = reference  # the stand-in checkout the labels_* ops edit
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

    def _pointer_parent(self, args) -> tuple[Path, Any, Any, str]:
        """(file, whole document, container of the pointed-to member, last token)."""
        path = self.resolve(args["path"])
        document = json.loads(path.read_text(encoding="utf-8"))
        *parents, last = _pointer_tokens(args["pointer"])
        container = document
        for token in parents:
            container = self._step(container, token, args)
        if not isinstance(container, (dict, list)):
            raise FixtureError(f"{args['path']!r}: {args['pointer']!r} points inside a JSON scalar")
        return path, document, container, last

    @staticmethod
    def _index(container: list, token: str, args) -> int:
        if not re.fullmatch(r"0|[1-9][0-9]*", token) or int(token) >= len(container):
            raise FixtureError(f"{args['path']!r}: no list item {token!r} for pointer {args['pointer']!r} "
                               f"(the list has {len(container)})")
        return int(token)

    def _step(self, container, token: str, args):
        if isinstance(container, dict):
            if token not in container:
                raise FixtureError(f"{args['path']!r}: no key {token!r} for pointer {args['pointer']!r}")
            return container[token]
        if isinstance(container, list):
            return container[self._index(container, token, args)]
        raise FixtureError(f"{args['path']!r}: {args['pointer']!r} points inside a JSON scalar")

    def op_json_pointer_set(self, args):
        path, document, container, last = self._pointer_parent(args)
        if isinstance(container, dict):
            container[last] = args["value"]
        elif last == "-":
            container.append(args["value"])
        else:
            container[self._index(container, last, args)] = args["value"]
        self._dump_json(path, document)

    def op_json_pointer_del(self, args):
        path, document, container, last = self._pointer_parent(args)
        if isinstance(container, dict):
            if last not in container:
                raise FixtureError(f"json_pointer_del: no key {last!r} in {args['path']!r} at {args['pointer']!r}")
            del container[last]
        else:
            del container[self._index(container, last, args)]
        self._dump_json(path, document)

    def _label_file(self, key: str) -> Path:
        if self.reference is None:
            raise FixtureError("labels ops need the stand-in reference checkout; this editor has none")
        return self.reference / _label_set_paths()[key]

    def op_labels_remove(self, args):
        path = self._label_file(args["set"])
        if not path.is_file():
            raise FixtureError(f"labels_remove: the reference has no {args['set']} label set")
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if line.split(",")[0].strip() != args["file"]]
        if len(kept) != len(lines) - 1:
            raise FixtureError(f"labels_remove: {args['file']!r} is named {len(lines) - len(kept)} times in "
                               f"{args['set']}, expected once")
        path.write_text("".join(kept), encoding="utf-8")

    def op_labels_copy(self, args):
        src, dst = self._label_file(args["from"]), self._label_file(args["to"])
        if not src.is_file():
            raise FixtureError(f"labels_copy: the reference has no {args['from']} label set")
        if os.path.lexists(dst):
            raise FixtureError(f"labels_copy: the reference already has a {args['to']} label set")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)

    def op_reference_models(self, _args):
        if self.reference is None:
            raise FixtureError("reference_models needs the stand-in reference checkout; this editor has none")
        digests = known_digests()["models"]
        source = shared_path("data", "mlperf_tiny")
        for spec in digests.values():
            target = self.reference / spec["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / spec["path"], target)

    def op_model_variant(self, args):
        from helpers.model_variants import simulate
        dst = self.resolve(args["to"])
        if os.path.lexists(dst):
            raise FixtureError(f"model_variant: {args['to']!r} already exists")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(simulate(args["benchmark"], args["case"]))

    def op_fake_secret(self, args):
        path = self.resolve(args["path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fake_secret(args["kind"]), encoding="utf-8")

    def op_fifo(self, rel):
        path = self.resolve(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)


def fake_secret(kind: str) -> str:
    """A made-up credential; the markers are joined here so that no source file looks like a key."""
    import base64
    import random
    rng = random.Random(kind)
    if kind == "private_key":
        body = base64.b64encode(bytes(rng.randrange(256) for _ in range(180))).decode()
        label = "OPENSSH " + "PRIVATE" + " KEY"
        return "-----" + "BEGIN " + label + "-----\n" + "\n".join(
            body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----" + "END " + label + "-----\n"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    if kind == "github_token":
        return "token = '" + "gh" + "p_" + "".join(rng.choice(alphabet) for _ in range(36)) + "'\n"
    if kind == "aws_key":
        return "aws_access_key_id = " + "AK" + "IA" + "".join(rng.choice(alphabet[:26] + "0123456789")
                                                             for _ in range(16)) + "\n"
    raise FixtureError(f"unknown fake secret kind {kind!r}")


FAKE_SECRETS = ("private_key", "github_token", "aws_key")


def build_fixture_tree(tmp_path: Path, spec: ExampleSpec, ops: list) -> BuiltTree:
    """Build the clean tree of `spec` in tmp_path/tree and apply `ops` to it."""
    root = build_example_tree(tmp_path / "tree", spec)
    reference = write_example_reference(tmp_path / "reference", spec)
    editor = TreeEditor(root, spec, reference)
    built = BuiltTree(root=root, spec=spec, chmodded=editor.chmodded, reference=reference)
    try:
        editor.apply(ops)
    except BaseException:
        built.restore_permissions()
        raise
    return built
