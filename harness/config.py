"""The harness configuration: what `submit run` measures, with which devices, and how.

Here live the dataclasses every part of the harness reads (`DeviceSpec`, `ModeSpec`, `VirtualSpec`,
`HarnessConfig`), `load_config` for our own YAML (schemas/harness_config.schema.json), the mode names
the CLI accepts (`normalise_mode`), and `YamlDoc`, a YAML document that remembers where each value
came from, so that every problem is reported with the file, line and column to fix. The MLCommons
runner's devices/tests YAML files are read into the same dataclasses by `harness.mlc_config`.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions
import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from submission_tools.errors import InputError, UsageError
from submission_tools.resources import load_schema
from submission_tools.textio import TextProblem, read_text

SCHEMA_NAME = "harness_config"
SCHEMA_HINT = "the format: `submit schema harness_config`"

# A harness config is a few hundred bytes; anything this big is the wrong file (a dataset, a log).
MAX_CONFIG_BYTES = 1024 * 1024
# Values visited while checking one document: bounds YAML alias bombs ("billion laughs").
MAX_YAML_VALUES = 200_000
MAX_YAML_DEPTH = 64

BENCHMARKS = ("kws01", "vww01", "ic01", "ic02", "ad01", "sww01")
MODES = ("performance", "accuracy", "energy", "streaming")
_MODE_ALIASES = {
    "performance": "performance", "p": "performance",
    "accuracy": "accuracy", "a": "accuracy",
    "energy": "energy", "e": "energy",
    "streaming": "streaming", "sww": "streaming",
}
# Model strings a DUT may report for a benchmark other than its own name: the ic02 firmware of the
# MLCommons tests yaml reports ic01 (its entry says `model: ic01`), and internally_implemented.h
# still defines strww01 for the streaming wakeword (protocol.md 1.7).
MODEL_ALIASES = {"ic02": ("ic01",), "sww01": ("strww01",)}

DEFAULT_TRUTH_FILE = "y_labels.csv"
SWW_TRUTH_FILE = "sww_long_test.json"
DB_PREFIX = "db "  # a download chunk is `db <hex>`; the hex must fit the DUT buffer after it

# Defaults of every optional key (the schema's descriptions say the same; a test keeps them equal).
DUT_BAUD = {"performance": 115200, "accuracy": 115200, "energy": 9600}
INTERFACE_BAUD = 115200
MONITOR_BAUD = 3686400
COMMAND_BUFFER = 80
# USB ids the MLCommons runner's devices yaml gives each known board (benchmark/runner/devices_*.yaml).
KNOWN_USB: dict[str, list[tuple[int, int]]] = {
    "stm32h573i-dk": [(0x0483, 0x374E)],
    "arduino": [(0x2341, 0x0043), (0x2341, 0x0001), (0x2A03, 0x0043), (0x2A03, 0x0243)],
    "lpm01a": [(0x0483, 0x5740)],
    "js220": [(0x16D0, 0x10BA)],
}
JS220_RATES = {"raw_sampling_rate": 1_000_000, "virtual_sampling_rate": 1000}
POWER_MW = {"idle": 6.0, "uart": 8.0, "infer": 24.0}


def normalise_mode(text: str) -> str:
    """The canonical mode name for what the CLI accepts: performance/p, accuracy/a, energy/e,
    streaming/sww (any case)."""
    key = str(text).strip().lower()
    if key in _MODE_ALIASES:
        return _MODE_ALIASES[key]
    raise UsageError(f"unknown mode '{text}'; choose one of performance (p), accuracy (a), "
                     f"energy (e), streaming (sww)")


# ----------------------------------------------------------------------------------------------
# The dataclasses


@dataclass
class DeviceSpec:
    """One device of the bench. `port` None means: find it (by USB ids, and for a DUT by its name);
    "virtual" means the built-in virtual device. `baud` has one entry per mode (for an interface
    board or a monitor the same rate in each). `usb` lists (VID, PID) pairs."""

    name: str
    kind: str  # 'dut' | 'interface' | 'monitor'
    port: str | None = None
    baud: dict[str, int] = field(default_factory=dict)
    usb: list[tuple[int, int]] = field(default_factory=list)
    voltage: float | None = None
    command_buffer: int = COMMAND_BUFFER
    chunk_bytes: int | None = None
    transfer: str = "auto"  # input downloads: auto | binary | hex (docs/binary_download.md)
    echo: bool = False
    extra: dict = field(default_factory=dict)

    def baud_for(self, mode: str) -> int:
        mode = normalise_mode(mode)
        if mode in self.baud:
            return self.baud[mode]
        # Streaming goes through the interface board with the monitor attached, as energy does.
        fallbacks = ("energy", "performance") if mode == "streaming" else ("performance",)
        for other in fallbacks:
            if other in self.baud:
                return self.baud[other]
        return INTERFACE_BAUD

    @property
    def is_virtual(self) -> bool:
        return self.port == "virtual"

    def max_chunk_bytes(self) -> int:
        """Input bytes per `db <hex>` command: the forced size, or the most whose command fits the
        DUT's command buffer (the reference firmware silently cuts longer commands)."""
        if self.chunk_bytes:
            return self.chunk_bytes
        return max(1, (self.command_buffer - len(DB_PREFIX)) // 2)


@dataclass
class ModeSpec:
    """How one mode is run. iterations None = auto (calibrated to target_window_s); windows None =
    one window per input (accuracy, or an MLCommons `loop` without a count); inputs None = every
    input of the dataset; limit = only the first K inputs (a smoke run); wav = the streaming wav
    (None: the one the truth file names)."""

    iterations: int | None = None
    warmups: int = 0
    windows: int | None = 5
    min_window_s: float = 10.0
    target_window_s: float = 12.0
    inputs: int | None = 5
    limit: int | None = None
    wav: str | None = None


@dataclass
class VirtualSpec:
    """The built-in virtual devices: what the DUT runs ("builtin" or a .tflite Path), the simulated
    cost of an inference, UART pacing, power per state (mW) and the synthetic dataset size."""

    model: str | Path = "builtin"
    infer_us: int = 2000
    pace: bool = True
    power_mw: dict[str, float] = field(default_factory=lambda: {**POWER_MW, "stream": POWER_MW["infer"]})
    dataset_count: int = 50
    # "submit": this repository's firmware (caps, binary download); "reference": the MLCommons one
    firmware: str = "submit"
    command_buffer: int | None = None  # None: the reference's, 80 (1028 for sww01), as in our ports
    binary_chunk: int = 512  # the "submit" firmware's binary chunk; 0 switches binary download off


@dataclass
class Timeouts:
    command_s: float = 5.0   # per reply line of an ordinary command (the MLCommons runner's 5 s)
    infer_s: float = 60.0    # per reply line of `infer N W`


@dataclass
class Retries:
    chunk: int = 2   # retries of one `db <hex>` chunk
    input: int = 3   # retries of one input (download + infer)


def default_modes() -> dict[str, ModeSpec]:
    return {
        "performance": ModeSpec(iterations=None, warmups=10, windows=5, inputs=5),
        # accuracy is `infer 1 W` on every input, one after the other
        "accuracy": ModeSpec(iterations=1, warmups=0, windows=None, inputs=None),
        "energy": ModeSpec(iterations=None, warmups=0, windows=5, inputs=5),
        # the MLCommons runner requires exactly one streaming trial
        "streaming": ModeSpec(iterations=None, warmups=0, windows=1, inputs=None),
    }


@dataclass
class HarnessConfig:
    """Everything `submit run` needs to know before it opens a port.

    `origin` is 'submit' for our own YAML or 'mlcommons' for the runner's devices/tests YAML; `raw`
    is the document(s) as loaded (for the session manifest); `script` holds the MLCommons test
    script steps (`harness.mlc_config` step dataclasses) when the harness should follow them
    literally, and is empty for our own config (the harness plans from `modes`)."""

    benchmark: str | None
    dataset: Path | None
    truth_file: str
    dut: DeviceSpec
    interface: DeviceSpec | None = None
    monitor: DeviceSpec | None = None
    modes: dict[str, ModeSpec] = field(default_factory=default_modes)
    timeouts: Timeouts = field(default_factory=Timeouts)
    retries: Retries = field(default_factory=Retries)
    verify_download: bool = False
    virtual: VirtualSpec | None = None
    source: Path | None = None
    raw: dict = field(default_factory=dict)
    origin: str = "submit"
    script: list = field(default_factory=list)

    def mode(self, name: str) -> ModeSpec:
        mode = normalise_mode(name)
        if mode not in self.modes:
            covered = ", ".join(self.modes) or "no mode"
            raise UsageError(f"{self.source or 'the configuration'} covers {covered}, not {mode}; "
                             f"give a configuration for {mode} (for the MLCommons runner's files: "
                             f"its tests_{mode}.yaml)")
        return self.modes[mode]

    def devices(self) -> list[DeviceSpec]:
        return [d for d in (self.dut, self.interface, self.monitor) if d is not None]

    def for_model(self, model_id: str) -> HarnessConfig:
        """This configuration for the model the DUT reports (`profile%` -> m-model-[...]). Our own
        config names its benchmark, so the DUT must agree with it."""
        model_id = str(model_id).strip()
        if self.benchmark is None:
            if model_id not in BENCHMARKS:
                raise InputError(f"the DUT reports model '{model_id}', which is no MLPerf Tiny benchmark "
                                 f"({', '.join(BENCHMARKS)}); fix TH_MODEL_VERSION in the firmware")
            return dataclasses.replace(self, benchmark=model_id)
        if model_id == self.benchmark or model_id in MODEL_ALIASES.get(self.benchmark, ()):
            return self
        raise InputError(f"{self.source or 'the configuration'}: benchmark is {self.benchmark} but the DUT "
                         f"reports model '{model_id}'; flash the {self.benchmark} firmware, or set "
                         f"`benchmark: {model_id}` if that is what you mean to measure")

    def effective(self) -> dict:
        """The configuration as used, JSON-ready (no `raw`, no `source`)."""
        return {
            "origin": self.origin,
            "benchmark": self.benchmark,
            "dataset": None if self.dataset is None else str(self.dataset),
            "truth_file": self.truth_file,
            "devices": {d.kind: _device_json(d) for d in self.devices()},
            "modes": {name: dataclasses.asdict(spec) for name, spec in sorted(self.modes.items())},
            "timeouts": dataclasses.asdict(self.timeouts),
            "retries": dataclasses.asdict(self.retries),
            "verify_download": self.verify_download,
            "virtual": None if self.virtual is None else _jsonable(dataclasses.asdict(self.virtual)),
            "script": [_jsonable(dataclasses.asdict(step)) if dataclasses.is_dataclass(step) else step
                       for step in self.script],
        }

    def fingerprint(self) -> str:
        """sha256 of the effective configuration, to refuse resuming a session whose config changed.
        Ports and echo are left out: which socket a board enumerated on, and whether lines are
        printed, change nothing that is measured, and a board often comes back on another port."""
        data = self.effective()
        for device in data["devices"].values():
            device.pop("port", None)
            device.pop("echo", None)
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _device_json(device: DeviceSpec) -> dict:
    data = dataclasses.asdict(device)
    data["usb"] = [[vid, pid] for vid, pid in device.usb]
    return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# ----------------------------------------------------------------------------------------------
# YAML with positions


class YamlDoc:
    """A YAML document loaded together with its node tree, so that a value can be traced back to
    its line and column (`where`), and problems reported as `file, line L, column C: ...`."""

    def __init__(self, path: Path, data: Any, root: Node | None) -> None:
        self.path = path
        self.data = data
        self.root = root
        self._constructor = SafeConstructor()

    @classmethod
    def read(cls, path: str | os.PathLike, what: str, fix: str) -> YamlDoc:
        """Read and parse one YAML file; InputError (with line and column when known) if it cannot be
        read, is not text, is too large, is not YAML or is empty. `what` names the kind of file in
        messages; `fix` says what a good file looks like."""
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such file; check the path given for the {what}")
        if path.is_dir():
            raise InputError(f"{path}: is a folder, not a file; give the path of the {what}")
        try:
            text = read_text(str(path), limit=MAX_CONFIG_BYTES)
        except TextProblem as exc:
            where = f", line {exc.line}, column {exc.column}" if exc.line else ""
            raise InputError(f"{path}{where}: {exc}; {fix}") from None
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            context = f" ({exc.context}" if exc.context else ""
            if context and exc.context_mark and exc.problem_mark and exc.context_mark.line != mark.line:
                context += f" started on line {exc.context_mark.line + 1}"
            context += ")" if context else ""
            raise InputError(f"{path}{where}: is not valid YAML: {exc.problem}{context}; check the indentation "
                             f"(spaces, not tabs), the colons and the quotes there") from None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            raise InputError(f"{path}, line {line}, column {column}: is not valid YAML: character "
                             f"#x{exc.character:04x} is not allowed in YAML; delete it") from None
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: is not valid YAML ({exc}); {fix}") from None
        except RecursionError:
            raise InputError(f"{path}: is nested too deeply to be a {what}; {fix}") from None
        finally:
            loader.dispose()
        if data is None:
            state = "is empty" if not text.strip() or root is None else "holds only `null`"
            raise InputError(f"{path}, line 1: {state}; {fix}")
        doc = cls(path, data, root)
        return doc

    # -- positions

    @staticmethod
    def key_text(key: Any) -> str:
        """A mapping key as the text the checks and pointers use (YAML reads 0x0483 as 1155)."""
        if isinstance(key, bool):
            return "true" if key else "false"
        if key is None:
            return "null"
        return str(key)

    def _node_key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            return None
        try:
            return self.key_text(self._constructor.construct_object(node, deep=True))
        except yaml.YAMLError:
            return node.value

    def node_at(self, parts: Iterable[Any], key: bool = False) -> tuple[Node | None, bool]:
        """(node, found): the node of the value at `parts` (of its key with key=True), or of the
        nearest enclosing value with found=False when the path goes further than the document."""
        node = self.root
        key_node = None
        if node is None:
            return None, False
        for part in parts:
            key_node = None
            if isinstance(node, MappingNode):
                match = None
                for k, v in node.value:
                    if self._node_key(k) == self.key_text(part):
                        match = (k, v)  # the last one: YAML keeps the last of duplicate keys
                if match is None:
                    return node, False
                key_node, node = match
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                return node, False
        return (key_node if key and key_node is not None else node), True

    def locate(self, parts: Iterable[Any], key: bool = False) -> tuple[int, int] | None:
        """(line, column), 1-based, of the value at `parts` (see node_at)."""
        node, _ = self.node_at(parts, key)
        if node is None:
            return None
        return node.start_mark.line + 1, node.start_mark.column + 1

    def source_text(self, parts: Iterable[Any], key: bool = False) -> str | None:
        """The text of a plain (unquoted) scalar as written in the file, or None."""
        node, found = self.node_at(parts, key)
        if found and isinstance(node, ScalarNode) and node.style is None:
            return node.value
        return None

    def where(self, parts: Iterable[Any] = (), key: bool = False) -> str:
        place = self.locate(list(parts), key)
        return f"{self.path}, line {place[0]}, column {place[1]}" if place else str(self.path)

    def problem(self, parts: Iterable[Any], message: str, fix: str, key: bool = False) -> str:
        parts = list(parts)
        return f"{self.where(parts, key)}: {pointer(parts)}: {message}; {fix}"

    def duplicate_keys(self) -> list[str]:
        """Problems for keys that appear twice in one mapping (YAML silently keeps the last)."""
        problems: list[str] = []
        seen_nodes: set[int] = set()

        def walk(node: Node, depth: int) -> None:
            if id(node) in seen_nodes or depth > MAX_YAML_DEPTH:
                return
            seen_nodes.add(id(node))
            if isinstance(node, MappingNode):
                first: dict[str, Node] = {}
                for k, v in node.value:
                    text = self._node_key(k)
                    if text is not None and text in first:
                        line = first[text].start_mark.line + 1
                        problems.append(f"{self.path}, line {k.start_mark.line + 1}, column "
                                        f"{k.start_mark.column + 1}: key `{text}` appears a second time "
                                        f"(first on line {line}) and would silently replace it; keep one")
                    elif text is not None:
                        first[text] = k
                    walk(v, depth + 1)
            elif isinstance(node, SequenceNode):
                for item in node.value:
                    walk(item, depth + 1)

        if self.root is not None:
            walk(self.root, 0)
        return problems

    def fail(self, problems: list[str], what: str) -> None:
        """Raise InputError listing the problems (each names the file and line)."""
        if not problems:
            return
        problems = sorted(problems, key=_line_order)
        if len(problems) == 1:
            raise InputError(problems[0])
        head = f"{self.path}: {len(problems)} problems in this {what}:"
        raise InputError("\n".join([head, *(f"  {p}" for p in problems)]))


def _line_order(problem: str) -> tuple[int, int]:
    found = re.search(r", line (\d+)(?:, column (\d+))?:", problem)
    return (int(found.group(1)), int(found.group(2) or 0)) if found else (0, 0)


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901 JSON pointer of a path; `(top level)` for the document itself."""
    parts = list(parts)
    if not parts:
        return "(top level)"
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def json_ready(value: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """A copy with every mapping key as text (0x0483 -> "1155"), for JSON Schema validation.
    Raises ValueError when the document is too large or recursive (YAML aliases can make both)."""
    budget = budget if budget is not None else [MAX_YAML_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"holds more than {MAX_YAML_VALUES} values (YAML aliases that expand into copies of "
                         f"copies?)")
    if depth > MAX_YAML_DEPTH:
        raise ValueError(f"is nested more than {MAX_YAML_DEPTH} levels deep (or holds a YAML alias that refers "
                         f"to itself)")
    if isinstance(value, dict):
        return {YamlDoc.key_text(k): json_ready(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v, budget, depth + 1) for v in value]
    return value


# ----------------------------------------------------------------------------------------------
# Schema errors in words


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(SCHEMA_NAME))


def _first_sentence(text: str, limit: int = 200) -> str:
    sentence = re.split(r"(?<!e\.g\.)(?<!i\.e\.)(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".")
    if len(sentence) > 1 and sentence[0].isupper() and not sentence[1].isupper():
        sentence = sentence[0].lower() + sentence[1:]  # it follows "expected", mid-sentence
    return sentence if len(sentence) <= limit else sentence[: limit - 3] + "..."


def _yaml_inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1000).strip()
    # USB ids read best as the bare hex YAML takes as integers: {0x0483: 0x374B}
    return re.sub(r"'(0[xX][0-9a-fA-F]+)'", r"\1", text.removesuffix("...").strip())


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        text = _yaml_inline(value)
        return f"{kind} ({text[:60]}{'...' if len(text) > 60 else ''})"
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    if isinstance(value, str):
        return f"the text `{value[:60]}`"
    return f"`{_yaml_inline(value)}`"


_TYPE_WORDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
               "object": "a mapping (key: value lines)", "array": "a list", "null": "null"}


def _type_words(types: Any) -> str:
    types = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_WORDS.get(t, t) for t in types)


def _example_fix(parts: list, schema: dict, fallback: str) -> str:
    examples = schema.get("examples")
    # a key worth repeating is a name (`energy:`), not a USB id or a list index
    key = parts[-1] if parts and isinstance(parts[-1], str) and re.match(r"^[A-Za-z_]\w*$", parts[-1]) else None
    if examples and key:
        return f"write it like `{key}: {_yaml_inline(examples[0])}`"
    if examples:
        return f"write it like `{_yaml_inline(examples[0])}`"
    return fallback


def _subschema(schema: dict, name: str) -> dict:
    """The schema of property `name` in an object schema (following a local $ref)."""
    sub = schema.get("properties", {}).get(name, {})
    if "$ref" in sub:
        target = _resolve_ref(sub["$ref"])
        sub = {**target, **{k: v for k, v in sub.items() if k != "$ref"}}
    return sub


def _resolve_ref(ref: str) -> dict:
    node: Any = load_schema(SCHEMA_NAME)
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _described(error: jsonschema.exceptions.ValidationError) -> dict:
    """The schema that explains an error: its own, or the nearest enclosing oneOf/anyOf's whose
    description and examples say what the value should be (a branch like `{"pattern": ...}` has
    none)."""
    found: dict = {}
    node: jsonschema.exceptions.ValidationError | None = error
    while node is not None:
        schema = node.schema if isinstance(node.schema, dict) else {}
        for key in ("description", "examples"):
            if key in schema and key not in found:
                found[key] = schema[key]
        node = node.parent
    return found


def _explain(doc: YamlDoc, error: jsonschema.exceptions.ValidationError) -> list[str]:
    """One problem line per thing wrong, in words: where, what was found, what was expected, how
    to fix it."""
    if error.validator in ("oneOf", "anyOf"):
        # A specific error from the branch that fits the value (a minimum, a bad value inside a
        # baud map) says more than "no branch matched"; when every branch fails on the type, the
        # schema's description says what is wanted.
        best = jsonschema.exceptions.best_match([error])
        deeper = len(best.absolute_path) > len(error.absolute_path)
        if best is not error and (deeper or best.validator not in ("type", "const", "enum", "oneOf", "anyOf")):
            return _explain(doc, best)
        parts = list(error.absolute_path)
        expected = _first_sentence(error.schema.get("description", "")) or "a different value"
        return [doc.problem(parts, f"{_shown(error.instance)} is not valid here; expected {expected}",
                            _example_fix(parts, error.schema, "see " + SCHEMA_HINT))]

    parts = list(error.absolute_path)
    schema = _described(error)
    value = error.instance
    kind = error.validator
    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.absolute_schema_path:
        expected = _first_sentence(schema.get("description", "")) or "a different key"
        return [doc.problem(parts + [value], f"key `{value}` is not valid; expected {expected}",
                            "write the id in hex with 0x, e.g. `0x0483`", key=True)]

    if kind == "required":
        missing = [k for k in error.validator_value if not isinstance(value, dict) or k not in value]
        lines = []
        for name in missing:
            sub = _subschema(error.schema, name)
            what = (f"one of {', '.join(sub['enum'])}" if "enum" in sub
                    else _first_sentence(sub.get("description", ""), 120) or "required")
            lines.append(doc.problem(parts, f"`{name}` is missing ({what})",
                                     "add " + (_example_fix(parts + [name], sub, f"`{name}:`"))
                                     .removeprefix("write it like ")))
        return lines
    if kind == "additionalProperties" and error.validator_value is False:
        allowed = sorted(error.schema.get("properties", {}))
        extras = [k for k in value if k not in allowed] if isinstance(value, dict) else []
        lines = []
        for name in extras:
            close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            hint = f"did you mean `{close[0]}`? " if close else ""
            lines.append(doc.problem(parts + [name], f"unknown key `{name}`",
                                     f"{hint}remove it or correct its spelling; allowed here: "
                                     f"{', '.join(allowed)}", key=True))
        return lines
    if kind == "type":
        expected = _type_words(error.validator_value)
        return [doc.problem(parts, f"{_shown(value)} is not {expected}",
                            _example_fix(parts, schema, f"give {expected}"))]
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`? " if close else ""
        return [doc.problem(parts, f"{_shown(value)} is not one of {', '.join(choices)}",
                            f"{hint}use one of those")]
    if kind == "const":
        return [doc.problem(parts, f"{_shown(value)} is not `{error.validator_value}`",
                            f"write `{error.validator_value}`")]
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        relation = {"minimum": "at least", "exclusiveMinimum": "more than",
                    "maximum": "at most", "exclusiveMaximum": "less than"}[kind]
        what = _first_sentence(schema.get("description", "")) or "the value"
        return [doc.problem(parts, f"{_shown(value)} is out of range; expected {relation} "
                                   f"{error.validator_value} ({what})",
                            _example_fix(parts, schema, f"give a value {relation} {error.validator_value}"))]
    if kind in ("minLength", "minProperties", "minItems"):
        return [doc.problem(parts, f"{_shown(value)} is empty; expected "
                                   f"{_first_sentence(schema.get('description', '')) or 'a value'}",
                            _example_fix(parts, schema, "fill it in or remove the key"))]
    if kind == "pattern":
        expected = _first_sentence(schema.get("description", "")) or f"text matching {error.validator_value}"
        return [doc.problem(parts, f"{_shown(value)} is not valid; expected {expected}",
                            _example_fix(parts, schema, "see " + SCHEMA_HINT))]
    return [doc.problem(parts, error.message, "see " + SCHEMA_HINT)]


def schema_problems(doc: YamlDoc) -> list[str]:
    try:
        instance = json_ready(doc.data)
    except ValueError as exc:
        return [f"{doc.path}: {exc}; a harness config is a few levels deep and needs no aliases"]
    problems: list[str] = []
    for error in _validator().iter_errors(instance):
        problems.extend(_explain(doc, error))
    return problems


# ----------------------------------------------------------------------------------------------
# From the checked document to the dataclasses


def parse_usb(doc: YamlDoc, parts: list, value: Any, problems: list[str]) -> list[tuple[int, int]]:
    """(VID, PID) pairs from a runner-style map {VID: PID | [PID, ...]}. Ids may be integers or
    "0x..." strings. An unquoted id with a leading zero (0043) is octal to YAML and is refused."""
    pairs: list[tuple[int, int]] = []
    if not isinstance(value, dict):
        problems.append(doc.problem(parts, f"{_shown(value)} is not a USB id map",
                                    "write it like `usb: {0x0483: 0x374B}` (vendor id: product id or a "
                                    "list of product ids)"))
        return pairs
    for vid_key, pids in value.items():
        key_parts = parts + [doc.key_text(vid_key)]
        vid = _usb_id(doc, key_parts, vid_key, problems, key=True)
        items = pids if isinstance(pids, list) else [pids]
        item_parts = [key_parts + [i] for i in range(len(items))] if isinstance(pids, list) else [key_parts]
        for pid_value, pid_parts in zip(items, item_parts):
            pid = _usb_id(doc, pid_parts, pid_value, problems)
            if vid is not None and pid is not None:
                pairs.append((vid, pid))
    return pairs


_OCTAL_LOOKING = re.compile(r"^[-+]?0[0-9_]+$")


def _usb_id(doc: YamlDoc, parts: list, value: Any, problems: list[str], key: bool = False) -> int | None:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
        text = doc.source_text(parts, key)
        if text is not None and _OCTAL_LOOKING.match(text):
            problems.append(doc.problem(parts, f"`{text}` has a leading zero, so YAML reads it as the octal "
                                               f"number {value}",
                                        f"write the hex id with 0x, e.g. `0x{text.lstrip('+-')}`", key=key))
            return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            number = None
        if _OCTAL_LOOKING.match(text):
            problems.append(doc.problem(parts, f"`{text}` has a leading zero; a USB id written without 0x "
                                               f"is read as decimal or octal",
                                        f"write the hex id with 0x, e.g. `0x{text}`", key=key))
            return None
        if number is None:
            problems.append(doc.problem(parts, f"{_shown(value)} is not a USB id",
                                        "write it in hex with 0x, e.g. `0x0483`", key=key))
            return None
    if number is None or not 0 <= number <= 0xFFFF:
        problems.append(doc.problem(parts, f"{_shown(value)} is not a USB id (16 bits, 0 to 0xFFFF)",
                                    "write it in hex with 0x, e.g. `0x374B`", key=key))
        return None
    return number


def _relative_path(base: Path, text: str) -> Path:
    path = Path(os.path.expanduser(text))
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


def _dut(doc: YamlDoc, data: dict, problems: list[str]) -> DeviceSpec:
    parts = ["devices", "dut"]
    baud_value = data.get("baud")
    if isinstance(baud_value, int):
        baud = {m: baud_value for m in MODES}
    else:
        baud = {**DUT_BAUD, **(baud_value or {})}
        baud.setdefault("streaming", baud["energy"])
    spec = DeviceSpec(
        name=data.get("name", "dut"), kind="dut", port=_port(data),
        baud={m: int(baud[m]) for m in MODES},
        usb=parse_usb(doc, parts + ["usb"], data["usb"], problems) if "usb" in data else [],
        command_buffer=int(data.get("command_buffer", COMMAND_BUFFER)),
        chunk_bytes=None if data.get("chunk_bytes") is None else int(data["chunk_bytes"]),
        transfer=data.get("transfer", "auto"),
        echo=bool(data.get("echo", False)),
        extra={"check_name": data["check_name"]} if "check_name" in data else {},
    )
    if spec.chunk_bytes is not None:
        length = len(DB_PREFIX) + 2 * spec.chunk_bytes
        if length > spec.command_buffer:
            problems.append(doc.problem(parts + ["chunk_bytes"],
                                        f"{spec.chunk_bytes} bytes make `db <hex>` commands of {length} characters, "
                                        f"more than the {spec.command_buffer}-character command buffer",
                                        f"use at most {(spec.command_buffer - len(DB_PREFIX)) // 2}, or remove "
                                        f"chunk_bytes to get the largest size that fits"))
    return spec


def _port(data: dict) -> str | None:
    port = data.get("port", "auto")
    return None if port == "auto" else port


def _interface(doc: YamlDoc, data: dict, problems: list[str]) -> DeviceSpec:
    name = data["name"]
    baud = int(data.get("baud", INTERFACE_BAUD))
    usb = (parse_usb(doc, ["devices", "interface", "usb"], data["usb"], problems)
           if "usb" in data else list(KNOWN_USB[name]))
    return DeviceSpec(name=name, kind="interface", port=_port(data), baud={m: baud for m in MODES}, usb=usb,
                      echo=bool(data.get("echo", False)))


def _monitor(doc: YamlDoc, data: dict, problems: list[str]) -> DeviceSpec:
    name = data["name"]
    parts = ["devices", "monitor"]
    baud = int(data.get("baud", MONITOR_BAUD))
    usb = parse_usb(doc, parts + ["usb"], data["usb"], problems) if "usb" in data else list(KNOWN_USB[name])
    extra: dict = {}
    if name == "js220":
        extra = {key: int(data.get(key, default)) for key, default in JS220_RATES.items()}
    else:
        for key in JS220_RATES:
            if key in data:
                problems.append(doc.problem(parts + [key], f"`{key}` is a JS220 setting, but the monitor is {name}",
                                            "remove it", key=True))
    voltage = data.get("voltage")
    return DeviceSpec(name=name, kind="monitor", port=_port(data), baud={m: baud for m in MODES}, usb=usb,
                      voltage=None if voltage is None else float(voltage), echo=bool(data.get("echo", False)),
                      extra=extra)


def _modes(doc: YamlDoc, data: dict, problems: list[str]) -> dict[str, ModeSpec]:
    modes = default_modes()
    for name, given in data.items():
        spec = modes[name]
        for key, value in given.items():
            if key == "iterations":
                value = None if value == "auto" else int(value)
            elif key in ("warmups", "windows", "inputs"):
                value = int(value)
            elif key == "limit":
                value = None if value is None else int(value)
            elif key in ("min_window_s", "target_window_s"):
                value = float(value)
            setattr(spec, key, value)
        if spec.target_window_s < spec.min_window_s:
            problems.append(doc.problem(["modes", name, "target_window_s"],
                                        f"target_window_s {spec.target_window_s} is below min_window_s "
                                        f"{spec.min_window_s}, so auto iterations would make windows too short",
                                        f"set target_window_s above {spec.min_window_s} (the default is 12.0)"))
    return modes


def _virtual(base: Path, data: dict) -> VirtualSpec:
    spec = VirtualSpec()
    model = data.get("model", "builtin")
    spec.model = model if model == "builtin" else _relative_path(base, model)
    spec.infer_us = int(data.get("infer_us", spec.infer_us))
    spec.pace = bool(data.get("pace", spec.pace))
    power = {**POWER_MW, **{k: float(v) for k, v in (data.get("power_mw") or {}).items()}}
    power.setdefault("stream", power["infer"])
    spec.power_mw = power
    spec.dataset_count = int(data.get("dataset_count", spec.dataset_count))
    spec.firmware = data.get("firmware", spec.firmware)
    spec.command_buffer = None if data.get("command_buffer") is None else int(data["command_buffer"])
    spec.binary_chunk = int(data.get("binary_chunk", spec.binary_chunk))
    return spec


CONFIG_FIX = (f"a harness config is a YAML mapping with at least `benchmark:` and `devices: {{dut: ...}}` "
              f"({SCHEMA_HINT})")


def load_config(path: str | os.PathLike) -> HarnessConfig:
    """Read, check and complete our own harness config YAML. Every problem raises InputError
    (exit 2) naming the file, the line and column, the JSON pointer, what was expected and how to
    fix it; all problems of the file are reported at once."""
    path = Path(path)
    doc = YamlDoc.read(path, "harness config", CONFIG_FIX)
    problems = doc.duplicate_keys()
    if not isinstance(doc.data, dict):
        problems.append(doc.problem([], f"the document is {_shown(doc.data)}, not a mapping", CONFIG_FIX))
        doc.fail(problems, "harness config")
    problems += schema_problems(doc)
    doc.fail(problems, "harness config")

    data: dict = doc.data
    base = path.absolute().parent
    devices = data["devices"]
    dut = _dut(doc, devices["dut"], problems)
    interface = _interface(doc, devices["interface"], problems) if devices.get("interface") else None
    monitor = _monitor(doc, devices["monitor"], problems) if devices.get("monitor") else None
    modes = _modes(doc, data.get("modes") or {}, problems)
    benchmark = data["benchmark"]

    dataset = data.get("dataset")
    if dataset is None and not dut.is_virtual:
        problems.append(doc.problem([], "`dataset` is missing; a real DUT needs the inputs and the truth file",
                                    "add `dataset: <folder with the inputs and y_labels.csv>` (relative to "
                                    "this file), or set `port: virtual` under devices.dut for a dry run"))
    virtual_used = any(d.is_virtual for d in (dut, interface, monitor) if d is not None)
    doc.fail(problems, "harness config")

    timeouts = Timeouts(**{k: float(v) for k, v in (data.get("timeouts") or {}).items()})
    retries = Retries(**{k: int(v) for k, v in (data.get("retries") or {}).items()})
    return HarnessConfig(
        benchmark=benchmark,
        dataset=None if dataset is None else _relative_path(base, dataset),
        truth_file=data.get("truth_file", SWW_TRUTH_FILE if benchmark == "sww01" else DEFAULT_TRUTH_FILE),
        dut=dut, interface=interface, monitor=monitor, modes=modes,
        timeouts=timeouts, retries=retries,
        verify_download=bool(data.get("verify_download", False)),
        # The section only matters when some device is virtual; otherwise it must not make two
        # hardware configs differ.
        virtual=_virtual(base, data.get("virtual") or {}) if virtual_used else None,
        source=path, raw=data, origin="submit",
    )
