"""Splitting runner files into numbered lines, tolerant of CRLF, a missing final newline and junk."""

from __future__ import annotations

from submission_tools.textio import TextProblem, decode_text


def numbered_lines(data: bytes) -> list[tuple[int, str]]:
    """(1-based line number, text without line end) for every line of `data`.

    Runner logs are UTF-8 text; undecodable bytes are replaced rather than refused, because a
    single garbled byte in a 100k-line log must not hide every other line.
    """
    try:
        text = decode_text(data)
    except TextProblem:
        text = data.replace(b"\x00", b"").decode("utf-8", "replace")
    return [(number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), start=1)]


def parse_vector(payload: str) -> tuple[list[float] | None, str | None]:
    """An m-results payload: '0.1,0.9', '0,127', '' or '-1.8,1.7,' (trailing comma)."""
    parts = [p.strip() for p in payload.split(",")]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    if parts == [] or parts == [""]:
        return [], None
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            return None, f"'{part}' is not a number"
    return values, None
