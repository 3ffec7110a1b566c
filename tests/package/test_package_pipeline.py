"""`submit package` step by step: the dry run, the gate (and --allow-errors), the destination, the
runner marker, the open division, system descriptions from a file, and hostile text."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml

from helpers.package_inputs import build_package_inputs
from submission_tools.check import CheckOptions, run_check
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec, write_example_reference
from submission_tools.package import PackageOptions, run_package
from submission_tools.runners import EEMBC

ORG = "closed/example_org"


@pytest.fixture
def manifest(tmp_path):
    return build_package_inputs(tmp_path, ExampleSpec())


def _edit(manifest, edit) -> None:
    document = yaml.safe_load(manifest.read_text())
    edit(document)
    manifest.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def _listing(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, n), root) for d, ds, fs in os.walk(root) for n in ds + fs)


def test_dry_run_prints_the_plan_and_changes_nothing(manifest, tmp_path, capsys):
    before = _listing(tmp_path)
    assert main(["package", str(manifest), "--out", str(tmp_path / "out"), "--dry-run", "--git"]) == 0
    printed = capsys.readouterr().out
    assert _listing(tmp_path) == before
    assert re.search(r"Plan: \d+ files, .* into .*out/closed/example_org", printed)
    assert re.search(r"results/virtual_dut_host/kws/performance/results.json +<- "
                     r"sessions/virtual_dut_host/kws/performance/results.json", printed)
    assert re.search(r"code/README.md +generated: submitter README", printed)
    assert re.search(r"MANIFEST.sha256 +generated: sha256 of every other file", printed)
    assert printed.rstrip().endswith("Dry run: nothing was written.")


def _break_a_claim(manifest) -> None:
    """Edit a median in results.txt of a session that has no manifest.json (as the MLCommons runner
    leaves it), so no refusal stops it and the gate finds the wrong claim."""
    session = manifest.parent / "sessions" / "virtual_dut_host" / "kws" / "performance"
    (session / "manifest.json").unlink()
    text = (session / "results.txt").read_text()
    median = re.search(r"Median throughput is +([\d.]+)", text).group(1)
    (session / "results.txt").write_text(text.replace(median, f"{float(median) * 2:.3f}"))


def test_the_gate_stops_a_tree_with_errors(manifest, tmp_path, capsys):
    _break_a_claim(manifest)
    out = tmp_path / "out"
    assert main(["package", str(manifest), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "Gate: submit check FAILED on the assembled tree" in printed
    assert "PERF006 error closed/example_org/results/virtual_dut_host/kws/performance/results.txt:" in printed
    assert "Nothing was written" in printed
    assert not out.exists() and not list(tmp_path.glob(".submit-package-*"))


def test_allow_errors_writes_the_tree_and_still_exits_1(manifest, tmp_path, capsys):
    _break_a_claim(manifest)
    out = tmp_path / "out"
    assert main(["package", str(manifest), "--out", str(out), "--allow-errors"]) == 1
    assert "despite its errors (--allow-errors)" in capsys.readouterr().out
    assert (out / ORG / "MANIFEST.sha256").is_file()
    assert run_check(out).exit_code() == 1


def test_a_folder_not_written_by_package_is_never_replaced(manifest, tmp_path, capsys):
    mine = tmp_path / "out" / ORG
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine\n")
    assert main(["package", str(manifest), "--out", str(tmp_path / "out")]) == 2
    assert "was not written by submit package" in capsys.readouterr().err
    assert _listing(mine) == ["notes.txt"]


def test_packaging_again_replaces_the_previous_package(manifest, tmp_path):
    out = tmp_path / "out"
    options = PackageOptions(out=out)
    assert run_package(manifest, options).exit_code() == 0
    (manifest.parent / "code" / "kws" / "main.c").unlink()
    assert run_package(manifest, options).exit_code() == 0
    assert not (out / ORG / "code" / "kws" / "kws" / "main.c").exists()
    assert not list(out.glob(".submit-package-*"))


@pytest.mark.parametrize("round_version, marker", [("v1.3", True), ("v1.2", False)])
def test_eembc_sessions_get_the_marker_the_round_wants(tmp_path, round_version, marker):
    spec = ExampleSpec(round=round_version, runner=EEMBC, benchmarks=("kws", "ad"), energy=("kws",))
    manifest = build_package_inputs(tmp_path, spec)
    reference = write_example_reference(tmp_path / "reference", spec)
    result = run_package(manifest, PackageOptions(out=tmp_path / "out", reference=reference))
    assert result.exit_code() == 0, [(f.rule, f.path, f.message) for f in result.gate.findings]
    org = tmp_path / "out" / ORG / "results" / "virtual_dut_host"
    for bench in ("kws", "ad"):
        assert (org / bench / "EEMBC_RUNNER").exists() == marker
    energy = sorted(p.name for p in (org / "kws" / "energy").iterdir())
    assert energy == ["log.txt", "results.txt", "script.async", "trace1-energy.bin", "trace1-timestamps.json"]
    assert not (tmp_path / "out" / ORG / "code" / "provenance").exists()  # EEMBC sessions have no manifest.json
    assert run_check(tmp_path / "out", CheckOptions(reference=reference)).findings == []


def test_open_division_deviations_and_models(tmp_path):
    spec = ExampleSpec(division="open", benchmarks=("kws", "ic"))
    manifest = build_package_inputs(tmp_path, spec)
    (manifest.parent / "models").mkdir()
    (manifest.parent / "models" / "kws_4bit.bin").write_bytes(b"\x00\x01weights")
    (manifest.parent / "code" / "ic" / "ic_model.c").write_text("const unsigned char model[] = {0};\n")
    weird = 'He said "4-bit": {{ not a template }}\nsecond line, ünïcödé, \x85 and a tab\t.'

    def edit(document):
        benchmarks = document["systems"][0]["benchmarks"]
        benchmarks["kws"]["models"] = ["models/kws_4bit.bin"]
        benchmarks["kws"]["deviations"]["model"] = weird
        benchmarks["ic"]["models"] = "code/ic/ic_model.c"
    _edit(manifest, edit)
    reference = write_example_reference(tmp_path / "reference", spec)
    result = run_package(manifest, PackageOptions(out=tmp_path / "out", reference=reference))
    assert result.exit_code() == 0, [(f.rule, f.path, f.message) for f in result.gate.findings]
    code = tmp_path / "out" / "open" / "example_org" / "code"
    deviations = yaml.safe_load((code / "deviations.yaml").read_text())
    assert deviations["submitter"] == "example_org"
    kws = next(d for d in deviations["deviations"] if d["benchmarks"] == ["kws"])
    assert kws["model"] == weird and kws["systems"] == ["virtual_dut_host"]
    models = yaml.safe_load((code / "models.yaml").read_text())["models"]
    assert models == [
        {"benchmark": "ic", "systems": ["virtual_dut_host"], "file": "ic/ic/ic_model.c", "format": "c-array"},
        {"benchmark": "kws", "systems": ["virtual_dut_host"], "file": "kws/kws/models/kws_4bit.bin",
         "format": "other"}]
    assert (code / "kws" / "kws" / "models" / "kws_4bit.bin").read_bytes() == b"\x00\x01weights"


def test_description_from_a_filled_json(manifest, tmp_path):
    path = manifest.parent / "docs" / "system.json"
    fields = yaml.safe_load(manifest.read_text())["systems"][0]["description"]
    text = json.dumps(fields, indent=2)[:-2]
    # as copied from the official template: a repeated key (same value) and a padded key
    framework = json.dumps(fields["Inference Framework"])
    text += f',\n  "Inference Framework": {framework},\n  "Operating System ": ""\n}}'
    path.write_text(text)
    _edit(manifest, lambda d: d["systems"][0].update(description="docs/system.json"))
    result = run_package(manifest, PackageOptions(out=tmp_path / "out"))
    assert result.exit_code() == 0
    written = (tmp_path / "out" / ORG / "systems" / "virtual_dut_host.json").read_text()
    assert '"Operating System": "Linux"' in written and '"Operating System "' not in written
    assert written.count('"Inference Framework"') == 1


def test_hostile_description_values_stay_data(manifest, tmp_path):
    board = 'Board "A" <b>&amp;</b> {{ 7*7 }} {% raw %}\nnext line'
    _edit(manifest, lambda d: d["systems"][0]["description"].update({"Board Name": board, "Hardware Notes": "|a|b|"}))
    result = run_package(manifest, PackageOptions(out=tmp_path / "out"))
    assert result.exit_code() == 0
    description = json.loads((tmp_path / "out" / ORG / "systems" / "virtual_dut_host.json").read_text())
    assert description["Board Name"] == board
    readme = (tmp_path / "out" / ORG / "code" / "README.md").read_text()
    assert "49" not in readme.split("## Systems")[1].split("## Results")[0]
    assert 'Board "A" <b>&amp;</b> {{ 7*7 }} {% raw %} next line' in readme


def test_an_out_inside_a_code_folder_is_caught_before_it_packages_itself(manifest, tmp_path, capsys):
    out = manifest.parent / "code" / "kws" / "published"
    assert main(["package", str(manifest), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["package", str(manifest), "--out", str(out)]) == 2
    assert "holds inputs of the manifest (code/kws/published/closed/example_org/" in capsys.readouterr().err


def test_generated_files_are_scanned_for_secrets_too(manifest, tmp_path):
    from helpers.fixture_trees import fake_secret

    _edit(manifest, lambda d: d.update(notes="deploy with " + fake_secret("github_token")))
    result = run_package(manifest, PackageOptions(out=tmp_path / "out"))
    assert [(f.rule, f.path) for f in result.plan.refusals] == [("PKG006", "submission.yaml")]
    assert "code/README.md would hold a GitHub access token" in result.plan.refusals[0].message
    assert result.exit_code() == 1 and not (tmp_path / "out").exists()
