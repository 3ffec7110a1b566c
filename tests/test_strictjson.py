"""Strict JSON: duplicates with both places and values, positions of errors, refused constants."""

import pytest

from submission_tools.strictjson import JsonProblem, parse_strict_json


def test_duplicate_keys_report_both_places_and_values():
    parsed = parse_strict_json('{\n  "a": "kept?",\n  "b": 1,\n  "a": ""\n}')
    (dup,) = parsed.duplicates
    assert (dup.first.key, dup.first.line, dup.second.line) == ("a", 2, 4)
    assert (dup.first_value, dup.second_value) == ("kept?", "")
    assert parsed.value == {"a": "", "b": 1}
    assert parsed.last_place("a").line == 4


def test_duplicates_in_nested_objects_and_arrays():
    parsed = parse_strict_json('{"x": {"k": 1, "k": 2}, "y": [{"z": 1}, {"z": 1, "z": [3]}]}')
    found = {(d.first.pointer, d.first.key, d.second_value if not isinstance(d.second_value, list) else "list")
             for d in parsed.duplicates}
    assert found == {("/x", "k", 2), ("/y/1", "z", "list")}


def test_same_key_in_sibling_objects_is_not_a_duplicate():
    assert parse_strict_json('[{"a": 1}, {"a": 2}]').duplicates == []


def test_keys_inside_strings_are_not_keys():
    parsed = parse_strict_json('{"note": "{\\"a\\": 1, \\"a\\": 2}", "b": "x:y,"}')
    assert [k.key for k in parsed.keys] == ["note", "b"] and parsed.duplicates == []


@pytest.mark.parametrize("text, line, column", [
    ('{\n  "a": 1\n  "b": 2\n}', 3, 3),          # missing comma
    ('{"a": 1,}', 1, 9),                          # trailing comma
    ('{"a": "line\nbreak"}', 1, 12),              # raw newline in a string (at the newline)
    ("", 1, 1),
])
def test_errors_have_line_and_column(text, line, column):
    with pytest.raises(JsonProblem) as info:
        parse_strict_json(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_nan_is_refused_with_its_place():
    with pytest.raises(JsonProblem) as info:
        parse_strict_json('{\n "a": NaN}')
    assert "NaN" in info.value.message and info.value.line == 2


def test_deep_nesting_is_a_problem_not_a_crash():
    with pytest.raises(JsonProblem):
        parse_strict_json("[" * 100000 + "]" * 100000)


def test_byte_order_mark_is_accepted():
    assert parse_strict_json('\ufeff{"a": 1}').value == {"a": 1}
