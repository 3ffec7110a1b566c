"""File-name facts shared by the layout and hygiene rules."""

from __future__ import annotations

import os
import re

# Left behind by operating systems and editors, never part of a submission.
OS_JUNK = re.compile(r"^(\._.*|\.DS_Store|~\$.*|Thumbs\.db|desktop\.ini|\.~lock\..*#)$", re.I)
# Characters Windows refuses in names, and ASCII control characters.
UNPORTABLE_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f\x7f]')
WINDOWS_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9]|LPT[1-9])(\..*)?$", re.I)


def is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def is_hygiene_name(name: str) -> bool:
    """Names the hygiene rules own (hidden files, OS junk)."""
    return is_hidden(name) or bool(OS_JUNK.match(name))


def unportable_reason(raw_name: str) -> str | None:
    """Why a name (as the OS returned it) breaks on some system; None when it is fine."""
    try:
        name = os.fsencode(raw_name).decode("utf-8")
    except UnicodeDecodeError:
        return "bytes that are not UTF-8"
    bad = sorted(set(UNPORTABLE_CHARS.findall(name)))
    if bad:
        shown = " ".join(repr(c)[1:-1] for c in bad)
        return f"characters that Windows or shells refuse ({shown})"
    if WINDOWS_RESERVED.match(name):
        return "a name Windows reserves for a device"
    if name != name.rstrip(" ."):
        return "a trailing space or dot, which Windows drops"
    if name != name.lstrip(" "):
        return "a leading space"
    return None
