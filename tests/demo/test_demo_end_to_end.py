"""`submit demo` end to end, as the README's first command runs it: every benchmark measured on the
virtual DUT in every mode, packaged, checked (it must pass) and reported, with plots, in one folder."""

from __future__ import annotations

import json

from helpers.demo_runs import SYSTEM
from helpers.harness_runs import BENCH_MODES, SESSION_FILES
from helpers.report_page import decode_png, read_page
from helpers.live_sessions import live_findings
from submission_tools.check import CheckOptions, run_check

PLOT = {"performance": "Window runtimes", "accuracy": "Confusion matrix", "energy": "Energy samples"}
SESSIONS = sum(len(modes) for modes in BENCH_MODES.values())


def test_the_demo_passes_and_says_where_everything_is(demo_run):
    assert demo_run.code == 0, demo_run.stderr
    lines = demo_run.stdout.splitlines()
    assert lines[0].startswith("submit demo: PASSED") and ": 0 errors" in lines[0]
    assert f"in {SESSIONS} results from {SESSIONS} sessions" in lines[0]
    out = str(demo_run.out)
    for shown in ("sessions", "submission.yaml", "tree/closed/demo_org", "reference", "report.html"):
        assert any(f"{out}/{shown}" in line for line in lines), shown
    assert lines[-1] == f"Check it again: submit check {out}/tree --reference {out}/reference"
    assert "Traceback" not in demo_run.stderr
    print(f"\nsubmit demo took {demo_run.seconds:.1f} s")
    assert demo_run.seconds < 120


def test_progress_names_every_session_with_its_score(demo_run):
    err = demo_run.stderr
    assert f"measuring on the virtual DUT: {SESSIONS} steps" in err
    assert "kws01 accuracy: Top 1% = " in err and "ad01 accuracy: AUC = " in err
    assert "vww01 performance: Median throughput is" in err and "ic01 energy: Median energy cost is" in err
    assert "sww01 performance: Accuracy: " in err and "True positives" in err
    assert "packaged: " in err and "checked: PASSED" in err


def test_one_complete_session_per_benchmark_and_mode(demo_run):
    sessions = sorted((demo_run.out / "sessions").iterdir())
    assert len(sessions) == SESSIONS
    seen = []
    for folder in sessions:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == "complete"
        assert manifest["config"]["document"]["virtual"]["model"] == "builtin"
        seen.append((manifest["benchmark"], manifest["mode"]))
    expected = [(f"{b}01", "streaming" if b == "sww" else m) for b, modes in BENCH_MODES.items() for m in modes]
    assert sorted(seen) == sorted(expected)


def test_the_packaged_tree_holds_every_result_and_passes_check(demo_run):
    results = demo_run.org / "results" / SYSTEM
    for bench, modes in BENCH_MODES.items():
        for mode in modes:
            names = {p.name for p in (results / bench / mode).iterdir()}
            assert set(SESSION_FILES) <= names, (bench, mode, names)
            plots = any(n.endswith(".png") for n in names)  # energy_inf_NNN.png of each energy window
            assert plots == (mode == "energy" and bench != "sww"), (bench, mode)
        assert {p.name for p in (demo_run.org / "code" / bench / "virtual").iterdir()} == \
            {"README.md", *(f"harness-{m}.yaml" for m in modes)}
    assert (demo_run.org / "MANIFEST.sha256").is_file()
    result = run_check(demo_run.out / "tree", CheckOptions(reference=demo_run.out / "reference"))
    assert [(f.rule, f.path, f.message) for f in live_findings(result.findings)] == []
    assert len(result.results) == SESSIONS
    assert all(row["different"] == 0 and row["not_recomputable"] == 0 for row in result.agreement)


def test_the_report_embeds_a_plot_of_every_result_that_has_one(demo_run):
    page = read_page((demo_run.out / "report.html").read_text(encoding="utf-8"))
    alts = sorted(image["alt"] for image in page.images)
    expected = []
    for bench, modes in BENCH_MODES.items():
        for mode in modes:
            where = f"closed/demo_org/results/{SYSTEM}/{bench}/{mode}"
            if bench == "sww":  # a streaming run: its detections, and the monitor's samples in energy
                expected.append(f"Wakeword detections: {where}")
                if mode == "performance":
                    continue
            kind = "ROC curve" if (bench, mode) == ("ad", "accuracy") else PLOT[mode]
            expected.append(f"{kind}: {where}")
    assert alts == sorted(expected)
    for image in page.images:
        decode_png(image["src"])  # every one a complete, readable PNG
