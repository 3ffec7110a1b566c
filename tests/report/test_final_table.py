"""The final-report table (`submit report --format csv|xlsx`): one row per system and benchmark,
the official summary columns first, recomputed values after; the xlsx holds the same cells."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree

import pytest

from submission_tools.check import run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report.csv_report import OFFICIAL_COLUMNS, render_csv
from submission_tools.report.final_table import (COLUMNS, column_letter, final_rows, render_final_csv,
                                                 render_final_xlsx, xlsx_bytes)

REPO = Path(__file__).resolve().parents[2]
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def read_xlsx(data: bytes) -> list[list]:
    """Rows of the first sheet as Python values (inline strings, numbers, booleans), with the
    standard library only."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = set(archive.namelist())
        assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= names
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{MAIN}row"):
        values: dict[int, object] = {}
        for cell in row.iter(f"{MAIN}c"):
            letters = "".join(ch for ch in cell.get("r") if ch.isalpha())
            index = next(i for i in range(2000) if column_letter(i) == letters)
            kind = cell.get("t")
            if kind == "inlineStr":
                values[index] = "".join(t.text or "" for t in cell.iter(f"{MAIN}t"))
            elif kind == "b":
                values[index] = cell.find(f"{MAIN}v").text == "1"
            elif cell.find(f"{MAIN}v") is not None:
                text = cell.find(f"{MAIN}v").text
                values[index] = int(text) if text.lstrip("-").isdigit() else float(text)
        rows.append([values.get(i) for i in range(max(values) + 1 if values else 0)])
    return rows


def units(result) -> dict[tuple, list]:
    grouped = defaultdict(list)
    for entry in result.results:
        grouped[(entry.submitter, entry.system, entry.benchmark)].append(entry)
    return grouped


def assert_csv_round_trip(result) -> list[dict]:
    rows = list(csv.DictReader(io.StringIO(render_final_csv(result))))
    assert rows, "no rows"
    header = list(rows[0])
    assert header[:len(OFFICIAL_COLUMNS)] == OFFICIAL_COLUMNS and header == COLUMNS
    grouped = units(result)
    assert len(rows) == len(grouped)
    for row in rows:
        entries = grouped[(row["Organization"], row["SystemDesc"], row["Model"])]
        claimed = {k: v for e in entries for k, v in e.claimed.items()}
        recomputed = {k: v for e in entries for k, v in e.recomputed.items()}
        for column, key in (("Result", "throughput_ips"), ("Power", "energy_uj_per_inf")):
            assert row[column] == ("" if claimed.get(key) is None else str(claimed[key]))
        for column, key in (("RecomputedResult", "throughput_ips"), ("RecomputedPower", "energy_uj_per_inf"),
                            ("RecomputedAUC", "auc"), ("RecomputedPowerMw", "power_mw")):
            value = recomputed.get(key)
            if value is None:
                assert row[column] == ""
            elif math.isnan(value):
                assert row[column] == "nan"
            else:
                assert float(row[column]) == value  # exact: repr round trip
        assert row["Valid"] == str(all(e.valid for e in entries))
    return rows


def test_csv_round_trip_of_the_clean_example():
    result = run_check(REPO / "examples" / "clean-submission")
    rows = assert_csv_round_trip(result)
    assert [(r["Model"], r["AccuracyMetric"], r["ClosedTarget"], r["MeetsClosedTarget"]) for r in rows] == [
        ("ic", "Top-1 %", "85.0", "True"), ("kws", "Top-1 %", "90.0", "True")]
    assert all(float(r["MinWindowRuntimeS"]) >= 10 for r in rows)


def test_the_official_columns_match_submit_check_csv(tmp_path):
    root = build_example_tree(tmp_path / "tree", ExampleSpec(benchmarks=("ad", "vww"), energy=("ad",)))
    (root / "closed" / "example_org" / "results" / "virtual_dut_host" / "vww" / "accuracy" / "results.json").unlink()
    result = run_check(root)
    ours = assert_csv_round_trip(result)
    checks = list(csv.DictReader(io.StringIO(render_csv(result))))
    assert [{k: r[k] for k in checks[0]} for r in ours] == checks
    ad = next(r for r in ours if r["Model"] == "ad")
    assert ad["HasPower"] == "True" and ad["AccuracyMetric"] == "AUC" and ad["RecomputedPowerMw"]
    vww = next(r for r in ours if r["Model"] == "vww")
    assert vww["Valid"] == "False" and vww["RecomputedAccuracy"] == "" and vww["MeetsClosedTarget"] == ""


def test_xlsx_holds_the_csv_cells_with_numbers_as_numbers(tmp_path):
    root = build_example_tree(tmp_path / "tree", ExampleSpec(benchmarks=("ad", "kws"), energy=("ad",)))
    result = run_check(root)
    data = render_final_xlsx(result)
    assert render_final_xlsx(result) == data  # byte-identical for identical input
    sheet = read_xlsx(data)
    assert sheet[0] == COLUMNS
    rows = final_rows(result)
    assert len(sheet) == len(rows) + 1
    for values, row in zip(sheet[1:], rows):
        values = values + [None] * (len(COLUMNS) - len(values))
        for column, value in zip(COLUMNS, values):
            expected = row[column]
            if expected in (None, ""):
                assert value is None, column
            elif isinstance(expected, float):
                assert isinstance(value, float) and value == expected, column
            else:
                assert value == expected, column


def test_xlsx_reads_in_openpyxl_when_installed(tmp_path):
    openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is not installed; the stdlib reader covers the file")
    path = tmp_path / "table.xlsx"
    path.write_bytes(xlsx_bytes(["a", "b", "c"], [[1, 2.5, "x & <y>"], [True, None, " padded "]]))
    sheet = openpyxl.load_workbook(path).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["a", "b", "c"], [1, 2.5, "x & <y>"], [True, None, " padded "]]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b


def test_xlsx_text_survives_what_xml_cannot_hold():
    sheet = read_xlsx(xlsx_bytes(["name"], [["bell\x07 <tag> & \"quote\""], [float("nan")]]))
    assert sheet[1] == ["bell\ufffd <tag> & \"quote\""]
    assert sheet[2] == ["nan"]
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_csv_round_trip_of_a_whole_round(round_v1_1):
    rows = assert_csv_round_trip(round_v1_1)
    assert len(rows) > 100
    assert len(read_xlsx(render_final_xlsx(round_v1_1))) == len(rows) + 1
