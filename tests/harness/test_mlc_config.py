"""The MLCommons runner's devices/tests YAML files (the real ones, from the shared corpus) read into
a HarnessConfig: baud rates, the preference rule, scripts, and clear errors for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.shared import shared_path

from harness.config import ModeSpec
from harness.mlc_config import (
    DownloadStep,
    InferStep,
    LoopStep,
    MlcConfig,
    ResetStep,
    StreamStep,
    load_mlcommons,
    mode_spec,
)
from harness.ports import PortInfo
from submission_tools.errors import EXIT_USAGE, InputError

RUNNER = ("data", "mlperf_tiny", "benchmark", "runner")


def runner_file(name: str) -> Path:
    return shared_path(*RUNNER, name)


def load(devices: str = "devices_kws_ic_vww", tests: str = "performance", mode: str = "p",
         dataset: str | None = "/data/tiny") -> MlcConfig:
    return load_mlcommons(runner_file(f"{devices}.yaml"), runner_file(f"tests_{tests}.yaml"), dataset, mode)


# ---------------------------------------------------------------------------------------------
# Devices


@pytest.mark.parametrize("devices, energy, performance, accuracy", [
    ("devices_kws_ic_vww", 9600, 115200, 115200),
    ("devices_ad", 9600, 921600, 921600),
    ("devices_sww", 115200, 115200, 115200),
])
def test_dut_baud_per_mode(devices, energy, performance, accuracy):
    config = load(devices)
    dut = config.dut
    assert dut.kind == "dut" and dut.name == "l4r5zi" and dut.port is None
    assert (dut.baud_for("e"), dut.baud_for("p"), dut.baud_for("a")) == (energy, performance, accuracy)
    assert dut.baud_for("streaming") == energy  # streaming runs like energy, through the interface
    assert dut.usb == [(0x0483, 0x374B)]
    assert config.interface.baud_for("energy") == 115200
    assert config.monitor.name != "lpm01a" or config.monitor.baud_for("energy") == 3686400


@pytest.mark.parametrize("devices, interface, monitor, voltage", [
    ("devices_kws_ic_vww", "stm32h573i-dk", "lpm01a", 1.8),
    ("devices_ad", "stm32h573i-dk", "lpm01a", 1.8),
    ("devices_sww", "stm32h573i-dk", "js220", None),  # js220 has preference 2 in the sww file
])
def test_preference_picks_as_the_runner(devices, interface, monitor, voltage):
    config = load(devices)
    assert config.origin == "mlcommons" and config.benchmark is None
    assert config.interface.name == interface and config.interface.kind == "interface"
    assert config.interface.extra["protocol"] == "enhanced"
    assert config.monitor.name == monitor and config.monitor.kind == "monitor"
    assert config.monitor.voltage == voltage
    assert [d.name for d in config.candidates["interface"]] == ["stm32h573i-dk", "arduino"]
    arduino = config.candidates["interface"][1]
    assert arduino.usb == [(0x2341, 0x0043), (0x2341, 0x0001), (0x2A03, 0x0043), (0x2A03, 0x0243)]
    assert arduino.extra["protocol"] == "arduino" and arduino.extra["preference"] == 1
    # the runner sends 26-byte chunks when a power manager exists
    assert config.dut.chunk_bytes == 26


def test_monitor_details():
    config = load("devices_kws_ic_vww")
    lpm, js = config.candidates["monitor"]
    assert (lpm.name, lpm.echo, lpm.usb, lpm.voltage) == ("lpm01a", False, [(0x0483, 0x5740)], 1.8)
    assert js.name == "js220" and js.usb == [(0x16D0, 0x10BA)]
    assert js.extra["interface"] == "direct_usb"
    assert js.extra["raw_sampling_rate"] == 1_000_000 and js.extra["virtual_sampling_rate"] == 1000
    sww = load("devices_sww")
    assert [m.name for m in sww.candidates["monitor"]] == ["js220", "lpm01a"]
    assert sww.candidates["monitor"][1].voltage == 3.3


def port(device: str, vid: int, pid: int, description: str = "") -> PortInfo:
    return PortInfo(device=device, vid=vid, pid=pid, description=description)


DUT_PORT = port("/dev/ttyACM0", 0x0483, 0x374B)
STM_PORT = port("/dev/ttyACM1", 0x0483, 0x374E)
ARDUINO_PORT = port("/dev/ttyACM2", 0x2A03, 0x0243)
LPM_PORT = port("/dev/ttyACM3", 0x0483, 0x5740)


def test_pick_devices_as_attached():
    config = load("devices_kws_ic_vww")
    both = config.pick_devices([ARDUINO_PORT, DUT_PORT, STM_PORT, LPM_PORT])
    assert both.interface.name == "stm32h573i-dk" and both.interface.port == "/dev/ttyACM1"
    assert both.dut.port == "/dev/ttyACM0" and both.monitor.port == "/dev/ttyACM3"
    only_arduino = config.pick_devices([DUT_PORT, ARDUINO_PORT])
    assert only_arduino.interface.name == "arduino" and only_arduino.interface.port == "/dev/ttyACM2"
    assert only_arduino.monitor is None and only_arduino.dut.chunk_bytes == 31  # no power manager: 31 bytes
    nothing = config.pick_devices([port("/dev/ttyUSB0", 0x1A86, 0x7523)])
    assert nothing.dut.port is None and nothing.interface is None and nothing.monitor is None


def test_pick_devices_monitor_preference_with_direct_usb():
    js = (0x16D0, 0x10BA)
    kws = load("devices_kws_ic_vww").pick_devices([DUT_PORT, STM_PORT, LPM_PORT], usb_devices=[js])
    assert kws.monitor.name == "lpm01a"  # preference 2 beats the js220's 1
    sww = load("devices_sww").pick_devices([DUT_PORT, STM_PORT, LPM_PORT], usb_devices=[js])
    assert sww.monitor.name == "js220" and sww.monitor.port is None  # a USB instrument, not a serial port
    without = load("devices_sww").pick_devices([DUT_PORT, STM_PORT, LPM_PORT])
    assert without.monitor.name == "lpm01a"  # a JS220 pyserial cannot see is not there


def test_check_name_asks_the_dut(tmp_path):
    devices = tmp_path / "devices.yaml"
    devices.write_text("- name: board\n  type: dut\n  check_name: Acme\n  baud: 115200\n  usb: {0x0483: 0x374B}\n")
    config = load_mlcommons(devices, runner_file("tests_performance.yaml"), None, "performance")
    other = port("/dev/ttyACM5", 0x0483, 0x374B)
    asked = []

    def probe(url, baud):
        asked.append((url, baud))
        return "Acme" if url == "/dev/ttyACM5" else "Other"

    picked = config.pick_devices([DUT_PORT, other], probe=probe)
    assert picked.dut.port == "/dev/ttyACM5" and picked.dut.extra["check_name"] == "Acme"
    assert asked == [("/dev/ttyACM0", 115200), ("/dev/ttyACM5", 115200)]


# ---------------------------------------------------------------------------------------------
# Tests and scripts


def test_performance_scripts():
    config = load(tests="performance")
    assert set(config.tests) == {"ad01", "ic01", "ic02", "kws01", "vww01", "sww01"}
    assert config.tests["kws01"].script == [LoopStep(count=5, steps=[DownloadStep(), InferStep(70, 10)])]
    assert config.tests["ad01"].script == [LoopStep(count=5, steps=[DownloadStep(), InferStep(1500, 10)])]
    assert config.tests["ic02"].script == [LoopStep(count=None, steps=[DownloadStep(), InferStep(20, 5)])]
    assert config.tests["sww01"].script == [StreamStep()]
    assert config.tests["ic02"].model == "ic01" and config.tests["sww01"].truth_file == "sww_long_test.json"


def test_energy_and_accuracy_scripts():
    energy = load(tests="energy", mode="e")
    assert energy.tests["ic01"].script == [LoopStep(5, [DownloadStep(), InferStep(20, 0)])]
    assert energy.tests["vww01"].script == [LoopStep(5, [DownloadStep(), InferStep(20, 5)])]
    accuracy = load(tests="accuracy", mode="a")
    assert accuracy.tests["ad01"].script == [LoopStep(None, [DownloadStep(), InferStep(1, 0), ResetStep(20.0)])]
    assert accuracy.tests["sww01"].script == [LoopStep(None, [StreamStep()])]


def test_for_model_gives_the_mode_and_the_dataset():
    config = load(tests="performance", mode="performance", dataset="/data/tiny")
    kws = config.for_model("kws01")
    assert kws.benchmark == "kws01" and kws.dataset == Path("/data/tiny/kws01")
    assert kws.mode("p") == ModeSpec(iterations=70, warmups=10, windows=5, inputs=5)
    assert kws.script == config.tests["kws01"].script
    ic02 = config.for_model("ic02")
    assert ic02.dataset == Path("/data/tiny/ic01")  # the runner's <dataset_path>/<script.model>
    assert ic02.mode("performance") == ModeSpec(iterations=20, warmups=5, windows=None, inputs=None)
    assert kws.fingerprint() != ic02.fingerprint()
    json.dumps(kws.effective())
    json.dumps(kws.raw)  # the session manifest keeps the documents as loaded
    with pytest.raises(Exception) as caught:
        kws.mode("energy")
    assert "tests_energy.yaml" in str(caught.value)


def test_mode_needs_the_model_first():
    with pytest.raises(RuntimeError):
        load().mode("performance")


def test_for_model_accuracy_and_streaming():
    accuracy = load(tests="accuracy", mode="a").for_model("ad01")
    assert accuracy.mode("accuracy") == ModeSpec(iterations=1, warmups=0, windows=None, inputs=None)
    sww = load("devices_sww", tests="energy", mode="e").for_model("strww01")  # the old model string
    assert sww.benchmark == "sww01" and sww.truth_file == "sww_long_test.json"
    assert sww.mode("streaming").windows == 1 and sww.script == [StreamStep()]


def test_for_model_unknown():
    with pytest.raises(InputError) as caught:
        load().for_model("xyz01")
    message = str(caught.value)
    assert "tests_performance.yaml" in message and "'xyz01'" in message and "ad01, ic01" in message


def test_mode_spec_of_nested_loops_and_fixed_downloads():
    script = [DownloadStep(2), LoopStep(3, [LoopStep(2, [InferStep(10, 1)])])]
    assert mode_spec(script) == ModeSpec(iterations=10, warmups=1, windows=6, inputs=1)
    assert mode_spec([InferStep()]) == ModeSpec(iterations=1, warmups=0, windows=1, inputs=0)


# ---------------------------------------------------------------------------------------------
# Broken runner files


def broken(tmp_path: Path, devices: str | None = None, tests: str | None = None, mode: str = "p") -> str:
    devices_path = runner_file("devices_kws_ic_vww.yaml")
    tests_path = runner_file("tests_performance.yaml")
    if devices is not None:
        devices_path = tmp_path / "devices.yaml"
        devices_path.write_text(devices)
    if tests is not None:
        tests_path = tmp_path / "tests.yaml"
        tests_path.write_text(tests)
    with pytest.raises(InputError) as caught:
        load_mlcommons(devices_path, tests_path, None, mode)
    assert caught.value.exit_code == EXIT_USAGE
    message = str(caught.value)
    assert str(devices_path if devices is not None else tests_path) in message
    return message


DUT = "- name: b\n  type: dut\n  usb: {0x0483: 0x374B}\n"


@pytest.mark.parametrize("tests, line, words", [
    ("kws01:\n  script:\n    - loop 5:\n      - download\n      - infre 70 10\n", 5,
     ["unknown step `infre`", "infer N W"]),
    ("kws01:\n  script:\n    - infer 70 ten\n", 3, ["`infer 70 ten`", "write e.g. `infer 70 10`"]),
    ("kws01:\n  script:\n    - infer 0 1\n", 3, ["at least 1"]),
    ("kws01:\n  script:\n    - loop 5\n", 3, ["a loop needs nested steps"]),
    ("kws01:\n  script:\n    - loop five:\n      - infer 1 0\n", 3, ["loop count"]),
    ("kws01:\n  script:\n    - reset\n", 3, ["`reset S`"]),
    ("kws01:\n  script:\n    - download:\n      - infer 1 0\n", 3, ["takes no nested steps"]),
    ("kws01:\n  model: kws01\n", 2, ["has no `script`"]),
    ("kws01:\n  script: infer 1 0\n", 2, ["not a list of steps"]),
    ("- kws01\n", 1, ["not a mapping of models to tests"]),
])
def test_broken_tests_yaml(tmp_path, tests, line, words):
    message = broken(tmp_path, tests=tests)
    assert f"line {line}," in message, message
    for word in words:
        assert word in message, (word, message)


@pytest.mark.parametrize("devices, line, words", [
    ("- name: b\n  usb: {0x0483: 0x374B}\n", 1, ["has no `type`", "type: dut"]),
    ("- name: b\n  type: sensor\n  usb: {0x0483: 0x374B}\n", 2, ["type `sensor`"]),
    (DUT + "- name: ina219\n  type: power\n  usb: {0x0483: 0x5740}\n", 4,
     ["not one the runner drives", "lpm01a, js220"]),
    ("- name: b\n  type: dut\n  baud: {performance: 115200}\n  usb: {0x0483: 0x374B}\n", 3,
     ["no energy baud rate", "energy: 9600"]),
    ("- name: b\n  type: dut\n  baud: {perf: 115200, energy: 9600}\n  usb: {0x0483: 0x374B}\n", 3,
     ["unknown baud key `perf`"]),
    ("- name: b\n  type: dut\n  baud: fast\n  usb: {0x0483: 0x374B}\n", 3, ["baud `fast`"]),
    ("- name: b\n  type: dut\n  usb: [0x0483]\n", 3, ["is not a USB id map"]),
    ("- name: b\n  type: dut\n  usb: {0x0483: 0048}\n", 3, ["leading zero"]),
    ("- name: b\n  type: dut\n", 1, ["no `usb` ids"]),
    ("- name: i\n  type: interface\n  usb: {0x0483: 0x374E}\n", 1, ["no device with `type: dut`"]),
    ("{name: b}\n", 1, ["not a list of devices"]),
    (DUT + "- name: b2\n  type: dut\n  preference: high\n  usb: {0x0483: 0x374B}\n", 6, ["preference `high`"]),
    ("- name: b\n  type: dut\n  echo: maybe\n  usb: {0x0483: 0x374B}\n", 3, ["echo `maybe`"]),
])
def test_broken_devices_yaml(tmp_path, devices, line, words):
    message = broken(tmp_path, devices=devices, mode="e")
    assert f"line {line}," in message, message
    for word in words:
        assert word in message, (word, message)


def test_empty_and_binary_runner_files(tmp_path):
    assert "is empty" in broken(tmp_path, devices="")
    assert "binary data" in broken(tmp_path, tests="kws01:\x00\n")
