"""Every report format renders the same CheckResult faithfully and validates where a schema exists."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from submission_tools.check import run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report import FORMATS
from submission_tools.report.csv_report import OFFICIAL_COLUMNS
from submission_tools.report.json_report import report_document
from submission_tools.report.sarif import sarif_document
from submission_tools.resources import load_schema

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture()
def broken_result(tmp_path):
    """A tree with an error (duplicate key, with a line), a warning and a missing file."""
    root = build_example_tree(tmp_path / "tree", ExampleSpec(benchmarks=("kws", "vww")))
    org = root / "closed" / "example_org"
    description = org / "systems" / "virtual_dut_host.json"
    text = description.read_text()
    description.write_text(text.replace('"Status": "Available",', '"Status": "Available",\n  "Status": "available",'))
    (org / "results" / "virtual_dut_host" / "vww" / "accuracy" / "results.json").unlink()
    (org / "code" / "my notes.txt").write_text("notes, with a comma: and colon\n")
    return run_check(root)


def test_fixture_has_what_the_reporters_must_show(broken_result):
    rules = {f.rule for f in broken_result.findings}
    assert {"SYS002", "SYS009", "TREE009", "TREE107"} <= rules
    assert broken_result.verdict() == "fail"


def test_json_validates_and_carries_everything(broken_result):
    document = json.loads(FORMATS["json"](broken_result))
    jsonschema.Draft202012Validator(load_schema("check_report")).validate(document)
    assert document["verdict"] == "fail"
    assert document["counts"] == broken_result.counts
    assert len(document["findings"]) == len(broken_result.findings)
    dup = next(f for f in document["findings"] if f["rule"] == "SYS002")
    assert dup["line"] == 5 and dup["path"] == "closed/example_org/systems/virtual_dut_host.json"
    invalid = [r for r in document["results"] if not r["valid"]]
    assert {r["path"].rsplit("/", 2)[-2] for r in invalid} == {"kws", "vww"}  # the broken JSON spoils both


def test_json_schema_rejects_a_wrong_document(broken_result):
    document = report_document(broken_result)
    document["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(load_schema("check_report")).validate(document)


def test_sarif_validates_against_the_oasis_schema(broken_result):
    schema = json.loads(SARIF_SCHEMA.read_text())
    document = json.loads(FORMATS["sarif"](broken_result))
    jsonschema.Draft4Validator(schema).validate(document)
    run = document["runs"][0]
    assert len(run["results"]) == len(broken_result.findings)
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["SYS002"] == "error" and levels["SYS009"] == "warning"


def test_sarif_schema_catches_a_broken_document(broken_result):
    schema = json.loads(SARIF_SCHEMA.read_text())
    document = sarif_document(broken_result)
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(document)


def test_csv_has_official_columns_and_one_row_per_benchmark(broken_result):
    rows = list(csv.DictReader(io.StringIO(FORMATS["csv"](broken_result))))
    header = list(rows[0].keys())
    assert header[:len(OFFICIAL_COLUMNS)] == OFFICIAL_COLUMNS
    assert [(r["SystemDesc"], r["Model"]) for r in rows] == [("virtual_dut_host", "kws"), ("virtual_dut_host", "vww")]
    vww = rows[1]
    assert vww["Organization"] == "example_org" and vww["MlperfModel"] == "vww01"
    assert vww["Availability"] == "available"  # the duplicate that readers keep
    assert vww["Valid"] == "False" and int(vww["Errors"]) >= 1
    assert vww["BoardName"] == "Host computer (virtual DUT)"


def test_github_annotations_escape_properties(broken_result):
    lines = FORMATS["github"](broken_result).splitlines()
    spaced = next(line for line in lines if "TREE107" in line)
    assert spaced.startswith("::warning file=")
    assert "my notes.txt" in spaced
    dup = next(line for line in lines if "SYS002" in line)
    assert dup.startswith("::error ") and ",line=5," in dup
    assert "%0A" in dup  # the hint is on its own line
    assert lines[-1].startswith("FAILED:")


def test_text_report_groups_and_concludes(broken_result):
    text = FORMATS["text"](broken_result)
    assert "closed/example_org" in text
    assert "results/virtual_dut_host/vww" in text
    assert "virtual_dut_host.json:5" in text
    assert text.rstrip().splitlines()[-1].startswith("FAILED:")
