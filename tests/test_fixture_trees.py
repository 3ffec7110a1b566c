"""The rule-fixture interpreter (helpers/fixture_trees.py) never writes outside its tree."""

from __future__ import annotations

import os

import pytest

from helpers.fixture_trees import (
    FixtureError, TreeEditor, build_fixture_tree, example_spec, load_fixture_file, parse_size,
)
from submission_tools.example_tree import ExampleSpec


@pytest.fixture
def tree(tmp_path):
    return build_fixture_tree(tmp_path, ExampleSpec(), [])


@pytest.mark.parametrize("path", [
    "/etc/passwd", "../outside.txt", "{org}/../../../outside.txt", "closed/../../outside.txt",
    "", ".", "./", "\\\\server\\share\\x", "C:\\x.txt",
])
def test_paths_outside_the_tree_are_refused(tmp_path, tree, path):
    editor = TreeEditor(tree.root, tree.spec)
    with pytest.raises(ValueError):
        editor.apply([{"write": {"path": path, "text": "x"}}])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference", "tree"]  # nothing written outside them


def test_writing_through_a_link_is_refused(tmp_path, tree):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    editor = TreeEditor(tree.root, tree.spec)
    editor.apply([{"symlink": {"path": "{org}/code/out", "target": str(outside)}},
                  {"symlink": {"path": "{org}/code/victim", "target": str(victim)}}])
    for op in ({"write": {"path": "{org}/code/out/x.txt", "text": "x"}},
               {"mkdir": "{org}/code/out/sub"},
               {"write": {"path": "{org}/code/victim", "text": "overwritten"}},
               {"sparse": {"path": "{org}/code/victim", "size": 10}},
               {"chmod": {"path": "{org}/code/victim", "mode": "000"}}):
        with pytest.raises(ValueError):
            editor.apply([op])
    assert list(outside.iterdir()) == [] and victim.read_text() == "keep"
    assert victim.stat().st_mode & 0o777 != 0
    # Removing a link removes the link, not what it points to.
    editor.apply([{"remove": "{org}/code/victim"}, {"remove": "{org}/code/out"}])
    assert victim.read_text() == "keep" and outside.is_dir()


def test_placeholders_and_ops(tree):
    root = tree.root
    TreeEditor(root, tree.spec).apply([
        {"write": {"path": "{sys}/kws/notes.txt", "text": "a\r\nb"}},
        {"write_bytes": {"path": "{systems}/x.bin", "hex": "00 ff\n10"}},
        {"rename": {"from": "{sys}/kws/notes.txt", "to": "{org}/code/deep/er/notes.txt"}},
        {"copy": {"from": "{sys}/ic", "to": "{sys}/ic_copy"}},
        {"mkdirs": {"path": "{org}/code/many", "count": 12}},
        {"json_set": {"path": "{systems}/virtual_dut_host.json", "key": "Status", "value": "RDI"}},
        {"json_del": {"path": "{systems}/virtual_dut_host.json", "key": "Accelerator"}},
        {"replace": {"path": "{org}/code/README.md", "old": "# Reproducing", "new": "# Rebuilding"}},
        {"sparse": {"path": "{org}/code/big.bin", "size": "64MiB"}},
        {"fifo": "{org}/code/pipe"},
    ])
    org = root / "closed" / "example_org"
    assert (org / "code/deep/er/notes.txt").read_bytes() == b"a\r\nb"
    assert (org / "systems/x.bin").read_bytes() == b"\x00\xff\x10"
    assert (org / "results/virtual_dut_host/ic_copy/accuracy/results.json").is_file()
    assert len(list((org / "code/many").iterdir())) == 12
    text = (org / "systems/virtual_dut_host.json").read_text()
    assert '"Status": "RDI"' in text and '"Accelerator"' not in text and text.startswith('{\n  "Submitter"')
    assert (org / "code/README.md").read_text().startswith("# Rebuilding")
    big = (org / "code/big.bin").stat()
    assert big.st_size == 64 * 1024 * 1024 and big.st_blocks * 512 < big.st_size  # never written
    assert not (org / "code/pipe").is_file() and os.path.exists(org / "code/pipe")


