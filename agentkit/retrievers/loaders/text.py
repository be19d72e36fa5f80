"""Plain text and Markdown loaders (one document per file)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import Loader, decode_text

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class TextLoader(Loader):
    """A text file as one document (UTF-8, or detected Latin-1/cp1252 noted in
    ``metadata["encoding"]``)."""

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        text, encoding = decode_text(data, source)
        return [Document(text, metadata={**metadata, "encoding": encoding}, source=source)]


@dataclass(frozen=True)
class MarkdownLoader(Loader):
    """A Markdown file as one document, text kept as written. ``metadata["title"]`` is the
    ``title:`` of a YAML front matter block (``---`` lines at the top), else the first
    heading; ``metadata["headings"]`` lists every heading (code blocks and front matter
    ignored)."""

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        text, encoding = decode_text(data, source)
        meta: dict[str, Any] = {**metadata, "encoding": encoding}
        front = _FRONT_MATTER.match(text)
        headings = markdown_headings(text[front.end() :] if front else text)
        if headings:
            meta["title"] = headings[0]
            meta["headings"] = headings
        title = _FRONT_TITLE.search(front.group(1)) if front else None
        if title and title.group(1).strip("\"'"):
            meta["title"] = title.group(1).strip("\"'")
        return [Document(text, metadata=meta, source=source)]


def markdown_headings(text: str) -> list[str]:
    """ATX headings (``# Title``) of a Markdown text, outside fenced code blocks."""
    headings: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if opened:
            if fence is None:
                fence = opened.group(1)
            elif opened.group(1) == fence:
                fence = None
            continue
        if fence is None:
            match = _HEADING.match(line)
            if match:
                headings.append(match.group(2))
    return headings
