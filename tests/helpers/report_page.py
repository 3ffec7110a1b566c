"""Reading back the HTML page of `submit report` in tests: images, links, findings, result text.

A small html.parser walk (no third-party parser): it collects every <img> with its attributes,
every href/src, the text and links of each finding (<li> of a ul.findings), the ids on the page,
and the text that belongs to each result (elements carrying data-result="<anchor>").
"""

from __future__ import annotations

import base64
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser

PNG_PREFIX = "data:image/png;base64,"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class FindingItem:
    text: str
    hrefs: list[str]


@dataclass
class Page:
    images: list[dict] = field(default_factory=list)
    urls: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    ids: set[str] = field(default_factory=set)
    findings: list[FindingItem] = field(default_factory=list)
    result_text: dict[str, str] = field(default_factory=dict)
    metas: list[dict] = field(default_factory=list)
    text_by_id: dict[str, str] = field(default_factory=dict)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[tuple[str, dict]] = []
        self.finding: tuple[int, list[str], list[str]] | None = None  # (depth, text, hrefs)
        self.result_parts: dict[str, list[str]] = defaultdict(list)
        self.id_parts: dict[str, list[str]] = defaultdict(list)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.page.ids.add(attributes["id"])
        for name in ("href", "src", "action", "srcset", "poster", "data"):
            if name in attributes and attributes[name] is not None:
                self.page.urls.append((tag, name, attributes[name]))
        if tag == "img":
            self.page.images.append(attributes)
        if tag == "meta":
            self.page.metas.append(attributes)
        if tag == "a" and self.finding is not None and attributes.get("href"):
            self.finding[2].append(attributes["href"])
        if tag in VOID:
            return
        self.stack.append((tag, attributes))
        if tag == "li" and self.finding is None and any(
                t == "ul" and "findings" in (a.get("class") or "").split() for t, a in self.stack[:-1]):
            self.finding = (len(self.stack), [], [])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            open_tag, _attributes = self.stack.pop()
            if self.finding is not None and len(self.stack) < self.finding[0]:
                _depth, text, hrefs = self.finding
                self.page.findings.append(FindingItem(_squash(" ".join(text)), hrefs))
                self.finding = None
            if open_tag == tag:
                break

    def handle_data(self, data):
        if self.finding is not None:
            self.finding[1].append(data)
        owner = next((a["data-result"] for _t, a in reversed(self.stack) if a.get("data-result")), None)
        if owner is not None:
            self.result_parts[owner].append(data)
        for _tag, attributes in self.stack:
            if attributes.get("id"):
                self.id_parts[attributes["id"]].append(data)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    page = reader.page
    page.result_text = {k: _squash(" ".join(v)) for k, v in reader.result_parts.items()}
    page.text_by_id = {k: _squash(" ".join(v)) for k, v in reader.id_parts.items()}
    return page


def decode_png(src: str) -> bytes:
    """The PNG of a data: URI; AssertionError when it is not one, or not a readable PNG."""
    assert src.startswith(PNG_PREFIX), f"image is not an embedded PNG: {src[:60]!r}"
    data = base64.b64decode(src[len(PNG_PREFIX):], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    from PIL import Image  # a matplotlib dependency

    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        image.load()  # decodes every row: a truncated or corrupt PNG raises here
    return data


def squash(text: str) -> str:
    return _squash(text)