@pytest.mark.parametrize("op, error", [
    ({"remove": "{org}/nothing_here"}, FixtureError),
    ({"replace": {"path": "{org}/code/README.md", "old": "absent", "new": "x"}}, FixtureError),
    ({"json_del": {"path": "{systems}/virtual_dut_host.json", "key": "No such key"}}, FixtureError),
    ({"write": {"path": "{nope}/x", "text": "x"}}, FixtureError),
    ({"writ": {"path": "x", "text": "x"}}, FixtureError),
    ({"write": {"path": "x"}}, FixtureError),
    ({"chmod": {"path": "{org}/code", "mode": 0}}, FixtureError),
    ({"write": {"path": "a", "text": "x"}, "mkdir": "b"}, FixtureError),
])
def test_stale_or_malformed_ops_fail_loudly(tree, op, error):
    with pytest.raises(error):
        TreeEditor(tree.root, tree.spec).apply([op])


def test_fixture_files_are_validated(tmp_path):
    def load(name, text):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        return load_fixture_file(path)

    rule, cases = load("TREE001", "rule: TREE001\nfail:\n  - name: a\n    count: 2\npass:\n  - name: b\n")
    assert rule == "TREE001" and [c.id for c in cases] == ["TREE001-fail-a", "TREE001-pass-b"]
    for name, text in [
        ("TREE001", "rule: TREE002\nfail: []\n"),  # rule does not match the file name
        ("TREE001", "rule: TREE001\nfail:\n  - name: a\n    opz: []\n"),  # unknown case key
        ("TREE001", "rule: TREE001\nfail:\n  - name: a\n  - name: a\n"),  # duplicate name
        ("TREE001", "rule: TREE001\npass:\n  - name: a\n    count: 1\n"),  # count on a pass case
        ("TREE001", "rule: TREE001\nfail:\n  - name: a\n    base: {rounds: v1.3}\n"),  # unknown base key
        ("TREE001", "rule: TREE001\nfail:\n  - name: a\n    ops: [{mkdir: x, remove: y}]\n"),
        ("PKG001", "rule: PKG001\nfail:\n  - name: a\n"),  # a PKG rule needs stage: package
        ("TREE001", "rule: TREE001\nstage: package\nfail:\n  - name: a\n"),  # ...and only PKG rules have it
        ("PKG001", "rule: PKG001\nstage: packing\nfail:\n  - name: a\n"),  # unknown stage
        ("PKG001", "rule: PKG001\nstage: package\nfail:\n  - name: a\n    ops: [{fake_secret: {path: k, kind: pin}}]\n"),
    ]:
        with pytest.raises(FixtureError):
            load(name, text)


def test_package_stage_files_load_with_their_stage(tmp_path):
    path = tmp_path / "PKG001.yaml"
    path.write_text("rule: PKG001\nstage: package\nfail:\n  - name: a\npass:\n  - name: b\n")
    _rule, cases = load_fixture_file(path)
    assert {c.stage for c in cases} == {"package"}


def test_fake_secrets_are_made_at_run_time(tree):
    from helpers.fixture_trees import fake_secret
    from submission_tools.package.safety import find_secret

    TreeEditor(tree.root, tree.spec).apply([{"fake_secret": {"path": "{org}/code/key", "kind": "private_key"}}])
    text = (tree.root / tree.spec.division / tree.spec.submitter / "code" / "key").read_text()
    assert text == fake_secret("private_key") and find_secret(text.encode()) == "a private key (PEM block)"
    assert find_secret(fake_secret("github_token").encode()) == "a GitHub access token"
    assert find_secret(fake_secret("aws_key").encode()) == "an AWS access key id"


def test_base_and_sizes():
    spec = example_spec({"round": "v1.3", "benchmarks": ["kws", "sww"], "system_fields": {"Status": "RDI"}})
    assert spec.benchmarks == ("kws", "sww") and spec.round == "v1.3" and spec.system_fields == {"Status": "RDI"}
    assert parse_size("2MiB") == 2 * 1024 ** 2 and parse_size("1GiB") == 1024 ** 3 and parse_size(17) == 17
    with pytest.raises(FixtureError):
        parse_size("2MB")


