"""Our harness config YAML: a full round trip, the defaults, and every kind of bad input giving a
clear InputError (exit code 2) that names the file, the line, what was expected and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.config import (
    BENCHMARKS,
    DeviceSpec,
    HarnessConfig,
    ModeSpec,
    Retries,
    Timeouts,
    VirtualSpec,
    load_config,
    normalise_mode,
)
from submission_tools.errors import EXIT_USAGE, InputError, UsageError
from submission_tools.resources import load_schema

FULL = """\
benchmark: kws01
dataset: datasets/kws01
truth_file: y_labels.csv
devices:
  dut:
    name: l4r5zi
    port: /dev/ttyACM0
    usb: {0x0483: 0x374B}
    baud: {performance: 115200, accuracy: 115200, energy: 9600}
    command_buffer: 80
    chunk_bytes: null
  interface: {name: stm32h573i-dk, port: /dev/ttyACM1, baud: 115200}
  monitor: {name: lpm01a, port: /dev/ttyACM2, baud: 3686400, voltage: 1.8, usb: {"0x0483": "0x5740"}}
modes:
  performance: {iterations: auto, warmups: 10, windows: 5, min_window_s: 10.0, target_window_s: 12.0, inputs: 5}
  accuracy: {warmups: 0, limit: null}
  energy: {iterations: 300, warmups: 0, windows: 5, min_window_s: 10.0, target_window_s: 12.0}
  streaming: {wav: long_wav.wav}
timeouts: {command_s: 5.0, infer_s: 60.0}
retries: {chunk: 2, input: 3}
verify_download: false
virtual:
  model: builtin
  infer_us: 2000
  pace: true
  power_mw: {idle: 6.0, uart: 8.0, infer: 24.0}
  dataset_count: 50
"""

MINIMAL_VIRTUAL = """\
benchmark: vww01
devices:
  dut: {port: virtual}
