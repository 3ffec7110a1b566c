"""The generated files: any text survives its template, and the output is stable."""

from __future__ import annotations

import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from submission_tools.package import render
from submission_tools.rules.system_description import official_fields
from submission_tools.strictjson import parse_strict_json

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_yaml_scalar_round_trips_any_text(text):
    assert yaml.safe_load("key: " + render.yaml_scalar(text)) == {"key": text}


@settings(max_examples=50, deadline=None)
@given(st.lists(TEXT, min_size=6, max_size=6), st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,8}",
                                                                      fullmatch=True), min_size=1, max_size=3))
def test_deviations_template_reproduces_its_entries(values, systems):
    entry = {"benchmarks": ["kws"], "systems": sorted(set(systems)),
             **dict(zip(("model", "training_data", "training_procedure", "quantization", "numerics", "unchanged"),
                        values))}
    text = render.deviations_yaml("org", "v1.4", [entry]).decode()
    assert yaml.safe_load(text) == {"submitter": "org", "deviations": [entry]}


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.sampled_from(official_fields()), TEXT, max_size=8))
def test_system_json_has_exactly_the_official_fields(fields):
    text = render.system_json(fields).decode()
    parsed = parse_strict_json(text)
    assert list(parsed.value) == official_fields() and not parsed.duplicates
    assert all(parsed.value[k] == fields.get(k, "") for k in official_fields())


def test_checksums_are_sorted_and_escaped_like_sha256sum():
    text = render.checksums({"b.txt": "1" * 64, "a dir/a.txt": "2" * 64, "odd\\name": "3" * 64}).decode()
    assert text.splitlines() == [f"{'2' * 64}  a dir/a.txt", f"{'1' * 64}  b.txt", f"\\{'3' * 64}  odd\\\\name"]


def test_inputs_digest_depends_on_order_and_content():
    one = [{"file": "a.bin", "offset": 0, "bytes": 4, "sha256": "0" * 64},
           {"file": "b.bin", "offset": 0, "bytes": 4, "sha256": "1" * 64}]
    assert render.inputs_digest(one) != render.inputs_digest(one[::-1])
    assert render.inputs_digest(json.loads(json.dumps(one))) == render.inputs_digest(one)