def test_json_pointer_ops_edit_a_results_json_list(tree):
    import json

    perf = "{sys}/kws/performance/results.json"
    TreeEditor(tree.root, tree.spec).apply([
        {"json_pointer_set": {"path": perf, "pointer": "/0/infer/end_time", "value": 11_000_000}},
        {"json_pointer_del": {"path": perf, "pointer": "/4"}},
        {"json_pointer_del": {"path": perf, "pointer": "/1/infer/throughput"}},
        {"json_pointer_set": {"path": perf, "pointer": "/-", "value": {"error": "error 1"}}},
        {"json_pointer_set": {"path": perf, "pointer": "/2/a~1b~0c", "value": None}},
    ])
    path = tree.root / "closed/example_org/results/virtual_dut_host/kws/performance/results.json"
    records = json.loads(path.read_text())
    assert len(records) == 5 and records[-1] == {"error": "error 1"}
    assert records[0]["infer"]["end_time"] == 11_000_000 and "throughput" not in records[1]["infer"]
    assert records[2]["a/b~c"] is None


@pytest.mark.parametrize("op", [
    {"json_pointer_set": {"path": "{sys}/kws/performance/results.json", "pointer": "/5", "value": 1}},
    {"json_pointer_set": {"path": "{sys}/kws/performance/results.json", "pointer": "/0/nope/x", "value": 1}},
    {"json_pointer_set": {"path": "{sys}/kws/performance/results.json", "pointer": "/0/file/x", "value": 1}},
    {"json_pointer_set": {"path": "{sys}/kws/performance/results.json", "pointer": "/01", "value": 1}},
    {"json_pointer_set": {"path": "{sys}/kws/performance/results.json", "pointer": "0/file", "value": 1}},
    {"json_pointer_del": {"path": "{sys}/kws/performance/results.json", "pointer": "/-"}},
    {"json_pointer_del": {"path": "{sys}/kws/performance/results.json", "pointer": "/0/no_such_key"}},
    {"json_pointer_del": {"path": "{sys}/kws/performance/results.json"}},
    {"labels_remove": {"set": "kws01", "file": "kws_9999.bin"}},
    {"labels_remove": {"set": "ad01_alt", "file": "ad_0000.bin"}},  # the reference has no such set
    {"labels_remove": {"set": "kws02", "file": "kws_0000.bin"}},
    {"labels_copy": {"from": "ad01", "to": "kws01"}},  # would overwrite a set
    {"labels_copy": {"from": "ad01", "to": "ad01"}},
    {"labels_copy": {"from": ["ad01"], "to": "ad01_alt"}},
])
def test_stale_or_malformed_json_pointer_and_label_ops_fail_loudly(tree, op):
    with pytest.raises(FixtureError):
        TreeEditor(tree.root, tree.spec, tree.reference).apply([op])


def test_label_ops_edit_only_the_stand_in_reference(tmp_path, tree):
    datasets = tree.reference / "benchmark" / "evaluation" / "datasets"
    before = (datasets / "kws01" / "y_labels.csv").read_text().splitlines()
    TreeEditor(tree.root, tree.spec, tree.reference).apply([
        {"labels_remove": {"set": "kws01", "file": "kws_0003.bin"}},
        {"labels_copy": {"from": "ad01", "to": "ad01_alt"}},
    ])
    after = (datasets / "kws01" / "y_labels.csv").read_text().splitlines()
    assert after == [row for row in before if not row.startswith("kws_0003.bin,")] and len(after) == 19
    assert (datasets / "ad01" / "y_labels_alt.csv").read_bytes() == (datasets / "ad01" / "y_labels.csv").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reference", "tree"]
    with pytest.raises(FixtureError):  # an editor without a reference cannot edit labels
        TreeEditor(tree.root, tree.spec).apply([{"labels_remove": {"set": "kws01", "file": "kws_0004.bin"}}])


def test_accuracy_inputs_base_key():
    assert example_spec({"accuracy_inputs": 3}).accuracy_inputs == 3
    for bad in (0, -1, "3", True, 2.5):
        with pytest.raises(FixtureError):
            example_spec({"accuracy_inputs": bad})
