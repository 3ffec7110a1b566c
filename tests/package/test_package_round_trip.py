"""The round trip: `submit run` on virtual benches for every benchmark and mode, `submit package`,
then `submit check` on the packaged tree, which must pass with every claim recomputed; packaging
twice gives byte-identical trees and the same git tree hash."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path

import git
import pytest
import yaml

from helpers.harness_runs import BENCH_MODES, measure_every_mode
from helpers.live_sessions import live_findings, past_the_window
from submission_tools.check import CheckOptions, run_check
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec, minimal_pdf, write_example_reference
from submission_tools.package.render import inputs_digest

BENCHES = ("kws", "vww", "ic", "ad")
INPUTS = 20
SYSTEM = "virtual_board"
SUBMITTER = "example_org"
FIELDS = {
    "Status": "available",  # written back in its canonical case
    "Board Name": "Virtual DUT on the host",
    "Processor(s) Name": "Host CPU",
    "Processor(s) Frequencies": "as the host runs it",
    "Inference Framework": "submit built-in int8 reference kernels",
    "Operating System ": "Linux",  # the template's trailing-space key, fixed on the way
}


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file and folder below root: (mode, bytes) by relative path, .git excluded."""
    out = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in dirs + sorted(files):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            out[rel] = (mode, b"" if path.is_dir() else path.read_bytes())
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Sessions of every benchmark and mode, code folders, documents and the submission manifest."""
    root = tmp_path_factory.mktemp("package-round-trip")
    reference = write_example_reference(root / "reference", ExampleSpec(accuracy_inputs=INPUTS))
    base = root / "inputs"
    configs = base / "configs"
    configs.mkdir(parents=True)
    (base / "docs").mkdir()
    (base / "docs" / "checklist.pdf").write_bytes(minimal_pdf("TinyMLPerf v1.4 submission checklist"))
    (base / "docs" / "hookup.pdf").write_bytes(minimal_pdf("Energy hook-up: core supply through the LPM01A"))
    measured = measure_every_mode(configs, base / "sessions", INPUTS)
    benchmarks = {}
    for bench, modes in BENCH_MODES.items():
        code = base / "src" / f"{bench}_tflm"
        code.mkdir(parents=True)
        (code / "README.md").write_text(f"# {bench}\n\nBuild with `make flash`.\n", encoding="utf-8")
        (code / "Makefile").write_text("flash:\n\t@echo flashing\n", encoding="utf-8")
        (code / "build.sh").write_text("#!/bin/sh\nmake flash\n", encoding="utf-8")
        os.chmod(code / "build.sh", 0o755)  # the package writes every file 0644 whatever its mode
        sessions = {mode: measured[bench, mode].relative_to(base).as_posix() for mode in modes}
        benchmarks[bench] = {"implementation": "tflm", "code": f"src/{bench}_tflm", "reference_int8": True,
                             "sessions": sessions}
    manifest = base / "submission.yaml"
    manifest.write_text(yaml.safe_dump({
        "round": "v1.4", "division": "closed", "submitter": SUBMITTER,
        "checklist": "docs/checklist.pdf", "energy_hookup": "docs/hookup.pdf",
        "notes": "Flash with `make flash`; the virtual DUT needs no board.",
        "systems": [{"id": SYSTEM, "description": FIELDS, "benchmarks": benchmarks}],
    }, sort_keys=False), encoding="utf-8")
    return root, manifest, reference


@pytest.fixture(scope="module")
def packaged(inputs):
    """The inputs packaged twice, into two repositories (`--git`), with the time the first took."""
    root, manifest, reference = inputs
    before = _snapshot(manifest.parent)
    outs, seconds = [], []
    for name in ("first", "second"):
        out = root / name
        started = time.perf_counter()
        code = main(["package", str(manifest), "--out", str(out), "--reference", str(reference), "--git"])
        seconds.append(time.perf_counter() - started)
        assert code == 0
        outs.append(out)
    return outs, seconds, before


def test_packaged_tree_passes_check_with_every_claim_recomputed(inputs, packaged):
    _root, _manifest, reference = inputs
    (first, _second), seconds, _before = packaged
    result = run_check(first, CheckOptions(reference=reference))
    assert [(f.rule, f.path, f.message) for f in live_findings(result.findings)] == []
    assert result.exit_code(strict=not past_the_window()) == 0
    assert all(row["different"] == 0 and row["not_recomputable"] == 0 for row in result.agreement)
    by_metric = {row["metric"]: row for row in result.agreement}
    assert by_metric["median throughput"]["agreed"] == 4
    assert by_metric["median energy"]["agreed"] == 5
    assert by_metric["sww TP/FN/FP"]["agreed"] == 2
    assert len(result.results) == 4 * 3 + 2
    print(f"\npackaging the round trip (14 sessions) took {seconds[0]:.2f} s, then {seconds[1]:.2f} s")
    assert seconds[0] < 120


def test_twice_gives_byte_identical_trees_and_the_same_git_trees(packaged):
    (first, second), _seconds, _before = packaged
    assert _snapshot(first) == _snapshot(second)
    one, two = git.Repo(first), git.Repo(second)
    assert one.head.commit.tree.hexsha == two.head.commit.tree.hexsha
    sub = f"closed/{SUBMITTER}"
    assert (one.head.commit.tree / sub).hexsha == (two.head.commit.tree / sub).hexsha
    assert not one.is_dirty(untracked_files=True)
    message = one.head.commit.message
    assert "submit 0.1.0" in message and "Manifest: submission.yaml (sha256 " in message
    modes = {stat.S_IMODE(mode) for mode, _data in _snapshot(first / sub).values()}
    assert modes == {0o644, 0o755}  # files and folders, whatever the inputs' modes and the umask
    assert stat.S_IMODE(os.stat(first / sub / "code/sww/tflm/build.sh").st_mode) == 0o644


def test_packaging_again_into_the_same_repository_commits_nothing(inputs, packaged, capsys):
    _root, manifest, reference = inputs
    (first, _second), _seconds, _before = packaged
    head = git.Repo(first).head.commit.hexsha
    assert main(["package", str(manifest), "--out", str(first), "--reference", str(reference), "--git"]) == 0
    assert "nothing new to commit" in capsys.readouterr().out
    repo = git.Repo(first)
    assert repo.head.commit.hexsha == head and not repo.is_dirty(untracked_files=True)


def test_inputs_are_copied_never_moved_or_changed(inputs, packaged):
    _root, manifest, _reference = inputs
    _outs, _seconds, before = packaged
    assert _snapshot(manifest.parent) == before


def test_mode_folders_hold_the_runner_files_and_provenance_the_session_manifest(inputs, packaged):
    _root, manifest, _reference = inputs
    (first, _second), _seconds, _before = packaged
    org = first / "closed" / SUBMITTER
    document = yaml.safe_load(manifest.read_text())
    for bench, spec in document["systems"][0]["benchmarks"].items():
        for mode, session_rel in spec["sessions"].items():
            session = manifest.parent / session_rel
            mode_dir = org / "results" / SYSTEM / bench / mode
            plots = sorted(p.name for p in session.glob("energy_inf_*.png"))
            assert sorted(p.name for p in mode_dir.iterdir()) == sorted(["log.txt", "results.json", "results.txt",
                                                                         *plots])
            for path in mode_dir.iterdir():
                assert path.read_bytes() == (session / path.name).read_bytes()
            provenance = org / "code" / "provenance" / SYSTEM / bench / mode / "manifest.json"
            assert provenance.read_bytes() == (session / "manifest.json").read_bytes()
    assert not list(org.rglob("progress.jsonl"))


def test_generated_files(inputs, packaged):
    _root, manifest, _reference = inputs
    (first, _second), _seconds, _before = packaged
    org = first / "closed" / SUBMITTER
    description = json.loads((org / "systems" / f"{SYSTEM}.json").read_text())
    assert description["Status"] == "Available" and description["Operating System"] == "Linux"
    assert description["Submitter"] == SUBMITTER and description["Division"] == "closed"
    assert all(key == key.strip() for key in description)
    models = yaml.safe_load((org / "code" / "models.yaml").read_text())
    assert models == {"models": [{"benchmark": b, "systems": [SYSTEM], "reference_int8": True}
                                 for b in sorted(BENCHES + ("sww",))]}
    readme = (org / "code" / "README.md").read_text()
    assert "submit 0.1.0" in readme and "Flash with `make flash`" in readme
    session = manifest.parent / yaml.safe_load(manifest.read_text())["systems"][0]["benchmarks"]["kws"]["sessions"][
        "accuracy"]
    recorded = json.loads((session / "manifest.json").read_text())
    assert recorded["config"]["fingerprint"] in readme
    assert f"{INPUTS}, sha256 `{inputs_digest(recorded['inputs'])}`" in readme
    listed = dict(line.split("  ", 1)[::-1] for line in (org / "MANIFEST.sha256").read_text().splitlines())
    on_disk = {p.relative_to(org).as_posix() for p in org.rglob("*") if p.is_file()} - {"MANIFEST.sha256"}
    assert set(listed) == on_disk
    for rel, digest in listed.items():
        assert hashlib.sha256((org / rel).read_bytes()).hexdigest() == digest
