"""--reference: a checkout of mlcommons/tiny, validated and fingerprinted against known digests."""

import shutil

import pytest

from helpers.shared import shared_path
from submission_tools.check import CheckOptions, run_check
from submission_tools.errors import ReferenceCheckoutError
from submission_tools.example_tree import build_example_tree
from submission_tools.reference import ReferenceCheckout, known_digests


def test_shared_checkout_is_known():
    checkout = ReferenceCheckout.open(shared_path("data", "mlperf_tiny"))
    statuses = {f.key: f.status for f in checkout.files}
    assert set(statuses.values()) == {"known"}
    assert set(statuses) == (set(known_digests()["label_sets"]) | set(known_digests()["models"])
                             | set(known_digests()["runner_files"]))
    assert checkout.label_file("ic01").name == "y_labels.csv" and checkout.notes == []


def test_a_folder_without_labels_is_refused(tmp_path):
    with pytest.raises(ReferenceCheckoutError, match="not a checkout of mlcommons/tiny"):
        ReferenceCheckout.open(tmp_path)


def test_a_changed_label_file_is_noted(tmp_path):
    source = shared_path("data", "mlperf_tiny", "benchmark", "evaluation")
    copy = tmp_path / "tiny" / "benchmark" / "evaluation"
    shutil.copytree(source, copy)
    labels = copy / "datasets" / "kws01" / "y_labels.csv"
    labels.write_text(labels.read_text().replace(",12,7", ",12,6", 1))
    checkout = ReferenceCheckout.open(tmp_path / "tiny")
    statuses = {f.key: f.status for f in checkout.files}
    assert statuses["kws01"] == "different" and statuses["kws_int8"] == "absent"
    assert any("kws01/y_labels.csv differs" in note for note in checkout.notes)


def test_synthetic_inputs_are_not_the_real_evaluation_set(tmp_path):
    tree = build_example_tree(tmp_path / "tree")
    result = run_check(tree, CheckOptions(reference=shared_path("data", "mlperf_tiny")))
    assert result.reference is not None and result.verdict() == "fail"
    assert {f.rule for f in result.findings} == {"ACC002"}
    assert all("in no label set (kws01)" in f.message or "in no label set (ic01)" in f.message
               for f in result.findings)
