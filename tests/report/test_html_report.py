"""The HTML page of `submit report`: self-contained, every plot an embedded PNG, every finding
shown with its rule's documentation, every claimed and recomputed number of every result shown."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from helpers.report_page import decode_png, read_page, squash
from submission_tools.check import CheckOptions, run_check
from submission_tools.example_tree import ExampleSpec, build_example_tree
from submission_tools.report.html import build_view, format_number, relative_difference, render_html, rule_anchor
from submission_tools.rules import REGISTRY

REPO = Path(__file__).resolve().parents[2]
CLEAN = REPO / "examples" / "clean-submission"


def break_tree(root: Path) -> None:
    """Errors and warnings of several kinds, one with claimed and recomputed values."""
    org = root / "closed" / "example_org"
    perf = org / "results" / "virtual_dut_host" / "ad" / "performance" / "results.txt"
    text = perf.read_text()
    changed = re.sub(r"Median throughput is\s+[\d.]+", "Median throughput is     41.000", text)
    assert changed != text
    perf.write_text(changed)
    description = org / "systems" / "virtual_dut_host.json"
    description.write_text(description.read_text().replace(
        '"Status": "Available",', '"Status": "Available",\n  "Status": "available",'))
    (org / "code" / "my notes.txt").write_text("notes <b>not bold</b> & more\n")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = build_example_tree(tmp_path_factory.mktemp("report") / "tree",
                              ExampleSpec(round="v1.3", runner="mlc", benchmarks=("ad", "kws"), energy=("ad",)))
    break_tree(root)
    result = run_check(root)
    return result, render_html(result)


@pytest.fixture(scope="module")
def eembc_energy(tmp_path_factory):
    root = build_example_tree(tmp_path_factory.mktemp("report") / "tree",
                              ExampleSpec(round="v1.1", runner="eembc", benchmarks=("vww",), energy=("vww",)))
    return root


def assert_images_are_embedded_pngs(page) -> int:
    for image in page.images:
        png = decode_png(image["src"])
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (int(image["width"]), int(image["height"])) == (width, height)
        assert image.get("alt")
    return len(page.images)


def assert_self_contained(page) -> None:
    """Nothing to fetch: every URL is an embedded image or an anchor on the page, and the
    Content-Security-Policy forbids anything else."""
    for tag, attribute, value in page.urls:
        if value.startswith("#"):
            assert value[1:] in page.ids, f"link to a missing anchor {value}"
        else:
            assert tag == "img" and attribute == "src" and value.startswith("data:image/png;base64,"), (tag, value[:80])
    policy = next(m["content"] for m in page.metas if m.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in policy and "img-src data:" in policy


def assert_findings_with_rule_docs(result, page) -> None:
    for finding in result.findings:
        anchor = rule_anchor(finding.rule)
        items = [item for item in page.findings if f"#{anchor}" in item.hrefs and squash(finding.message) in item.text]
        assert items, f"finding {finding.rule} {finding.message!r} is not on the page with a link to its rule"
        assert anchor in page.ids
        rule = REGISTRY.get(finding.rule)
        doc = page.text_by_id[anchor]
        for text in (rule.title, rule.spec, rule.rationale, rule.fix):
            assert squash(text) in doc
    assert len(page.findings) == len(result.findings)  # each exactly once


def _numbers(value) -> list:
    return list(value) if isinstance(value, list) else [value]


def assert_every_number_shown(result, page, view) -> None:
    anchors = {r["path"]: r["anchor"] for g in view["groups"] for s in g["systems"] for r in s["results"]}
    for entry in result.results:
        text = page.result_text.get(anchors[entry.path], "")
        for key, value in entry.claimed.items():
            for number in _numbers(value):
                assert format_number(number, claimed=True) in text, (entry.path, "claimed", key, number)
        for key, value in entry.recomputed.items():
            for number in _numbers(value):
                assert format_number(number) in text, (entry.path, "recomputed", key, number)


def test_clean_example_renders_and_passes():
    result = run_check(CLEAN)
    page_html = render_html(result)
    page = read_page(page_html)
    assert result.verdict() == "pass" and "PASSED" in page_html
    assert assert_images_are_embedded_pngs(page) == 4  # two window charts, two confusion matrices
    assert_self_contained(page)
    assert_every_number_shown(result, page, build_view(result, with_plots=False))
    assert "Window runtimes" in page_html and "Confusion matrix" in page_html


def test_tree_with_findings_shows_each_with_its_rule(broken):
    result, page_html = broken
    page = read_page(page_html)
    assert {"PERF006", "SYS002", "SYS009", "TREE107"} <= {f.rule for f in result.findings}
    assert "FAILED" in page_html
    assert_findings_with_rule_docs(result, page)
    assert_self_contained(page)
    assert_every_number_shown(result, page, build_view(result, with_plots=False))
    # the finding's own claimed/recomputed values are shown beside it
    perf = next(item for item in page.findings if "PERF006" in item.text)
    assert "claimed 41" in perf.text and "recomputed 32.90905" in perf.text


def test_tree_with_findings_has_every_kind_of_plot(broken):
    result, page_html = broken
    page = read_page(page_html)
    assert assert_images_are_embedded_pngs(page) == 5
    alts = [image["alt"] for image in page.images]
    assert sum(a.startswith("ROC curve") for a in alts) == 1  # ad accuracy
    assert sum(a.startswith("Confusion matrix") for a in alts) == 1  # kws accuracy
    assert sum(a.startswith("Energy samples") for a in alts) == 1  # ad energy, MLCommons trials
    assert sum(a.startswith("Window runtimes") for a in alts) == 2  # ad and kws performance, nothing else


def test_text_from_the_tree_is_escaped(broken):
    _result, page_html = broken
    assert "<b>not bold</b>" not in page_html
    assert "my notes.txt" in page_html


def test_invalid_results_are_marked_and_open(broken):
    result, page_html = broken
    view = build_view(result, with_plots=False)
    results = {r["path"]: r for g in view["groups"] for s in g["systems"] for r in s["results"]}
    perf = results["closed/example_org/results/virtual_dut_host/ad/performance"]
    assert not perf["valid"] and perf["errors"] == 1
    assert re.search(rf'<details class="result" id="{perf["anchor"]}"[^>]* open>', page_html)


def test_eembc_energy_trace_is_drawn_also_when_parsed_in_workers(eembc_energy):
    """With --jobs the trace memory map is dropped in the worker; the page reopens the file."""
    for jobs in (1, 2):
        result = run_check(eembc_energy, CheckOptions(jobs=jobs))
        page = read_page(render_html(result, processes=jobs))
        alts = [image["alt"] for image in page.images]
        assert sum(a.startswith("Energy trace") for a in alts) == 1
        assert_images_are_embedded_pngs(page)
        assert_every_number_shown(result, page, build_view(result, with_plots=False))


def test_numbers_read_as_printed():
    assert format_number(158.957, claimed=True) == "158.957"
    assert format_number(36631840.123, claimed=True) == "36631840.123"
    assert format_number(158.95724050230487) == "158.9572"
    assert format_number(12345678.9) == "12345679"  # integer digits are never rounded away
    assert format_number(0.9893148371945409) == "0.9893148"
    assert format_number(float("nan")) == "NaN" and format_number(None) == "—" and format_number(44) == "44"
    assert relative_difference(100.0, 101.0) == "+1%" and relative_difference(0, 1.0) == ""
    assert relative_difference(2.0, 2.0) == "0"


def test_whole_v1_1_round_renders(round_v1_1, round_v1_1_page):
    """The timing target (under 60 s) is measured by benchmarks/bench_report.py, not asserted here."""
    result, page_html = round_v1_1, round_v1_1_page
    page = read_page(page_html)
    assert len(result.results) > 200 and result.findings
    assert assert_images_are_embedded_pngs(page) > 150
    assert_self_contained(page)
    assert_findings_with_rule_docs(result, page)
    assert_every_number_shown(result, page, build_view(result, with_plots=False))
    assert len(page_html) < 10 * 1024 * 1024
    assert html.escape(str(result.root)) in page_html


def test_v1_3_streaming_wakeword_results_show_their_detections():
    """The five v1.3 SWW performance results.json hold the detections: each gets its time line,
    titled with the counts the checker recomputed (and the runner printed)."""
    from helpers.shared import shared_path
    from submission_tools.check import CheckOptions, run_check
    from submission_tools.report.html import render_html

    result = run_check(shared_path("data", "tiny_results", "v1.3"), CheckOptions())
    page = read_page(render_html(result))
    timelines = [image for image in page.images if image["alt"].startswith("Wakeword detections: ")]
    assert len(timelines) == 5 and all("/sww/performance" in image["alt"] for image in timelines)
    for image in timelines:
        decode_png(image["src"])
    scored = [s for s in result.scored.values() if s.sww is not None and s.sww.score is not None]
    assert len(scored) == 5 and all(s.sww.score.tp + s.sww.score.fn == 50 for s in scored)
