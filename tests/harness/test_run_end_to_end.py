"""`submit run` end to end on virtual benches: sessions from every mode, placed in a results tree,
pass `submit check` with every claim recomputed and agreeing."""

from __future__ import annotations

import json
import shutil

import pytest

from helpers.harness_runs import measure_every_mode, place_session, quiet_run, virtual_config
from helpers.live_sessions import live_findings, past_the_window
from submission_tools.check import CheckOptions, run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree, write_example_reference

BENCHES = ("kws", "vww", "ic", "ad")
INPUTS = 20


@pytest.fixture(scope="module")
def measured_tree(tmp_path_factory):
    """An example tree whose every session was replaced by one `submit run` measured."""
    root = tmp_path_factory.mktemp("e2e")
    spec = ExampleSpec(round="v1.4", benchmarks=BENCHES + ("sww",), energy=BENCHES, accuracy_inputs=INPUTS)
    tree = build_example_tree(root / "tree", spec)
    reference = write_example_reference(root / "reference", spec)
    sessions = measure_every_mode(root, root / "sessions", INPUTS)
    for (bench, mode), session in sessions.items():
        mode_dir = tree / "closed" / spec.submitter / "results" / spec.system / bench / mode
        shutil.rmtree(mode_dir)
        place_session(session, mode_dir)
    return tree, reference, sessions


def test_every_session_passes_check_with_no_mismatch(measured_tree):
    tree, reference, _ = measured_tree
    result = run_check(tree, CheckOptions(reference=reference))
    assert [(f.rule, f.path, f.message) for f in live_findings(result.findings)] == []
    assert result.exit_code(strict=not past_the_window()) == 0
    by_metric = {row["metric"]: row for row in result.agreement}
    assert all(row["different"] == 0 and row["not_recomputable"] == 0 for row in result.agreement)
    # every claim a session makes was recomputed: 4 benchmarks x 5 windows, 4+1 energy medians, ...
    assert by_metric["window throughput"]["agreed"] == 20
    assert by_metric["median throughput"]["agreed"] == 4
    assert by_metric["Top-1"]["agreed"] == 4
    assert by_metric["median energy"]["agreed"] == 5
    assert by_metric["sww TP/FN/FP"]["agreed"] == 2


def test_manifest_records_identity_inputs_and_file_hashes(measured_tree):
    _, _, sessions = measured_tree
    folder = sessions["kws", "accuracy"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["dut"] == {"name": "virtual", "profile": "ULPMark for tinyML Firmware V0.0.1", "model": "kws01"}
    assert len(manifest["inputs"]) == INPUTS and all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    # the virtual DUT runs our firmware: binary on its own port, hex behind the interface board
    assert manifest["download"].items() >= {
        "transfer": "binary", "chunk_bytes": 512, "command_buffer": 80, "path": "direct",
        "capabilities": {"command_buffer": 80, "max_input": 490, "binary_chunk": 512,
                         "line": "m-caps-[cmd=80,db=490,bin=512]"}}.items()
    energy = json.loads((sessions["kws", "energy"] / "manifest.json").read_text())
    assert energy["download"].items() >= {"transfer": "hex", "chunk_bytes": 38, "command_buffer": 80,
                                          "path": "interface", "capabilities": None}.items()
    from harness.session import sha256_file

    for name, digest in manifest["files"].items():
        assert sha256_file(folder / name) == digest


def test_performance_windows_last_at_least_ten_seconds(measured_tree):
    _, _, sessions = measured_tree
    records = json.loads((sessions["vww", "performance"] / "results.json").read_text())
    assert len(records) == 5
    assert all(r["infer"]["elapsed_time"] >= 10_000_000 for r in records)
    assert all(r["mode"] == "p" and r["infer"]["throughput"] > 0 for r in records)


def test_energy_session_has_samples_events_and_plots(measured_tree):
    _, _, sessions = measured_tree
    folder = sessions["ic", "energy"]
    records = json.loads((folder / "results.json").read_text())
    assert len(records) == 5
    for record in records:
        events = record["power"]["timestamps"]
        assert len(events) >= 2 and record["power"]["voltage"] == 1.8
        assert events[-1][1] - events[-2][1] >= 10_000  # >= 10 s of 1 ms samples between the edges
    assert sorted(p.name for p in folder.glob("energy_inf_*.png")) == [f"energy_inf_{i:03d}.png" for i in range(5)]
    assert (folder / "energy_inf_000.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ad_accuracy_sends_every_sliding_window(measured_tree):
    _, _, sessions = measured_tree
    records = json.loads((sessions["ad", "accuracy"] / "results.json").read_text())
    assert len(records) == INPUTS * 10  # 10 windows of 2560 bytes at stride 512 per synthetic file
    assert {r["total_length"] for r in records} == {10}
    assert {(r["bytes_to_send"], r["stride"]) for r in records} == {("2560", "512")}


def test_energy_through_the_arduino_io_manager(tmp_path):
    config = virtual_config(tmp_path / "c.yaml", "kws", interface=True, monitor=True)
    config.write_text(config.read_text().replace("stm32h573i-dk", "arduino"))
    outcome = quiet_run(config, "energy", tmp_path / "s")
    log = (outcome.session_dir / "log.txt").read_text()
    assert "tm 0%" in log and "enable-timer%" in log and "setbaud" not in log
    assert any(line.startswith("Median energy cost is") for line in outcome.results_txt)


def test_the_arduino_refuses_a_dut_baud_other_than_9600(tmp_path):
    from harness.errors import HarnessError

    config = virtual_config(tmp_path / "c.yaml", "kws", interface=True, monitor=True)
    config.write_text(config.read_text().replace("stm32h573i-dk", "arduino").replace(
        "dut: {port: virtual,", "dut: {port: virtual, baud: {energy: 115200},"))
    with pytest.raises(HarnessError, match="9600 baud only"):
        quiet_run(config, "energy", tmp_path / "s")


def test_the_log_starts_with_the_set_up_exchange_then_the_downloads_without_their_chunks(measured_tree):
    _, _, sessions = measured_tree
    lines = (sessions["kws", "accuracy"] / "log.txt").read_text().splitlines()
    assert lines[:3] == ["name%", "RX:m-name-dut-[virtual]", "RX:m-ready"]  # in the order it happened
    assert lines.index("caps%") < lines.index("Device model retrieved: kws01")
    headers = [line for line in lines if line.startswith("db bin 490 ")]
    assert len(headers) == INPUTS and not any(line.startswith(("[binary", "RX:m-ack-")) for line in lines)
