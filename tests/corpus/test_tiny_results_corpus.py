"""The published v1.1 and v1.3 results (../shared): real faults are found, nothing crashes.

The copies leave out some large files (MISSING.tsv); a missing-file finding must name exactly
those and nothing else, which also shows the checker does not invent missing files.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from helpers.shared import missing_in_copy, shared_path
from submission_tools.check import run_check
from submission_tools.cli import main
from submission_tools.report import FORMATS
from submission_tools.resources import load_schema

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"
_cache: dict = {}


def result_of(version: str):
    if version not in _cache:
        _cache[version] = run_check(shared_path("data", "tiny_results", version))
    return _cache[version]


@pytest.mark.parametrize("version", ["v1.1", "v1.3"])
def test_cli_exits_1_and_every_finding_names_a_real_path(capsys, version):
    root = shared_path("data", "tiny_results", version)
    assert main(["check", str(root)]) == 1
    assert "FAILED" in capsys.readouterr().out
    result = result_of(version)
    assert result.round.ruleset.version == version and "README.md" in result.round.note
    for finding in result.findings:
        assert (root / finding.path).exists() or (root / finding.path).is_symlink(), finding


@pytest.mark.parametrize("version", ["v1.1", "v1.3"])
def test_missing_file_findings_are_exactly_the_files_absent_from_the_copy(version):
    root = shared_path("data", "tiny_results", version)
    result = result_of(version)
    reported = {f"{f.path}/{f.message.split(' has no ')[1]}" for f in result.findings if f.rule == "TREE009"}
    assert reported == missing_in_copy(root)


def test_v11_duplicate_keys_copied_from_the_template():
    dups = [f for f in result_of("v1.1").findings if f.rule == "SYS002"]
    assert len(dups) == 16
    assert {f.path.rsplit("/", 1)[1] for f in dups} == {
        "NUCLEO-H7A3ZI-Q_X-CUBE-AI-7.3.json", "NUCLEO-H7A3ZI-Q_X-CUBE-AI-8.0.json",
        "NUCLEO-L4R5ZI_X-CUBE-AI-7.3.json", "NUCLEO-L4R5ZI_X-CUBE-AI-8.0.json"}
    framework = [f for f in dups if "'Inference Framework'" in f.message]
    assert all(f.line == 32 and "lose line 26" in f.message for f in framework)
    # The duplicate that wins is the template's empty one: the published table loses the framework.
    empty = [f for f in result_of("v1.1").findings if f.rule == "SYS004" and "X-CUBE-AI" in f.path]
    assert len(empty) == 4 and all("'Inference Framework' is empty" in f.message and f.line == 32 for f in empty)


def test_v11_trailing_space_key_in_every_description():
    result = result_of("v1.1")
    spaced = {f.path for f in result.findings if f.rule == "SYS003" and "'Operating System '" in f.message}
    descriptions = {p for p in result.descriptions}
    assert spaced == descriptions and len(spaced) == 30


def test_v11_checklist_names_and_stray_files():
    findings = result_of("v1.1").findings
    checklists = {f.path.split("/")[1] for f in findings if f.rule == "TREE012"}
    assert checklists == {"Krai", "STMicroelectronics", "cTuning", "plumerai"}
    spaces = {f.path for f in findings if f.rule == "TREE107"}
    assert spaces == {"closed/Krai/systems/TinyMLPerf v1.1 Submission Checklist.pdf",
                      "closed/cTuning/systems/TinyMLPerf v1.1 Submission Checklist.pdf"}
    stray = {f.path for f in findings if f.rule == "TREE016"}
    assert stray == {"closed/Krai/results/README.md", "closed/Krai/results/README_GRAPH.md",
                     "closed/cTuning/results/README.md"}


def test_v11_system_description_faults():
    findings = result_of("v1.1").findings
    by_rule = Counter(f.rule for f in findings)
    assert by_rule["SYS009"] == 1  # kai_jiang "rdi"
    assert {f.path.split("/")[1] for f in findings if f.rule == "SYS010"} == {"fpgaconvnet"}
    assert not [f for f in findings if f.rule == "SYS010" and "bosch" in f.path]  # "Robert Bosch GmbH" is bosch


def test_v13_findings():
    findings = result_of("v1.3").findings
    rules = Counter(f.rule for f in findings)
    assert rules["SYS002"] == 0 and rules["SYS003"] == 8
    assert {f.path.rsplit("/", 1)[1] for f in findings if f.rule == "TREE012"} == {
        "TinyMLPerf_v1.3_Submission_Checklist_Available.pdf", "TinyMLPerf_v1.3_Submission_Checklist_Preview.pdf"}
    runners = Counter(r.runner for r in result_of("v1.3").results)
    assert runners == {"mlc": 55}


@pytest.mark.parametrize("version", ["v1.1", "v1.3"])
def test_machine_formats_validate_on_the_corpus(version):
    result = result_of(version)
    jsonschema.Draft202012Validator(load_schema("check_report")).validate(json.loads(FORMATS["json"](result)))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(json.loads(FORMATS["sarif"](result)))
    rows = FORMATS["csv"](result).splitlines()
    units = {(r.division, r.submitter, r.system, r.benchmark) for r in result.results}
    assert len(rows) == 1 + len(units) and len(units) > 10
