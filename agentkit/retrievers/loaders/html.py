"""HTML loader: readable text via the standard library's ``html.parser``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import Loader, UnreadableFileError, decode_text

_DROPPED = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
_PARAGRAPH = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote",
     "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "figure", "form",
     "hr", "body"}
)  # fmt: skip
_LINE = frozenset({"br", "li", "tr", "dt", "dd", "figcaption", "caption", "option"})
_CELL = frozenset({"td", "th"})


@dataclass(frozen=True)
class HTMLLoader(Loader):
    """An HTML page as one document of readable text: scripts, styles and ``noscript``
    dropped, block elements on their own lines, whitespace collapsed (kept inside
    ``<pre>``). ``metadata["title"]`` is the page title."""

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        markup, encoding = decode_text(data, source)
        text, title = html_to_text(markup)
        if not text:
            raise UnreadableFileError(source, "no readable text in the HTML page")
        meta: dict[str, Any] = {**metadata, "encoding": encoding}
        if title:
            meta["title"] = title
        return [Document(text, metadata=meta, source=source)]


def html_to_text(markup: str) -> tuple[str, str]:
    """``(readable text, title)`` of an HTML string."""
    extractor = _Extractor()
    extractor.feed(markup)
    extractor.close()
    return extractor.text(), extractor.title


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._title: list[str] = []
        self._dropped = 0  # depth inside dropped elements
        self._pre = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropped += 1
        elif tag == "title":
            self._in_title = True
        else:
            self._break(tag)
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped = max(0, self._dropped - 1)
        elif tag == "title":
            self._in_title = False
            self.title = " ".join("".join(self._title).split())
        elif tag not in _LINE:  # a line break before each item is enough
            self._break(tag)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _DROPPED:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._dropped:
            return
        if self._in_title:
            self._title.append(data)
        elif self._pre:
            self.parts.append(
                data.replace("\t", "    ").replace(" ", "\u00a0")
            )  # protected from collapsing
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def _break(self, tag: str) -> None:
        if self._dropped:
            return
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")

    def text(self) -> str:
        raw = "".join(self.parts)
        raw = re.sub(r"[ \t]*\n[ \t]*", "\n", raw)
        raw = re.sub(r"[ \t]{2,}", " ", raw)
        raw = re.sub(r"\n{3,}", "\n\n", raw)
        return raw.replace("\u00a0", " ").strip()
