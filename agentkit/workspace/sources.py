"""The sources of an answer: the documents a chain used, as plain dicts a front end shows.

Each source is ``{"id", "title", "source", "snippet", "passage", "score", "link"}``:
``passage`` is the chunk's text (whitespace flattened, at most :data:`PASSAGE_CHARS`), where
:mod:`agentkit.workspace.highlights` marks the answer. ``link`` is the document's own
``url`` metadata when it is an http(s) address, else a link to the app's Documents page
showing that chunk (``documents?doc=<source>&chunk=<id>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from agentkit.workspace.highlights import flat

DOCUMENT_KEYS = ("source_documents", "documents", "docs", "sources", "context")
SNIPPET_CHARS = 300
PASSAGE_CHARS = 2000
DOCUMENTS_PAGE = "documents"


def _snippet(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"


def document_link(source: str, metadata: Mapping[str, Any], chunk: str | None = None) -> str:
    """Where a source's link points (see the module docstring)."""
    url = metadata.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return url
    link = f"{DOCUMENTS_PAGE}?doc={quote(source, safe='')}"
    return link + (f"&chunk={quote(chunk, safe='')}" if chunk else "")


def source_info(item: Any) -> dict[str, Any] | None:
    """One source from a Document, a citation dict or a document dict (else ``None``)."""
    if isinstance(item, Mapping):
        metadata = item.get("metadata")
        text = item.get("text") or item.get("page_content") or item.get("snippet") or ""
        ident, score = item.get("id"), item.get("score")
        source = item.get("source")
    else:
        text = getattr(item, "text", None)
        if not isinstance(text, str):
            return None
        metadata = getattr(item, "metadata", None)
        ident, score = getattr(item, "id", None), getattr(item, "score", None)
        source = getattr(item, "source", None)
    if not isinstance(metadata, Mapping):  # a citation's "metadata" may be anything
        metadata = {}
    source = str(source or metadata.get("source") or metadata.get("path") or ident or "")
    title = metadata.get("title") or (PurePosixPath(source).name if source else "") or ident
    return {
        "id": None if ident is None else str(ident),
        "title": str(title or "document"),
        "source": source,
        "snippet": _snippet(str(text)),
        "passage": flat(str(text))[:PASSAGE_CHARS],
        "score": float(score) if isinstance(score, int | float) else None,
        "link": document_link(source, metadata, None if ident is None else str(ident))
        if source
        else None,
    }


def sources_of(output: Any) -> list[dict[str, Any]]:
    """The sources in a chain's output: a dict's documents or citations (RetrievalQA's
    ``source_documents`` first), or a list of documents (a retriever's output)."""
    items: Any = None
    if isinstance(output, Mapping):
        for key in DOCUMENT_KEYS:
            value = output.get(key)
            if isinstance(value, Sequence) and not isinstance(value, str) and value:
                items = value
                break
    elif isinstance(output, Sequence) and not isinstance(output, str | bytes):
        items = output
    if not items:
        return []
    found = [source_info(item) for item in items]
    return [s for s in found if s is not None]
