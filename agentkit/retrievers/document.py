"""The :class:`Document`: a piece of text with an id, metadata and where it came from."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


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


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
