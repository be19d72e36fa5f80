"""The :class:`Document`: a piece of text with an id, metadata and where it came from."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from agentkit.core.errors import UsageError


@dataclass(slots=True)
class Document:
    """A unit of retrievable text.

    Attributes:
        text: the content.
        id: stable identifier. Chunks use ``"<source>#<chunk index>"`` by default, so
            unchanged text keeps its id across ingestions.
        metadata: free-form key/values (filterable in vector stores).
        source: where it came from (a path or URL), if known.
        chunk: position of this chunk within its source document (0-based), if split.
        score: set by retrievers on the documents they return (higher is better).
    """

    text: str
    id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    chunk: int | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_hash(self.text)[:16]

    @property
    def hash(self) -> str:
        """Content hash of the text (sha256 hex), used to skip unchanged chunks."""
        return content_hash(self.text)

    def with_score(self, score: float) -> Document:
        return Document(self.text, self.id, dict(self.metadata), self.source, self.chunk, score)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            text=data["text"],
            id=data.get("id", ""),
            metadata=dict(data.get("metadata") or {}),
            source=data.get("source"),
            chunk=data.get("chunk"),
            score=data.get("score"),
        )


def as_document(item: Any) -> Document:
    """A :class:`Document` from what a retriever may return: a Document, a string, a dict
    (``text``/``page_content``/``content``, ``metadata``, ``id``, ``source``, ``score``) or
    an object with ``page_content`` and ``metadata`` (a LangChain or LlamaIndex document)."""
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(item)
    if isinstance(item, Mapping):
        get = item.get
    else:
        get = lambda key, default=None: getattr(item, key, default)  # noqa: E731
    text = next((t for key in _TEXT_KEYS if isinstance(t := get(key), str)), None)
    if text is None:
        raise UsageError(
            f"cannot read a document from {type(item).__name__} {str(item)[:80]!r}: a "
            "retriever must return Documents, strings, or dicts/objects with 'text' or "
            "'page_content'"
        )
    metadata = get("metadata")
    metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
    ident, score, chunk = get("id"), get("score"), get("chunk")
    return Document(
        text,
        str(ident) if ident is not None else "",
        metadata,
        get("source") if isinstance(get("source"), str) else metadata.get("source"),
        chunk if isinstance(chunk, int) else None,
        float(score) if isinstance(score, int | float) else None,
    )


_TEXT_KEYS = ("text", "page_content", "content")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
