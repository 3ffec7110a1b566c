"""The MLCommons runner's own configuration files, read into a `HarnessConfig`.

`submit run` can be driven by the files a submitter already has for `benchmark/runner/main.py`:
a devices yaml (a list of devices, each `type` dut / interface / power, with USB ids, baud rates,
`preference`, `voltage`, `echo`) and a tests yaml (per model, a `script` of steps: `loop [N]`,
`download [i]`, `infer N W`, `reset S`, `stream [wav]`). See protocol.md 2.3-2.4 and the shipped
files in mlcommons/tiny benchmark/runner/.

Here live the script step dataclasses (kept so that the harness can follow a script literally),
`MlcConfig` (a HarnessConfig that learns its benchmark from the DUT's model, `for_model`, and picks
its devices among those attached as the runner does, `pick_devices`), and `load_mlcommons`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import (
    BENCHMARKS,
    COMMAND_BUFFER,
    DEFAULT_TRUTH_FILE,
    DUT_BAUD,
    INTERFACE_BAUD,
    MODEL_ALIASES,
    MODES,
    MONITOR_BAUD,
    DeviceSpec,
    HarnessConfig,
    ModeSpec,
    YamlDoc,
    normalise_mode,
    parse_usb,
)
from submission_tools.errors import InputError

# The runner's DUT class sends 26 input bytes per `db` command when a power manager exists and 31
# otherwise (device_under_test.py; protocol.md 2.2): whether an interface board is used does not
# matter.
CHUNK_WITH_MONITOR = 26
CHUNK_WITHOUT_MONITOR = 31
# Device `type` in the devices yaml -> our DeviceSpec.kind.
KINDS = {"dut": "dut", "interface": "interface", "power": "monitor"}
MONITOR_NAMES = ("lpm01a", "js220")
# The runner's letters for its modes (runner_utils.get_baud_rate).
_BAUD_KEYS = {"performance": "performance", "accuracy": "accuracy", "energy": "energy"}


# ----------------------------------------------------------------------------------------------
# Script steps


@dataclass
class LoopStep:
    """`loop N:` with nested steps; count None (`loop:`) runs once per input of the truth file."""

    count: int | None
    steps: list[Step]
    op: str = field(default="loop", init=False)


@dataclass
class DownloadStep:
    """`download [i]`: send an input to the DUT; index None = the next input (0, 1, 2, ...). For
    ad01 the runner sends the file in windows of `bytes_to_send` bytes sliding by `stride`."""

    index: int | None = None
    op: str = field(default="download", init=False)


@dataclass
class InferStep:
    """`infer N W`: N timed inferences after W warm-ups (the runner's defaults: 1 and 0)."""

    iterations: int = 1
    warmups: int = 0
    op: str = field(default="infer", init=False)


@dataclass
class ResetStep:
    """`reset S`: the runner's watchdog, S seconds (ad01 accuracy uses `reset 20`)."""

    seconds: float
    op: str = field(default="reset", init=False)


@dataclass
class StreamStep:
    """`stream [wav]`: the streaming-wakeword sequence through the interface board (protocol.md
    3.1.4); wav None = the one the truth file names."""

    wav: str | None = None
    op: str = field(default="stream", init=False)


Step = LoopStep | DownloadStep | InferStep | ResetStep | StreamStep
STEP_FORMS = "loop [N] (with nested steps), download [i], infer N W, reset S, stream [wav]"


@dataclass
class MlcTest:
    """One entry of a tests yaml: the key the DUT's model selects, and what it says."""

    key: str
    name: str | None
    model: str
    truth_file: str
    script: list[Step]


def walk_steps(steps: Iterable[Step], loops: tuple[LoopStep, ...] = ()) -> Iterable[tuple[Step, tuple[LoopStep, ...]]]:
    """Every step, depth first, with the loops around it (outermost first)."""
    for step in steps:
        yield step, loops
        if isinstance(step, LoopStep):
            yield from walk_steps(step.steps, loops + (step,))


def mode_spec(script: list[Step]) -> ModeSpec:
    """What a script amounts to as a ModeSpec: iterations and warm-ups from its first `infer N W`,
    windows from the loops around it (None if one of them runs over every input), inputs from
    its downloads. The harness still follows the script itself; this is for planning and the
    session summary."""
    spec = ModeSpec(iterations=None, warmups=0, windows=1, inputs=0)
    found_infer = False
    downloads: list[tuple[DownloadStep, tuple[LoopStep, ...]]] = []
    for step, loops in walk_steps(script):
        if isinstance(step, DownloadStep):
            downloads.append((step, loops))
        if isinstance(step, (InferStep, StreamStep)) and not found_infer:
            found_infer = True
            spec.windows = _repeats(loops)
            if isinstance(step, InferStep):
                spec.iterations, spec.warmups = step.iterations, step.warmups
            else:
                spec.wav = step.wav
    explicit = {d.index for d, _ in downloads if d.index is not None}
    looping = [loops for d, loops in downloads if d.index is None]
    if looping:
        # each pass of the loops around a `download` takes the next input
        counts = [_repeats(loops) for loops in looping]
        spec.inputs = None if None in counts else max(counts)  # type: ignore[type-var]
    elif explicit:
        spec.inputs = len(explicit)
    return spec


def _repeats(loops: Iterable[LoopStep]) -> int | None:
    total = 1
    for loop in loops:
        if loop.count is None:
            return None
        total *= loop.count
    return total


def _parse_script(doc: YamlDoc, parts: list, steps: Any, problems: list[str]) -> list[Step]:
    if not isinstance(steps, list) or not steps:
        problems.append(doc.problem(parts, "is not a list of steps", f"write it as a YAML list of steps: {STEP_FORMS}"))
        return []
    parsed: list[Step] = []
    for i, step in enumerate(steps):
        here = parts + [i]
        contents = None
        if isinstance(step, dict):
            if len(step) != 1:
                problems.append(doc.problem(here, f"a step with {len(step)} keys", "give one `loop N:` per list item"))
                continue
            (text, contents), = step.items()
            here_contents = here + [text]
        else:
            text, here_contents = step, here
        if not isinstance(text, str) or not text.split():
            problems.append(doc.problem(here, f"`{text}` is not a step", f"use one of: {STEP_FORMS}"))
            continue
        made = _parse_step(doc, here, here_contents, text.split(), contents, problems)
        if made is not None:
            parsed.append(made)
    return parsed


def _parse_step(doc: YamlDoc, here: list, here_contents: list, words: list[str], contents: Any,
                problems: list[str]) -> Step | None:
    command, args = words[0], words[1:]

    def bad(message: str, fix: str) -> None:
        problems.append(doc.problem(here, f"`{' '.join(words)}`: {message}", fix))

    def number(text: str, minimum: int) -> int | None:
        try:
            value = int(text)
        except ValueError:
            return None
        return value if value >= minimum else None

    if command == "loop":
        count = number(args[0], 1) if args else None
        if len(args) > 1 or (args and count is None):
            bad("the loop count must be one whole number of at least 1", "write `loop 5:`, or `loop:` for every input")
            return None
        if contents is None:
            bad("a loop needs nested steps", "write `- loop 5:` and the steps indented below it as a list")
            return None
        return LoopStep(count=count, steps=_parse_script(doc, here_contents, contents, problems))
    if contents is not None:
        bad(f"`{command}` takes no nested steps", "only `loop` has steps below it")
        return None
    if command == "download":
        index = number(args[0], 0) if args else None
        if len(args) > 1 or (args and index is None):
            bad("the index must be one whole number", "write `download` (the next input) or `download 3`")
            return None
        return DownloadStep(index=index)
    if command == "infer":
        values = [number(a, 1 if n == 0 else 0) for n, a in enumerate(args)]
        if len(args) > 2 or None in values:
            bad("expected `infer N W`: N inferences (at least 1) after W warm-ups (0 or more)",
                "write e.g. `infer 70 10`")
            return None
        return InferStep(*values)  # type: ignore[arg-type]
    if command == "reset":
        try:
            seconds = float(args[0]) if len(args) == 1 else None
        except ValueError:
            seconds = None
        if seconds is None or not seconds > 0:
            bad("expected `reset S` with S seconds, more than 0", "write e.g. `reset 20`")
            return None
        return ResetStep(seconds=seconds)
    if command == "stream":
        if len(args) > 1:
            bad("expected `stream` or `stream <file.wav>`", "give at most one wav file name")
            return None
        return StreamStep(wav=args[0] if args else None)
    bad(f"unknown step `{command}`", f"use one of: {STEP_FORMS}")
    return None


# ----------------------------------------------------------------------------------------------
# The configuration


@dataclass
class MlcConfig(HarnessConfig):
    """A HarnessConfig from the runner's files. `benchmark` is None until the DUT's model is known
    (`for_model`); `tests` holds every entry of the tests yaml, `candidates` every device of the
    devices yaml by kind (highest preference first), `dataset_root` the runner's --dataset_path."""

    tests: dict[str, MlcTest] = field(default_factory=dict)
    candidates: dict[str, list[DeviceSpec]] = field(default_factory=dict)
    dataset_root: Path | None = None
    mlc_mode: str = "performance"

    def mode(self, name: str) -> ModeSpec:
        if self.benchmark is None:
            # The script, and so the mode's plan, depends on the model the DUT reports.
            raise RuntimeError("the MLCommons configuration has no benchmark yet: call for_model() with "
                               "the DUT's model before asking for a mode")
        return super().mode(name)

    def for_model(self, model_id: str) -> MlcConfig:
        """The configuration for the tests-yaml entry of the model the DUT reports (the runner's
        `tests[<m-model value>]`); its dataset is `<dataset_path>/<entry's model>`."""
        model_id = str(model_id).strip()
        key = model_id if model_id in self.tests else next(
            (k for k, aliases in MODEL_ALIASES.items() if model_id in aliases and k in self.tests), None)
        tests_yaml = self.raw.get("tests_yaml", "the tests yaml")
        if key is None:
            raise InputError(f"{tests_yaml}: the DUT reports model '{model_id}', which has no entry here "
                             f"(entries: {', '.join(self.tests) or 'none'}); add an entry `{model_id}:` with its "
                             f"script, or fix the model string in the firmware (TH_MODEL_VERSION)")
        test = self.tests[key]
        spec = mode_spec(test.script)
        modes = {self.mlc_mode: spec}
        if any(isinstance(s, StreamStep) for s, _ in walk_steps(test.script)):
            modes.setdefault("streaming", dataclasses.replace(spec))
        return dataclasses.replace(
            self, benchmark=key if key in BENCHMARKS else test.model, truth_file=test.truth_file,
            dataset=None if self.dataset_root is None else self.dataset_root / test.model,
            modes=modes, script=list(test.script),
        )

    def pick_devices(self, ports: Iterable[Any], usb_devices: Iterable[tuple[int, int]] = (),
                     probe: Callable[[str, int], str | None] | None = None) -> MlcConfig:
        """Choose the devices among those attached, as the runner's DeviceManager.scan does: each
        USB serial port (PortInfo) goes to the first device of the devices yaml whose VID/PID it
        has (a DUT with `check_name` only if it answers name% with that name), then ports by
        `usb_description`, then the direct-USB devices (`usb_devices`, (VID, PID) pairs such as
        a JS220, which pyserial does not list). Per kind the higher `preference` wins; on a tie
        the first found stays. A kind with nothing attached keeps its device from the file with
        port None (the DUT) or is dropped (an interface board or a monitor)."""
        from harness.ports import probe_name

        probe = probe or (lambda url, baud: probe_name(url, baud, timeout=1.0))
        every = [d for kind in ("dut", "interface", "monitor") for d in self.candidates.get(kind, [])]
        every.sort(key=lambda d: d.extra.get("order", 0))  # the file's order, as the runner walks it
        chosen: dict[str, DeviceSpec] = {}

        def add(device: DeviceSpec, port: str | None) -> None:
            held = chosen.get(device.kind)
            if held is None or device.extra.get("preference", 0) > held.extra.get("preference", 0):
                chosen[device.kind] = dataclasses.replace(device, port=port)

        serial_ports = [p for p in ports if getattr(p, "vid", None)]
        matched: list[Any] = []
        for port in serial_ports:
            for device in every:
                if (port.vid, port.pid) not in device.usb:
                    continue
                wanted = device.extra.get("check_name")
                if wanted is not None and probe(port.device, device.baud_for(self.mlc_mode)) != wanted:
                    continue
                add(device, port.device)
                matched.append(port)
                break
        for port in (p for p in serial_ports if p not in matched):
            for device in every:
                description = device.extra.get("usb_description")
                if description and description in (port.description or ""):
                    add(device, port.device)
                    break
        for vid, pid in usb_devices:
            for device in every:
                if device.extra.get("interface") == "direct_usb" and (vid, pid) in device.usb:
                    add(device, None)

        dut = chosen.get("dut") or dataclasses.replace(self.dut, port=None)
        monitor = chosen.get("monitor")
        dut = dataclasses.replace(dut, chunk_bytes=CHUNK_WITH_MONITOR if monitor else CHUNK_WITHOUT_MONITOR)
        return dataclasses.replace(self, dut=dut, interface=chosen.get("interface"), monitor=monitor)


# ----------------------------------------------------------------------------------------------
# Loading


DEVICES_FIX = ("a runner devices yaml is a list of devices, each with `name`, `type` (dut, interface or "
               "power) and `usb: {VID: PID}` (see benchmark/runner/devices_*.yaml in mlcommons/tiny)")
TESTS_FIX = ("a runner tests yaml maps each model (kws01, ...) to `model`, `truth_file` and `script` "
             "(see benchmark/runner/tests_*.yaml in mlcommons/tiny)")


def _devices(doc: YamlDoc, mode: str, problems: list[str]) -> dict[str, list[DeviceSpec]]:
    by_kind: dict[str, list[DeviceSpec]] = {"dut": [], "interface": [], "monitor": []}
    if not isinstance(doc.data, list):
        problems.append(doc.problem([], "the document is not a list of devices", DEVICES_FIX))
        return by_kind
    for i, entry in enumerate(doc.data):
        here = [i]
        if not isinstance(entry, dict):
            problems.append(doc.problem(here, "this device is not a mapping", DEVICES_FIX))
            continue
        name, dev_type = entry.get("name"), entry.get("type")
        if not isinstance(name, str) or not name:
            problems.append(doc.problem(here, "this device has no `name`", "add `name: <board>`, e.g. `name: l4r5zi`"))
            continue
        if dev_type not in KINDS:
            problems.append(doc.problem(here + ["type"] if "type" in entry else here,
                                        f"device `{name}` has type `{dev_type}`" if "type" in entry
                                        else f"device `{name}` has no `type`",
                                        "give `type: dut`, `type: interface` or `type: power`"))
            continue
        kind = KINDS[dev_type]
        device = _device(doc, here, entry, name, kind, mode, problems)
        if device is not None:
            device.extra["order"] = i
            by_kind[kind].append(device)
    if not by_kind["dut"] and not problems:
        problems.append(doc.problem([], "there is no device with `type: dut`",
                                    "add the DUT: `- name: <board>`, `type: dut`, `baud: {performance: 115200, "
                                    "accuracy: 115200, energy: 9600}`, `usb: {VID: PID}`"))
    for devices in by_kind.values():
        # highest preference first; on a tie the file's order (Python's sort is stable)
        devices.sort(key=lambda d: -d.extra.get("preference", 0))
    return by_kind


def _device(doc: YamlDoc, here: list, entry: dict, name: str, kind: str, mode: str,
            problems: list[str]) -> DeviceSpec | None:
    before = len(problems)
    preference = entry.get("preference", 0)
    if not isinstance(preference, int) or isinstance(preference, bool):
        problems.append(doc.problem(here + ["preference"], f"preference `{preference}` is not a whole number",
                                    "write e.g. `preference: 2` (the higher wins)"))
    usb: list[tuple[int, int]] = []
    if "usb" in entry:
        usb = parse_usb(doc, here + ["usb"], entry["usb"], problems)
    elif "usb_description" not in entry:
        problems.append(doc.problem(here, f"device `{name}` has no `usb` ids, so it cannot be found",
                                    "add `usb: {VID: PID}`, e.g. `usb: {0x0483: 0x374B}`"))
    baud = _baud(doc, here, entry, name, kind, mode, problems)
    voltage = entry.get("voltage")
    if voltage is not None and (isinstance(voltage, bool) or not isinstance(voltage, (int, float))):
        problems.append(doc.problem(here + ["voltage"], f"voltage `{voltage}` is not a number",
                                    "write the DUT supply in volts, e.g. `voltage: 1.8`"))
    if kind == "monitor" and name not in MONITOR_NAMES:
        problems.append(doc.problem(here + ["name"], f"power device `{name}` is not one the runner drives",
                                    f"use one of {', '.join(MONITOR_NAMES)}"))
    echo = entry.get("echo", False)
    if not isinstance(echo, bool):
        problems.append(doc.problem(here + ["echo"], f"echo `{echo}` is not true or false",
                                    "write `echo: True` or `echo: False`"))
    if len(problems) > before:
        return None
    known = {"name", "type", "usb", "baud", "voltage", "echo", "preference"}
    extra = {k: v for k, v in entry.items() if k not in known}
    extra["preference"] = preference
    if kind == "interface":
        # the runner drives stm32h573i-dk with its enhanced protocol, any other board as the
        # EEMBC Arduino IO manager (device_manager.py)
        extra["protocol"] = "enhanced" if name == "stm32h573i-dk" else "arduino"
    return DeviceSpec(name=name, kind=kind, port=None, baud=baud, usb=usb,
                      voltage=None if voltage is None else float(voltage),
                      command_buffer=COMMAND_BUFFER, chunk_bytes=None, echo=bool(echo), extra=extra)


def _baud(doc: YamlDoc, here: list, entry: dict, name: str, kind: str, mode: str,
          problems: list[str]) -> dict[str, int]:
    value = entry.get("baud")
    default = {"dut": None, "interface": INTERFACE_BAUD, "monitor": MONITOR_BAUD}[kind]

    def ok(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and 300 <= v <= 12_000_000

    if value is None:
        if default is None:
            baud = dict(DUT_BAUD)
        else:
            return {m: default for m in MODES}
    elif ok(value):
        return {m: value for m in MODES}
    elif isinstance(value, dict) and kind == "dut":
        baud = {}
        before = len(problems)
        for key, rate in value.items():
            if key not in _BAUD_KEYS:
                problems.append(doc.problem(here + ["baud", key], f"unknown baud key `{key}`",
                                            "use performance, accuracy and energy", key=True))
            elif not ok(rate):
                problems.append(doc.problem(here + ["baud", key], f"`{rate}` is not a baud rate",
                                            "write a whole number such as 115200"))
            else:
                baud[_BAUD_KEYS[key]] = rate
        if mode in _BAUD_KEYS and mode not in baud and len(problems) == before:
            # the runner stops here too (runner_utils.get_baud_rate: "Baud mode not found")
            problems.append(doc.problem(here + ["baud"], f"DUT `{name}` has no {mode} baud rate",
                                        f"add `{mode}: <baud>` under baud, e.g. `{mode}: {DUT_BAUD[mode]}`"))
    else:
        shape = "a number or a map performance/accuracy/energy -> baud" if kind == "dut" else "a number"
        problems.append(doc.problem(here + ["baud"], f"baud `{value}` is not {shape}",
                                    "write e.g. `baud: 115200`"))
        return {}
    baud = {**DUT_BAUD, **baud}
    baud.setdefault("streaming", baud["energy"])
    return {m: baud[m] for m in MODES}


def _tests(doc: YamlDoc, problems: list[str]) -> dict[str, MlcTest]:
    tests: dict[str, MlcTest] = {}
    if not isinstance(doc.data, dict):
        problems.append(doc.problem([], "the document is not a mapping of models to tests", TESTS_FIX))
        return tests
    for key, entry in doc.data.items():
        key = doc.key_text(key)
        here = [key]
        if not isinstance(entry, dict):
            problems.append(doc.problem(here, f"the test for `{key}` is not a mapping", TESTS_FIX))
            continue
        model = entry.get("model", key)
        truth = entry.get("truth_file", DEFAULT_TRUTH_FILE)
        for field_name, value, example in (("model", model, key), ("truth_file", truth, DEFAULT_TRUTH_FILE)):
            if not isinstance(value, str) or not value:
                problems.append(doc.problem(here + [field_name], f"`{field_name}` is not text",
                                            f"write e.g. `{field_name}: {example}`"))
        if "script" not in entry:
            problems.append(doc.problem(here, f"the test for `{key}` has no `script`",
                                        "add `script:` with its steps, e.g. `- loop 5:` / `- download` / "
                                        "`- infer 70 10`"))
            continue
        script = _parse_script(doc, here + ["script"], entry["script"], problems)
        name = entry.get("name")
        tests[key] = MlcTest(key=key, name=None if name is None else str(name), model=str(model),
                             truth_file=str(truth), script=script)
    return tests


def load_mlcommons(devices_yaml: str | os.PathLike, tests_yaml: str | os.PathLike,
                   dataset_path: str | os.PathLike | None, mode: str) -> MlcConfig:
    """A HarnessConfig from the MLCommons runner's devices and tests yaml (its --device_list,
    --test_script, --dataset_path and --mode). The benchmark stays None until `for_model`; every
    port is None (found by USB ids later, or chosen with `pick_devices`). InputError (exit 2) with
    file and line for anything the runner could not use."""
    mode = normalise_mode(mode)
    devices_doc = YamlDoc.read(devices_yaml, "runner devices yaml", DEVICES_FIX)
    tests_doc = YamlDoc.read(tests_yaml, "runner tests yaml", TESTS_FIX)
    problems = devices_doc.duplicate_keys()
    candidates = _devices(devices_doc, mode, problems)
    devices_doc.fail(problems, "runner devices yaml")
    problems = tests_doc.duplicate_keys()
    tests = _tests(tests_doc, problems)
    tests_doc.fail(problems, "runner tests yaml")
    if not tests:
        tests_doc.fail([tests_doc.problem([], "there is no test in this file", TESTS_FIX)], "runner tests yaml")

    dut = candidates["dut"][0]
    interface = candidates["interface"][0] if candidates["interface"] else None
    monitor = candidates["monitor"][0] if candidates["monitor"] else None
    dut = dataclasses.replace(dut, chunk_bytes=CHUNK_WITH_MONITOR if monitor else CHUNK_WITHOUT_MONITOR)
    root = None if dataset_path is None else Path(os.path.normpath(Path(dataset_path).expanduser().absolute()))
    return MlcConfig(
        benchmark=None, dataset=None, truth_file=DEFAULT_TRUTH_FILE,
        dut=dut, interface=interface, monitor=monitor, modes={},
        verify_download=False, virtual=None, source=Path(devices_yaml),
        raw={"devices_yaml": str(devices_yaml), "tests_yaml": str(tests_yaml),
             "dataset_path": None if dataset_path is None else str(dataset_path), "mode": mode,
             "devices": devices_doc.data, "tests": tests_doc.data},
        origin="mlcommons", script=[],
        tests=tests, candidates=candidates, dataset_root=root, mlc_mode=mode,
    )
