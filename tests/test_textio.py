"""Reading text safely: size bound, UTF-8 required, binary refused, with the place of the bad byte."""

import pytest

from submission_tools.textio import TextProblem, read_text


def test_reads_utf8(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("héllo\n", encoding="utf-8")
    assert read_text(str(path)) == "héllo\n"


def test_non_utf8_names_offset_line_and_column(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"ok\nab\xe9cd\n")
    with pytest.raises(TextProblem) as info:
        read_text(str(path))
    assert "not UTF-8" in str(info.value) and (info.value.line, info.value.column) == (2, 3)


def test_binary_is_refused(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"\x00\x01\x02")
    with pytest.raises(TextProblem, match="binary"):
        read_text(str(path))


def test_too_large_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(TextProblem, match="larger than 1 MiB"):
        read_text(str(path), limit=1024 * 1024)


def test_missing_file(tmp_path):
    with pytest.raises(TextProblem, match="cannot be read"):
        read_text(str(tmp_path / "nope"))
