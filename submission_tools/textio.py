"""Reading small text files from a tree safely: bounded size, UTF-8 required, binary refused."""

from __future__ import annotations

from dataclasses import dataclass

# System descriptions, READMEs and runner summaries are a few kB; anything bigger than this
# where we expect such a file is not that file.
DEFAULT_TEXT_LIMIT = 4 * 1024 * 1024


@dataclass
class TextProblem(Exception):
    """Why a file could not be read as text; `offset` is the first bad byte when known."""

    reason: str
    offset: int | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.reason


def read_text(os_path: str, limit: int = DEFAULT_TEXT_LIMIT) -> str:
    """Return the file's text, or raise TextProblem saying why it is not readable text."""
    try:
        with open(os_path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise TextProblem(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise TextProblem(f"is larger than {limit // (1024 * 1024)} MiB, too large for this kind of file")
    return decode_text(data)


def decode_text(data: bytes) -> str:
    nul = data.find(b"\x00")
    if nul != -1:
        line, column = _place(data, nul)
        raise TextProblem("holds binary data (a NUL byte), not text", nul, line, column)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _place(data, exc.start)
        raise TextProblem(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start})",
            exc.start, line, column,
        ) from None


def _place(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def read_head(os_path: str, size: int = 4096) -> bytes:
    """The first `size` bytes of a file, or b"" when it cannot be read."""
    try:
        with open(os_path, "rb") as fh:
            return fh.read(size)
    except OSError:
        return b""
