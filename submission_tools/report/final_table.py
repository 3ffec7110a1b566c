"""`submit report --format csv|xlsx`: the round's final-report table, one row per result.

A result is one system and benchmark, as in the official summary.csv: the rows and the official
columns are those of `submit check --format csv` (csv_report.summary_records), followed by
that reporter's own columns and a few more recomputed values a results table needs (the
accuracy target of the closed division and whether the recomputed accuracy meets it, the
official AUC, power, the shortest timed window).

The xlsx file is written with the standard library (a workbook is a zip of XML parts), so it
needs no extra package: one sheet, a bold frozen header row with a filter, numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import re
import zipfile
from xml.sax.saxutils import escape

from submission_tools.check import CheckResult
from submission_tools.report.csv_report import OFFICIAL_COLUMNS, OUR_COLUMNS, _cell, summary_records

EXTRA_COLUMNS = ["AccuracyMetric", "ClosedTarget", "MeetsClosedTarget", "RecomputedAUC",
                 "ClaimedPowerMw", "RecomputedPowerMw", "MinWindowRuntimeS"]
COLUMNS = OFFICIAL_COLUMNS + OUR_COLUMNS + EXTRA_COLUMNS


def final_rows(result: CheckResult) -> list[dict]:
    """One dict per system and benchmark, keyed by COLUMNS, values as Python values."""
    rows = []
    for record in summary_records(result):
        entries = record.pop("_entries")
        spec = result.round.ruleset.benchmarks.get(record["Model"])
        claimed = {k: v for e in entries for k, v in e.claimed.items()}
        recomputed = {k: v for e in entries for k, v in e.recomputed.items()}
        metric = spec.metric if spec else None
        target = spec.closed_target if spec is not None and record["Division"] == "closed" else None
        accuracy = record["RecomputedAccuracy"]
        meets = None
        if isinstance(target, (int, float)) and isinstance(accuracy, (int, float)) and math.isfinite(accuracy):
            meets = str(accuracy >= target)
        runtimes = [r for r in recomputed.get("window_runtimes_s") or [] if r is not None]
        record.update({
            "AccuracyMetric": {"auc": "AUC", "top1": "Top-1 %"}.get(metric, metric or ""),
            "ClosedTarget": target, "MeetsClosedTarget": meets,
            "RecomputedAUC": recomputed.get("auc"),
            "ClaimedPowerMw": claimed.get("power_mw"), "RecomputedPowerMw": recomputed.get("power_mw"),
            "MinWindowRuntimeS": min(runtimes) if runtimes else None,
        })
        rows.append({column: record.get(column) for column in COLUMNS})
    return rows


def render_final_csv(result: CheckResult) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in final_rows(result):
        writer.writerow({column: _cell(value) for column, value in row.items()})
    return buffer.getvalue()


def render_final_xlsx(result: CheckResult) -> bytes:
    return xlsx_bytes(COLUMNS, [[row[c] for c in COLUMNS] for row in final_rows(result)], sheet="Results")


# ---------------------------------------------------------------------------------------------
# a minimal SpreadsheetML (ECMA-376) writer

# Characters XML 1.0 cannot hold at all (control characters other than tab, LF, CR).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
_STYLES = (  # style 0: default; style 1: bold (the header row)
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _xml_text(value) -> str:
    return escape(_NOT_XML.sub("\ufffd", value), {'"': "&quot;"})


def _cell_xml(reference: str, value, style: int = 0) -> str:
    styled = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{reference}"{styled}/>' if style else ""
    if isinstance(value, bool):
        return f'<c r="{reference}"{styled} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Integral):
        return f'<c r="{reference}"{styled}><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return f'<c r="{reference}"{styled}><v>{float(value)!r}</v></c>'
    text = _cell(value) if not isinstance(value, str) else value
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{reference}"{styled} t="inlineStr"><is><t{space}>{_xml_text(text)}</t></is></c>'


def xlsx_bytes(columns: list[str], rows: list[list], sheet: str = "Sheet1") -> bytes:
    """A one-sheet workbook: `columns` as a bold, frozen, filterable header, then `rows`.
    Finite numbers are stored as numbers, booleans as booleans, anything else as text."""
    last = column_letter(max(len(columns), 1) - 1)
    lines = []
    for number, values in enumerate([columns, *rows], start=1):
        style = 1 if number == 1 else 0
        cells = "".join(_cell_xml(f"{column_letter(i)}{number}", v, style) for i, v in enumerate(values))
        lines.append(f'<row r="{number}">{cells}</row>')
    widths = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{min(max(len(c) + 2, 10), 40)}" customWidth="1"/>'
                     for i, c in enumerate(columns))
    worksheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}{len(rows) + 1}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/></sheetView></sheetViews>'
        f'<cols>{widths}</cols><sheetData>{"".join(lines)}</sheetData>'
        f'<autoFilter ref="A1:{last}{len(rows) + 1}"/></worksheet>')
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_xml_text(sheet[:31])}" sheetId="1" r:id="rId1"/></sheets>'
        '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"'{_xml_text(sheet[:31])}'!$A$1:${last}${len(rows) + 1}</definedName></definedNames></workbook>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _ROOT_RELS),
                           ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
                           ("xl/styles.xml", _STYLES), ("xl/worksheets/sheet1.xml", worksheet)):
            # A fixed date keeps the file byte-identical for identical input.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
