"""`submit run` on the command line: exit codes, messages, --list-ports, the runner's YAML files."""

from __future__ import annotations

import json

from helpers.harness_runs import virtual_config
from helpers.shared import shared_path
from submission_tools.cli import main


def test_a_virtual_accuracy_run_exits_0_and_names_its_session(tmp_path, capsys):
    config = virtual_config(tmp_path / "c.yaml", "kws")
    code = main(["run", str(config), "--mode", "a", "--out", str(tmp_path / "sessions")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Top 1% =" in out and "AUC =" in out
    (session,) = (tmp_path / "sessions").iterdir()
    assert f"session: {session}" in err
    assert json.loads((session / "manifest.json").read_text())["status"] == "complete"


def test_mode_is_required_and_checked(tmp_path, capsys):
    config = virtual_config(tmp_path / "c.yaml", "kws")
    assert main(["run", str(config)]) == 2
    assert "--mode is required" in capsys.readouterr().err
    assert main(["run", str(config), "--mode", "fast"]) == 2
    assert "fast" in capsys.readouterr().err


def test_a_broken_config_is_a_usage_error_naming_the_line(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("benchmark: kws01\ndevices:\n  dut: {port: virtual, baud: fast}\n")
    assert main(["run", str(config), "--mode", "p"]) == 2
    err = capsys.readouterr().err
    assert "c.yaml, line 3" in err and "baud" in err and "Traceback" not in err


def test_a_missing_dataset_folder_is_an_input_error(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("benchmark: kws01\ndataset: nowhere\ndevices:\n  dut: {port: virtual}\n"
                      "virtual: {pace: false}\n")
    assert main(["run", str(config), "--mode", "a", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "y_labels.csv" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()  # no session is opened for a run that cannot start


def test_a_port_that_does_not_exist_is_an_input_error(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    dataset = tmp_path / "d"
    dataset.mkdir()
    (dataset / "y_labels.csv").write_text("a.bin,12,1\n")
    config.write_text(f"benchmark: kws01\ndataset: {dataset}\ndevices:\n  dut: {{port: /dev/ttyNOPE9}}\n")
    assert main(["run", str(config), "--mode", "a", "--out", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "/dev/ttyNOPE9" in err and "--list-ports" in err


def test_list_ports_exits_0(capsys):
    assert main(["run", "--list-ports"]) == 0
    assert capsys.readouterr().out.strip()


def test_runner_yaml_files_without_a_board_attached(tmp_path, capsys):
    runner = shared_path("data", "mlperf_tiny", "benchmark", "runner")
    code = main(["run", "--devices", str(runner / "devices_kws_ic_vww.yaml"), "--tests",
                 str(runner / "tests_accuracy.yaml"), "--dataset-path", str(tmp_path), "--mode", "a",
                 "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2, err
    # no board is attached here: the DUT's port cannot be found, and the message says how to fix it
    assert "Traceback" not in err and "port" in err


def test_runner_yaml_options_go_together(tmp_path, capsys):
    assert main(["run", "--devices", "x.yaml", "--mode", "a"]) == 2
    assert "go together" in capsys.readouterr().err
