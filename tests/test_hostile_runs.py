"""Hostile runner files give findings through the command, never a traceback (issue: recompute)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec, build_example_tree, write_example_reference

EEMBC = ExampleSpec(round="v1.3", runner="eembc", benchmarks=("kws",), energy=("kws",), accuracy_inputs=6)
MLC = ExampleSpec(round="v1.4", benchmarks=("kws",), energy=("kws",), accuracy_inputs=6)


def _check(capsys, root: Path, reference: Path) -> tuple[int, set[str], str]:
    code = main(["check", str(root), "--reference", str(reference), "--format", "json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    report = json.loads(captured.out)
    return code, {f["rule"] for f in report["findings"]}, captured.err


def _tree(tmp_path, spec):
    root = build_example_tree(tmp_path / "tree", spec)
    return root, write_example_reference(tmp_path / "reference", spec), \
        root / "closed" / "example_org" / "results" / "virtual_dut_host" / "kws"


def test_log_cut_mid_window(tmp_path, capsys):
    root, reference, kws = _tree(tmp_path, EEMBC)
    log = kws / "performance" / "log.txt"
    lines = log.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if "m-lap-us" in line and i > len(lines) // 2)
    log.write_text("".join(lines[:cut + 1])[:-5])  # ends inside a window, mid-line
    code, rules, _ = _check(capsys, root, reference)
    assert code == 1 and {"PERF001", "PERF003"} <= rules


def test_truncated_accuracy_log(tmp_path, capsys):
    root, reference, kws = _tree(tmp_path, EEMBC)
    log = kws / "accuracy" / "log.txt"
    log.write_bytes(log.read_bytes()[: log.stat().st_size // 2])
    code, rules, _ = _check(capsys, root, reference)
    assert code == 1 and "ACC003" in rules


def test_garbage_bytes_in_every_runner_file(tmp_path, capsys):
    root, reference, kws = _tree(tmp_path, MLC)
    garbage = bytes(range(256)) * 64
    for name in ("log.txt", "results.txt", "results.json"):
        (kws / "performance" / name).write_bytes(garbage)
    code, rules, _ = _check(capsys, root, reference)
    assert code == 1 and "RUN004" in rules


def test_truncated_results_json_and_duplicated_blocks(tmp_path, capsys):
    root, reference, kws = _tree(tmp_path, MLC)
    records = kws / "accuracy" / "results.json"
    records.write_bytes(records.read_bytes()[:-100])
    results = kws / "performance" / "results.txt"
    text = results.read_text()
    first_block = text[: text.index("Performance results for window 2")]
    results.write_text(first_block + text)  # window 1 printed twice, as v1.2 bosch files do
    code, rules, _ = _check(capsys, root, reference)
    assert code == 1 and rules == {"RUN004"}  # the repeated block is read once and still agrees


def test_two_gigabyte_trace_is_not_read_whole(tmp_path, capsys):
    root, reference, kws = _tree(tmp_path, EEMBC)
    trace = kws / "energy" / "trace1-energy.bin"
    header = trace.read_bytes()[:5]
    with open(trace, "wb") as fh:
        fh.write(header)
        fh.truncate(2 * 1024 ** 3 + 5)  # sparse: 2 GiB of zero samples on disk without the bytes
    if os.stat(trace).st_blocks * 512 > 64 * 1024 ** 2:
        pytest.skip("this file system does not keep sparse files sparse")
    started = time.perf_counter()
    code, rules, _ = _check(capsys, root, reference)
    assert time.perf_counter() - started < 30
    assert code == 1 and {"TREE102", "ENERGY003"} <= rules  # over the size limit, and zero energy
