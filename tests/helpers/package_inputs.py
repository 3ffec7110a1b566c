"""Inputs for `submit package` in tests: session folders, code, documents and a submission manifest.

Built from the synthetic example tree (fast; no harness runs): every mode folder of the example
becomes a session folder, with a manifest.json like the one `submit run` writes (status
complete, the sha256 of each file) for MLCommons-runner sessions. The layout below the input
root (the manifest's folder)::

    submission.yaml
    docs/checklist.pdf, docs/energy-hookup.pdf
    code/<benchmark>/{README.md, main.c}
    sessions/<system>/<benchmark>/<mode>/...
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from submission_tools.example_tree import (
    MODEL_IDS, ExampleSpec, build_example_tree, system_fields, write_example_reference,
)
from submission_tools.runners import EEMBC_MARKER, MLC

MANIFEST_NAME = "submission.yaml"
DEVIATIONS = {
    "model": "DS-CNN with 64 channels instead of 172",
    "training_data": "unchanged: the reference training split",
    "training_procedure": "retrained for 40 epochs with the reference recipe",
    "quantization": "int8 post-training quantization with 200 calibration samples",
    "numerics": "int8 weights and activations, int32 accumulators",
    "unchanged": "task, accuracy dataset, feature extraction",
}


def session_manifest(folder: Path, bench: str, mode: str) -> dict:
    """A manifest.json as `submit run` writes it for a complete session in `folder`."""
    model = MODEL_IDS[bench]
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
    fingerprint = hashlib.sha256(f"{model}-{mode}".encode()).hexdigest()
    return {
        "format": 1, "tool": {"name": "submit", "version": "0.1.0"},
        "host": {"python": "3.11", "platform": "test"},
        "mode": "streaming" if bench == "sww" else mode, "benchmark": model, "status": "complete",
        "started": "2026-03-01T12:00:00+00:00", "ended": "2026-03-01T12:01:00+00:00", "resumed": [],
        "config": {"source": f"/home/someone/{model}.yaml", "fingerprint": fingerprint,
                   "document": {"benchmark": model, "devices": {"dut": {"port": "virtual"}}}},
        "dut": {"name": "virtual", "profile": "ULPMark for tinyML Firmware V0.0.1", "model": model},
        "devices": {}, "download": {}, "inputs": [
            {"file": f"{bench}_0000.bin", "offset": 0, "bytes": 490, "sha256": "0" * 64}],
        "files": files, "notes": [],
    }


def build_package_inputs(dest: Path, spec: ExampleSpec | None = None) -> Path:
    """Write the inputs of a clean submission for `spec` under dest/inputs; return the manifest path."""
    spec = spec or ExampleSpec()
    example = build_example_tree(dest / "example-tree", spec)
    org = example / spec.division / spec.submitter
    inputs = dest / "inputs"
    (inputs / "docs").mkdir(parents=True)
    shutil.copyfile(org / "systems" / f"TinyMLPerf_{spec.round}_Submission_Checklist.pdf",
                    inputs / "docs" / "checklist.pdf")
    hookup = org / "systems" / "Energy-Hookup.pdf"
    if hookup.exists():
        shutil.copyfile(hookup, inputs / "docs" / "energy-hookup.pdf")
    benchmarks = {}
    for bench_dir in sorted((org / "results" / spec.system).iterdir()):
        bench = bench_dir.name
        code = inputs / "code" / bench
        code.mkdir(parents=True)
        (code / "README.md").write_text(f"# {bench} on the virtual DUT\n\nBuild with `make`.\n", encoding="utf-8")
        (code / "main.c").write_text("int main(void) { return 0; }\n", encoding="utf-8")
        sessions = {}
        for mode_dir in sorted(p for p in bench_dir.iterdir() if p.is_dir()):
            session = inputs / "sessions" / spec.system / bench / mode_dir.name
            shutil.copytree(mode_dir, session)
            if spec.runner == MLC:
                manifest = session_manifest(session, bench, mode_dir.name)
                (session / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
            sessions[mode_dir.name] = f"sessions/{spec.system}/{bench}/{mode_dir.name}"
        entry = {"code": f"code/{bench}", "sessions": sessions}
        if spec.division == "closed":
            entry["reference_int8"] = True
        else:
            entry["deviations"] = dict(DEVIATIONS)
        benchmarks[bench] = entry
        assert not (bench_dir / EEMBC_MARKER).exists() or spec.runner != MLC
    fields = {k: v for k, v in system_fields(spec).items() if k not in ("Submitter", "Division")}
    document = {"round": spec.round, "division": spec.division, "submitter": spec.submitter,
                "checklist": "docs/checklist.pdf"}
    if hookup.exists():
        document["energy_hookup"] = "docs/energy-hookup.pdf"
    document["systems"] = [{"id": spec.system, "description": fields, "benchmarks": benchmarks}]
    manifest = inputs / MANIFEST_NAME
    manifest.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    shutil.rmtree(example)
    return manifest


@dataclass
class BuiltInputs:
    manifest: Path
    root: Path  # the manifest's folder: every input path is relative to it
    reference: Path  # a stand-in mlcommons/tiny checkout for the gate
    chmodded: list

    def restore_permissions(self) -> None:
        from helpers.fixture_trees import restore_permissions

        restore_permissions(self.chmodded)


def build_package_fixture(tmp_path: Path, spec: ExampleSpec, ops: list) -> BuiltInputs:
    """Package inputs for `spec`, edited by fixture `ops` (helpers/fixture_trees.py) whose paths are
    relative to the inputs' root, with the placeholders {sessions}, {code} and {docs}."""
    from helpers.fixture_trees import TreeEditor

    manifest = build_package_inputs(tmp_path, spec)
    reference = write_example_reference(tmp_path / "reference", spec)
    editor = TreeEditor(manifest.parent, spec, reference)
    editor.placeholders = {"{sessions}": f"sessions/{spec.system}", "{code}": "code", "{docs}": "docs"}
    built = BuiltInputs(manifest=manifest, root=manifest.parent, reference=reference, chmodded=editor.chmodded)
    try:
        editor.apply(ops)
    except BaseException:
        built.restore_permissions()
        raise
    return built
