"""Bad submission manifests exit 2 naming the file, the line, what was expected and how to fix it."""

from __future__ import annotations

import json

import pytest
import yaml

from helpers.package_inputs import build_package_inputs
from submission_tools.cli import main
from submission_tools.example_tree import ExampleSpec

SESSIONS = "sessions/virtual_dut_host"


@pytest.fixture
def manifest(tmp_path):
    return build_package_inputs(tmp_path, ExampleSpec(benchmarks=("kws", "ic"), energy=("kws",)))


def _package(manifest, tmp_path, capsys, *extra) -> tuple[int, str]:
    code = main(["package", str(manifest), "--out", str(tmp_path / "out"), *extra])
    captured = capsys.readouterr()
    assert not (tmp_path / "out").exists()
    return code, captured.err


def _edit(manifest, edit) -> None:
    document = yaml.safe_load(manifest.read_text())
    edit(document)
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))


def _line_of(manifest, text: str) -> int:
    lines = manifest.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def _kws(document) -> dict:
    return document["systems"][0]["benchmarks"]["kws"]


def test_the_base_manifest_is_fine(manifest, tmp_path, capsys):
    assert main(["package", str(manifest), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    assert "Dry run: nothing was written." in capsys.readouterr().out


def test_missing_field(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: d.pop("submitter"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2
    assert err.startswith("ManifestError: submission.yaml: 1 problem in the submission manifest")
    assert "submission.yaml:1: 'submitter' is missing. Fix: add submitter: ..." in err


def test_missing_nested_field_names_its_place_and_line(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: _kws(d).pop("sessions"))
    code, err = _package(manifest, tmp_path, capsys)
    line = _line_of(manifest, "    kws:")
    assert code == 2 and f"submission.yaml:{line}: systems[0].benchmarks.kws: 'sessions' is missing" in err


def test_wrong_types(manifest, tmp_path, capsys):
    def edit(document):
        document["systems"][0]["benchmarks"]["ic"]["code"] = 3
        _kws(document)["code"] = ["code/kws", {"path": "code/extra"}]
        document["division"] = "Closed"
    _edit(manifest, edit)
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "3 problems" in err
    assert "division: 'Closed' is not one of closed, open. Fix: write one of closed, open." in err
    assert "systems[0].benchmarks.ic.code: is the number 3, expected a folder path, or a list of folder paths" in err
    assert "systems[0].benchmarks.kws.code[1]: is a mapping, expected a string" in err


def test_systems_given_as_a_mapping(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: d.update(systems={"virtual_dut_host": d["systems"][0]}))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "systems: is a mapping, expected a list" in err


def test_yaml_syntax_error(manifest, tmp_path, capsys):
    text = manifest.read_text().replace("submitter: example_org", "submitter: [example_org")
    manifest.write_text(text)
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "is not valid YAML" in err and "Fix: check the indentation and quoting" in err
    assert "submission.yaml:" in err.splitlines()[1]


def test_duplicate_key(manifest, tmp_path, capsys):
    manifest.write_text(manifest.read_text() + "round: v1.3\n")
    code, err = _package(manifest, tmp_path, capsys)
    last = len(manifest.read_text().splitlines())
    assert code == 2 and f"submission.yaml:{last}: key 'round' appears twice (lines 1 and {last})" in err


def test_unknown_key_gets_a_suggestion(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: _kws(d).update(sesions={}))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "unknown key 'sesions' (did you mean 'sessions'?)" in err


def test_empty_file_and_a_list(manifest, tmp_path, capsys):
    manifest.write_text("")
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "the file is empty" in err
    manifest.write_text("- round: v1.4\n")
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "the top level is a list, expected a mapping" in err


def test_no_such_manifest(tmp_path, capsys):
    code, err = _package(tmp_path / "missing.yaml", tmp_path, capsys)
    assert code == 2 and "missing.yaml: no such file" in err


def test_missing_session_folder(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: _kws(d)["sessions"].update(accuracy=f"{SESSIONS}/kws/acuracy"))
    code, err = _package(manifest, tmp_path, capsys)
    line = _line_of(manifest, "kws/acuracy")
    assert code == 2
    assert (f"submission.yaml:{line}: systems[0].benchmarks.kws.sessions.accuracy: the folder "
            f"'{SESSIONS}/kws/acuracy' does not exist") in err


@pytest.mark.parametrize("status", ["running", "failed", "interrupted"])
def test_incomplete_session(manifest, tmp_path, capsys, status):
    path = manifest.parent / SESSIONS / "kws" / "accuracy" / "manifest.json"
    recorded = json.loads(path.read_text())
    recorded["status"] = status
    path.write_text(json.dumps(recorded))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2
    assert f"the session '{SESSIONS}/kws/accuracy' is incomplete: its manifest.json says status '{status}'" in err
    assert f"submit run CONFIG --mode accuracy --resume {SESSIONS}/kws/accuracy" in err


def test_session_of_another_mode_or_benchmark(manifest, tmp_path, capsys):
    def edit(document):
        _kws(document)["sessions"]["accuracy"] = f"{SESSIONS}/kws/performance"
        document["systems"][0]["benchmarks"]["ic"]["sessions"]["performance"] = f"{SESSIONS}/kws/performance"
    _edit(manifest, edit)
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2
    assert "was measured in performance mode, not accuracy" in err
    assert "measured kws01, not ic (ic01)" in err


def test_not_a_session_folder(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: _kws(d)["sessions"].update(performance="code/kws"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "'code/kws' is not a session folder" in err


def test_round_benchmarks_and_modes(manifest, tmp_path, capsys):
    def edit(document):
        document["round"] = "v1.2"
        _kws(document)["sessions"].pop("accuracy")
        document["systems"][0]["benchmarks"]["sww"] = {"code": "code/kws", "reference_int8": True,
                                                       "sessions": {"performance": f"{SESSIONS}/kws/performance"}}
    _edit(manifest, edit)
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2
    assert "round v1.2 has no benchmark 'sww'" in err
    assert "no session for the required mode(s) accuracy" in err


def test_unsupported_round(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: d.update(round="v0.9"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "submission.yaml:1: round: no rule set for round v0.9" in err


def test_division_requirements(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: _kws(d).pop("reference_int8"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "a closed result must name the model it ran" in err
    _edit(manifest, lambda d: d.update(division="open"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "an open result must document its deviations" in err
    assert "reference_int8 applies to the closed division only" in err


def test_energy_needs_a_hookup(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: d.pop("energy_hookup"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "energy results are submitted but 'energy_hookup' is missing" in err


def test_checklist_must_be_a_pdf(manifest, tmp_path, capsys):
    (manifest.parent / "docs" / "checklist.docx").write_bytes(b"PK\x03\x04 not a pdf")
    _edit(manifest, lambda d: d.update(checklist="docs/checklist.docx"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "the checklist 'docs/checklist.docx' is not a PDF" in err


def test_unknown_description_field(manifest, tmp_path, capsys):
    _edit(manifest, lambda d: d["systems"][0]["description"].update({"Board name": "x"}))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "'Board name' is not an official system description field (did you mean 'Board Name'?)" in err


def test_description_file_with_conflicting_duplicates(manifest, tmp_path, capsys):
    path = manifest.parent / "docs" / "system.json"
    path.write_text('{\n  "Board Name": "A",\n  "Status": "Available",\n  "Board Name": "B"\n}\n')
    _edit(manifest, lambda d: d["systems"][0].update(description="docs/system.json"))
    code, err = _package(manifest, tmp_path, capsys)
    assert code == 2 and "docs/system.json:4: 'Board Name' is given twice with different values (lines 2 and 4)" in err