"""


def write(tmp_path: Path, text: str | bytes, name: str = "harness.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path: Path, text: str | bytes, name: str = "harness.yaml") -> str:
    path = write(tmp_path, text, name)
    with pytest.raises(InputError) as caught:
        load_config(path)
    assert caught.value.exit_code == EXIT_USAGE
    message = str(caught.value)
    assert str(path) in message, message
    assert "Traceback" not in message
    return message


# ---------------------------------------------------------------------------------------------
# A valid config


def test_full_config_round_trip(tmp_path):
    path = write(tmp_path, FULL)
    config = load_config(path)
    assert isinstance(config, HarnessConfig)
    assert config.origin == "submit" and config.source == path
    assert config.raw == yaml.safe_load(FULL)
    assert config.benchmark == "kws01"
    assert config.dataset == tmp_path / "datasets" / "kws01"
    assert config.truth_file == "y_labels.csv"

    dut = config.dut
    assert dut == DeviceSpec(name="l4r5zi", kind="dut", port="/dev/ttyACM0",
                             baud={"performance": 115200, "accuracy": 115200, "energy": 9600, "streaming": 9600},
                             usb=[(0x0483, 0x374B)], voltage=None, command_buffer=80, chunk_bytes=None,
                             echo=False, extra={})
    assert dut.baud_for("p") == 115200 and dut.baud_for("energy") == 9600 and dut.baud_for("sww") == 9600
    assert dut.max_chunk_bytes() == 38  # "db " + 76 hex = 79 characters, inside the 80 of the buffer
    assert config.interface.name == "stm32h573i-dk" and config.interface.usb == [(0x0483, 0x374E)]
    assert config.interface.baud_for("energy") == 115200
    assert config.monitor.usb == [(0x0483, 0x5740)] and config.monitor.voltage == 1.8
    assert config.monitor.baud_for("energy") == 3686400

    assert config.mode("performance") == ModeSpec(iterations=None, warmups=10, windows=5, min_window_s=10.0,
                                                  target_window_s=12.0, inputs=5)
    assert config.mode("e").iterations == 300
    assert config.mode("a").limit is None and config.mode("a").iterations == 1
    assert config.mode("sww").wav == "long_wav.wav"
    assert config.timeouts == Timeouts(5.0, 60.0) and config.retries == Retries(2, 3)
    assert config.verify_download is False
    assert config.virtual is None  # no device is virtual, so the section changes nothing
    json.dumps(config.effective())  # the effective config is JSON-ready for the session manifest


def test_fingerprint_follows_what_is_measured_not_where_it_is_plugged(tmp_path):
    first = load_config(write(tmp_path, FULL)).fingerprint()
    assert len(first) == 64 and first == load_config(write(tmp_path, FULL, "again.yaml")).fingerprint()
    moved = FULL.replace("/dev/ttyACM0", "/dev/ttyACM7").replace("port: /dev/ttyACM1", "port: auto")
    assert load_config(write(tmp_path, moved, "moved.yaml")).fingerprint() == first
    changed = FULL.replace("warmups: 10", "warmups: 11")
    assert load_config(write(tmp_path, changed, "changed.yaml")).fingerprint() != first
    other_baud = FULL.replace("energy: 9600}", "energy: 19200}")
    assert load_config(write(tmp_path, other_baud, "baud.yaml")).fingerprint() != first


def test_defaults_of_a_minimal_virtual_config(tmp_path):
    config = load_config(write(tmp_path, MINIMAL_VIRTUAL))
    assert config.dataset is None and config.truth_file == "y_labels.csv"
    assert config.dut.port == "virtual" and config.dut.is_virtual and config.dut.name == "dut"
    assert config.dut.baud == {"performance": 115200, "accuracy": 115200, "energy": 9600, "streaming": 9600}
    assert config.dut.usb == [] and config.dut.command_buffer == 80 and config.dut.chunk_bytes is None
    assert config.interface is None and config.monitor is None
    assert config.modes["performance"] == ModeSpec(iterations=None, warmups=10, windows=5, inputs=5)
    assert config.modes["energy"] == ModeSpec(iterations=None, warmups=0, windows=5, inputs=5)
    assert config.modes["accuracy"] == ModeSpec(iterations=1, warmups=0, windows=None, inputs=None, limit=None)
    assert config.modes["streaming"].windows == 1 and config.modes["streaming"].wav is None
    assert config.timeouts == Timeouts(command_s=5.0, infer_s=60.0)
    assert config.retries == Retries(chunk=2, input=3)
    assert config.verify_download is False
    assert config.virtual == VirtualSpec(model="builtin", infer_us=2000, pace=True,
                                         power_mw={"idle": 6.0, "uart": 8.0, "infer": 24.0, "stream": 24.0},
                                         dataset_count=50)


def test_device_defaults_by_name_and_auto_port(tmp_path):
    text = MINIMAL_VIRTUAL + "  interface: {name: arduino}\n  monitor: {name: js220}\n"
    config = load_config(write(tmp_path, text))
    assert config.interface.port is None  # "auto": found later by USB ids
    assert config.interface.usb == [(0x2341, 0x0043), (0x2341, 0x0001), (0x2A03, 0x0043), (0x2A03, 0x0243)]
    assert config.monitor.usb == [(0x16D0, 0x10BA)] and config.monitor.voltage is None
    assert config.monitor.extra == {"raw_sampling_rate": 1_000_000, "virtual_sampling_rate": 1000}


def test_sww_truth_file_single_baud_and_relative_paths(tmp_path):
    (tmp_path / "conf").mkdir()
    text = ("benchmark: sww01\ndataset: ../data/sww\ndevices:\n  dut: {port: virtual, baud: 921600}\n"
            "virtual: {model: models/m.tflite, power_mw: {infer: 30}}\n")
    config = load_config(write(tmp_path / "conf", text))
    assert config.truth_file == "sww_long_test.json"
    assert config.dataset == tmp_path / "data" / "sww"  # relative to the config file, not the cwd
    assert config.dut.baud == dict.fromkeys(("performance", "accuracy", "energy", "streaming"), 921600)
    assert config.virtual.model == tmp_path / "conf" / "models" / "m.tflite"
    assert config.virtual.power_mw == {"idle": 6.0, "uart": 8.0, "infer": 30.0, "stream": 30.0}


def test_usb_ids_as_strings_and_lists(tmp_path):
    text = MINIMAL_VIRTUAL.replace("{port: virtual}", '{port: virtual, usb: {"0x2341": ["0x0043", 1], 1155: 0x374B}}')
    config = load_config(write(tmp_path, text))
    assert config.dut.usb == [(0x2341, 0x0043), (0x2341, 1), (0x0483, 0x374B)]


def test_schema_is_valid_and_describes_every_property():
    schema = load_schema("harness_config")
    jsonschema.Draft202012Validator.check_schema(schema)
    undocumented = []

    def walk(node, where):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub and "$ref" not in sub:
                    undocumented.append(f"{where}/{name}")
                if "$ref" in sub and "description" not in sub:
                    target = schema["$defs"][sub["$ref"].rsplit("/", 1)[1]]
                    if "description" not in target:
                        undocumented.append(f"{where}/{name}")
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(schema, "")
    assert undocumented == []
    assert schema["properties"]["benchmark"]["enum"] == list(BENCHMARKS)


def test_schema_defaults_match_the_loader(tmp_path):
    schema = load_schema("harness_config")
    config = load_config(write(tmp_path, MINIMAL_VIRTUAL))
    props = schema["properties"]
    assert props["timeouts"]["properties"]["command_s"]["default"] == config.timeouts.command_s
    assert props["timeouts"]["properties"]["infer_s"]["default"] == config.timeouts.infer_s
    assert props["retries"]["properties"]["chunk"]["default"] == config.retries.chunk
    assert props["retries"]["properties"]["input"]["default"] == config.retries.input
    assert props["verify_download"]["default"] is config.verify_download
    for key in ("model", "infer_us", "pace", "dataset_count"):
        assert props["virtual"]["properties"][key]["default"] == getattr(config.virtual, key)
    defs = schema["$defs"]
    assert defs["windows"]["default"] == config.modes["performance"].windows
    assert defs["min_window_s"]["default"] == config.modes["energy"].min_window_s
    assert defs["target_window_s"]["default"] == config.modes["energy"].target_window_s
    assert defs["inputs"]["default"] == config.modes["performance"].inputs
    assert defs["dut"]["properties"]["command_buffer"]["default"] == config.dut.command_buffer


# ---------------------------------------------------------------------------------------------
# Modes and models


@pytest.mark.parametrize("text, mode", [
    ("performance", "performance"), ("p", "performance"), ("P", "performance"), (" accuracy ", "accuracy"),
    ("a", "accuracy"), ("energy", "energy"), ("e", "energy"), ("streaming", "streaming"), ("sww", "streaming"),
])
def test_normalise_mode(text, mode):
    assert normalise_mode(text) == mode


def test_unknown_mode_is_a_usage_error():
    with pytest.raises(UsageError) as caught:
        normalise_mode("perf")
    assert caught.value.exit_code == EXIT_USAGE
    assert "performance (p)" in str(caught.value) and "streaming (sww)" in str(caught.value)


def test_for_model_checks_the_dut_agrees(tmp_path):
    config = load_config(write(tmp_path, MINIMAL_VIRTUAL.replace("vww01", "ic02")))
    assert config.for_model("ic02") is config
    assert config.for_model("ic01") is config  # the ic02 entry of the runner's tests yaml runs model ic01
    with pytest.raises(InputError) as caught:
        config.for_model("kws01")
    assert "benchmark is ic02" in str(caught.value) and "kws01" in str(caught.value)


# ---------------------------------------------------------------------------------------------
# Bad input: each names the file and the line, says what was expected and how to fix it


def test_missing_benchmark(tmp_path):
    message = problem(tmp_path, "devices:\n  dut: {port: virtual}\n")
    assert "line 1, column 1" in message and "`benchmark` is missing" in message
    assert "add `benchmark: kws01`" in message and "kws01, vww01, ic01, ic02, ad01, sww01" in message


def test_unknown_benchmark(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL.replace("vww01", "vww02"))
    assert "line 1, column 12" in message and "/benchmark" in message
    assert "is not one of kws01" in message and "did you mean `vww01`?" in message


def test_unknown_mode_key(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "modes:\n  performance: {warmups: 3}\n  acuracy: {limit: 5}\n")
    assert "line 6, column 3" in message and "/modes/acuracy" in message
    assert "unknown key `acuracy`" in message and "did you mean `accuracy`?" in message
    assert "allowed here: accuracy, energy, performance, streaming" in message


def test_unknown_key_inside_a_mode(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "modes:\n  performance:\n    iteratons: 100\n")
    assert "line 6, column 5" in message and "did you mean `iterations`?" in message


def test_bad_baud_type_in_a_map(tmp_path):
    text = MINIMAL_VIRTUAL.replace("{port: virtual}",
                                   "\n    port: virtual\n    baud: {performance: 115200, energy: fast}")
    message = problem(tmp_path, text)
    assert "line 5, column 41" in message and "/devices/dut/baud/energy" in message
    assert "the text `fast` is not a whole number" in message and "`energy: 115200`" in message


def test_bad_baud_type_alone(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL.replace("{port: virtual}", "{port: virtual, baud: [9600]}"))
    assert "line 3" in message and "/devices/dut/baud" in message
    assert "expected DUT baud rate: one number for every mode, or one per mode" in message


def test_baud_out_of_range(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL.replace("{port: virtual}", "{port: virtual, baud: 12}"))
    assert "/devices/dut/baud" in message and "expected at least 300" in message


@pytest.mark.parametrize("usb, line, column, words", [
    ("[0x0483, 0x374B]", 3, 29, ["/devices/dut/usb", "a list", "is not a mapping", "usb: {0x0483: 0x374B}"]),
    ('"0483:374B"', 3, 29, ["/devices/dut/usb", "is not a mapping"]),
    ("{0x0483: zz}", 3, 38,
     ["/devices/dut/usb/1155", "the text `zz` is not valid", "16-bit USB vendor or product id", "like `0x374B`"]),
    ("{0x0483: [0x374B, 0x1FFFF]}", 3, 47, ["/devices/dut/usb/1155/1", "out of range", "at most 65535"]),
    ("{0x2341: 0043}", 3, 38, ["/devices/dut/usb/9025", "`0043` has a leading zero", "octal", "`0x0043`"]),
    ("{70000: 0x0043}", 3, 30, ["/devices/dut/usb/70000", "not a USB id", "0 to 0xFFFF"]),
    ('{"0483": 0x0043}', 3, 30, ["/devices/dut/usb/0483", "key `0483` is not valid", "`0x0483`"]),
    ("{}", 3, 29, ["/devices/dut/usb", "is empty"]),
])
def test_wrong_usb_format(tmp_path, usb, line, column, words):
    message = problem(tmp_path, MINIMAL_VIRTUAL.replace("{port: virtual}", "{port: virtual, usb: " + usb + "}"))
    assert f"line {line}, column {column}" in message, message
    for word in words:
        assert word in message, (word, message)


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    message = problem(tmp_path, "benchmark: kws01\ndevices:\n  dut: {port: virtual\nmodes: {}\n")
    assert "is not valid YAML" in message and "line 4" in message and "started on line 3" in message
    assert "indentation" in message


def test_tab_indentation(tmp_path):
    message = problem(tmp_path, "benchmark: kws01\ndevices:\n\tdut: {port: virtual}\n")
    assert "line 3, column 1" in message and "is not valid YAML" in message and "spaces, not tabs" in message


def test_empty_file(tmp_path):
    message = problem(tmp_path, "")
    assert "line 1: is empty" in message and "`benchmark:`" in message and "submit schema harness_config" in message


def test_comments_only_file(tmp_path):
    assert "is empty" in problem(tmp_path, "# nothing yet\n\n")


def test_binary_file(tmp_path):
    message = problem(tmp_path, b"benchmark: kws01\n\x00\x01\x02\x89PNG", "harness.yaml")
    assert "binary data" in message and "line 2, column 1" in message


def test_not_utf8(tmp_path):
    message = problem(tmp_path, "benchmark: kws01\ndevices:\n  dut: {name: caf\xe9}\n".encode("latin-1"))
    assert "not UTF-8" in message and "line 3" in message


def test_huge_file(tmp_path):
    message = problem(tmp_path, "# padding\n" * 120_000)
    assert "larger than 1 MiB" in message and "harness config" in message


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    message = problem(tmp_path, "\n".join(lines) + "\n")
    assert "holds more than 200000 values" in message


@pytest.mark.parametrize("text, words", [
    ("a: &x [*x]\n", "refers to itself"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "nested more than 64 levels"),
    ("a: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested too deeply"),
])
def test_recursive_and_deep_documents(tmp_path, text, words):
    assert words in problem(tmp_path, text)


def test_top_level_list(tmp_path):
    message = problem(tmp_path, "- benchmark: kws01\n")
    assert "line 1, column 1" in message and "not a mapping" in message


def test_duplicate_key(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "benchmark: kws01\n")
    assert "line 4, column 1" in message and "`benchmark` appears a second time (first on line 1)" in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError) as caught:
        load_config(tmp_path / "absent.yaml")
    assert "absent.yaml: no such file" in str(caught.value)
    with pytest.raises(InputError) as caught:
        load_config(tmp_path)
    assert "is a folder" in str(caught.value)


def test_dataset_required_with_a_real_dut(tmp_path):
    message = problem(tmp_path, "benchmark: kws01\ndevices:\n  dut: {port: /dev/ttyACM0}\n")
    assert "line 1" in message and "`dataset` is missing" in message and "port: virtual" in message


def test_chunk_that_does_not_fit_the_command_buffer(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL.replace("{port: virtual}", "{port: virtual, chunk_bytes: 40}"))
    assert "line 3" in message and "/devices/dut/chunk_bytes" in message
    assert "83 characters" in message and "at most 38" in message


def test_target_window_below_minimum(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "modes:\n  energy: {min_window_s: 10, target_window_s: 9}\n")
    assert "line 5, column 47" in message and "/modes/energy/target_window_s" in message


def test_iterations_zero_and_words(tmp_path):
    modes = "modes:\n  performance: {iterations: 0}\n  energy: {iterations: many}\n"
    message = problem(tmp_path, MINIMAL_VIRTUAL + modes)
    assert "/modes/performance/iterations: `0` is out of range; expected at least 1" in message
    assert "/modes/energy/iterations: the text `many` is not valid here" in message and "`iterations: auto`" in message
    assert message.index("line 5") < message.index("line 6")  # problems come in file order


def test_js220_setting_on_an_lpm01a(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "  monitor: {name: lpm01a, raw_sampling_rate: 1000}\n")
    assert "line 4" in message and "JS220 setting" in message


def test_voltage_out_of_lpm01a_range(tmp_path):
    message = problem(tmp_path, MINIMAL_VIRTUAL + "  monitor: {name: lpm01a, voltage: 5}\n")
    assert "/devices/monitor/voltage" in message and "at most 3.3" in message


def test_several_problems_are_reported_together(tmp_path):
    message = problem(tmp_path, "benchmark: kws02\ndevices:\n  dut: {port: virtual, echo: yes please}\nextra: 1\n")
    assert message.splitlines()[0].endswith("3 problems in this harness config:")
    assert all(str(tmp_path) in line for line in message.splitlines())


def test_an_unknown_transfer_names_the_choices(tmp_path):
    message = problem(tmp_path, "benchmark: kws01\ndevices:\n  dut: {port: virtual, transfer: fast}\n")
    assert "line 3" in message and "transfer" in message
    assert "auto" in message and "binary" in message and "hex" in message


def test_transfer_and_virtual_firmware_are_read(tmp_path):
    path = write(tmp_path, "benchmark: kws01\ndevices:\n  dut: {port: virtual, transfer: hex}\n"
                           "virtual: {firmware: reference, command_buffer: 80, binary_chunk: 0}\n")
    config = load_config(path)
    assert config.dut.transfer == "hex"
    assert (config.virtual.firmware, config.virtual.command_buffer, config.virtual.binary_chunk) == ("reference", 80, 0)
