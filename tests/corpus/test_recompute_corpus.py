"""Every score of the published v1.1 and v1.3 results recomputed from the raw files.

The counts below are the agreement table of the issue: each claim is either reproduced at its
printed precision, different (a real fault, also reported as a finding with both numbers), or
not recomputable because the file it needs is absent from the copy (MISSING.tsv).
"""

from __future__ import annotations

from collections import Counter

import pytest

from helpers.shared import shared_path
from submission_tools.check import CheckOptions, run_check

EXPECTED = {
    "v1.1": {
        "AUC (runner's algorithm)": (81, 1, 23),  # kai_jiang vww: outputs are not probabilities
        "Top-1": (82, 0, 23),  # the 23 AD accuracy logs are absent from the copy
        "median energy": (34, 0, 0),
        "median throughput": (105, 0, 0),
        "window energy": (170, 0, 0),
        "window throughput": (525, 0, 0),
    },
    "v1.3": {
        "AUC (runner's algorithm)": (12, 0, 3),
        "Top-1": (12, 0, 3),
        "median energy": (9, 0, 11),
        "median throughput": (15, 0, 0),
        "sww TP/FN/FP": (13, 0, 0),
        "sww duty cycle": (5, 0, 8),
        "window energy": (45, 0, 23),
        "window throughput": (75, 0, 0),
    },
}
_cache: dict = {}


def checked(version: str):
    if version not in _cache:
        options = CheckOptions(reference=shared_path("data", "mlperf_tiny"),
                               labels=[shared_path("data", "energyrunner", "datasets")])
        _cache[version] = run_check(shared_path("data", "tiny_results", version), options)
    return _cache[version]


@pytest.mark.parametrize("version", ["v1.1", "v1.3"])
def test_agreement_table(version):
    table = {row["metric"]: (row["agreed"], row["different"], row["not_recomputable"])
             for row in checked(version).agreement}
    assert table == EXPECTED[version]


def test_v11_known_faults_are_findings_with_both_numbers():
    findings = checked("v1.1").findings
    short = {f.path.split("/results/")[1] for f in findings if f.rule == "PERF002"}
    assert short == {"NUCLEO-L4R5ZI_X-CUBE-AI-8.0/vww/performance/log.txt",
                     "NUCLEO_H7A3ZI_Q/ic/performance/log.txt", "NUCLEO_H7A3ZI_Q/vww/performance/log.txt",
                     "NUCLEO-L4R5ZI_MicroTVM_Native/kws/performance/log.txt"}
    assert all(len(f.recomputed) == 5 for f in findings if f.rule == "PERF002")
    energy_short = {f.path.split("/results/")[1].rsplit("/", 1)[0] for f in findings if f.rule == "ENERGY002"}
    assert energy_short == {"NUCLEO_H7A3ZI_Q/ad/energy", "NUCLEO_H7A3ZI_Q/vww/energy",
                            "NUCLEO_L4R5ZI/vww/energy", "NUCLEO_U575ZI_Q/vww/energy"}
    old_labels = [f for f in findings if f.rule == "ACC002"]
    assert len(old_labels) == 10 and all("'ic01_pre_v07'" in f.message for f in old_labels)
    not_probabilities = {f.path.split("/")[1] for f in findings if f.rule == "ACC007"}
    assert not_probabilities == {"Nuvoton", "Skymizer", "kai_jiang"}
    (auc,) = [f for f in findings if f.rule == "ACC005"]
    assert "kai_jiang" in auc.path and auc.claimed == 0.96 and round(auc.recomputed, 4) == 0.8317
    (indeterminate,) = [f for f in findings if f.rule == "ACC006"]
    assert "NUCLEO_H7A3ZI_Q/ad/accuracy" in indeterminate.path and "indeterminate" in indeterminate.message


def test_absent_files_are_reported_as_absent_not_as_wrong_numbers():
    for version in ("v1.1", "v1.3"):
        rules = Counter(f.rule for f in checked(version).findings)
        assert rules["TREE009"] > 0
        for rule in ("PERF004", "PERF006", "ACC004", "ENERGY003", "ENERGY004", "SWW001", "SWW003", "RUN004"):
            assert rules[rule] == 0, (version, rule)


def test_results_carry_claimed_and_recomputed():
    results = checked("v1.3").results
    kws = next(r for r in results if r.path.endswith("NUCLEO_U575ZI_Q/kws/performance"))
    assert kws.claimed["throughput_ips"] == 34.489
    assert round(kws.recomputed["throughput_ips"], 3) == 34.489 and len(kws.recomputed["window_throughputs_ips"]) == 5
    sww = next(r for r in results if r.path.endswith("NUCLEO_U575ZI_Q/sww/performance"))
    assert (sww.recomputed["sww_tp"], sww.recomputed["sww_fn"], sww.recomputed["sww_fp"]) == (44, 6, 4)
