""":class:`Hit`: one vector-search result, whose document is built on first access.

A search over ``n`` queries returns ``n * k`` hits, and most callers read a few documents
or only ids and scores, so a hit keeps the store's row and copies it into a
:class:`Document` only when ``hit.document`` is read (once; later reads return that copy).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agentkit.retrievers.document import Document

# A stored row: (id, text, metadata, source, chunk); the metadata dict is never mutated.
Row = tuple[str, str, dict[str, Any], "str | None", "int | None"]


class Hit:
    """One search result: the document ``id``, its ``score`` (higher is better) and the
    ``document`` (a copy owned by this hit, with ``score`` set).

    Unpacks like a tuple: ``id, score, document = hit``.
    """

    __slots__ = ("_document", "_row", "id", "score")
    id: str
    score: float
    _document: Document | None
    _row: Row | None

    def __init__(self, id: str, score: float, document: Document) -> None:
        self.id, self.score, self._document, self._row = id, score, document, None

    @property
    def document(self) -> Document:
        doc = self._document
        if doc is None:
            r = self._row
            assert r is not None
            doc = Document(r[1], r[0], dict(r[2]), r[3], r[4], self.score)
            self._document, self._row = doc, None
        return doc

    def __iter__(self) -> Iterator[Any]:
        return iter((self.id, self.score, self.document))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hit):
            return NotImplemented
        return (self.id, self.score, self.document) == (other.id, other.score, other.document)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Hit(id={self.id!r}, score={self.score!r}, document={self.document!r})"


class StoredHit(Hit):
    """A hit made from a docstore row (the search hot path: no document is built)."""

    __slots__ = ()

    def __init__(self, row: Row, score: float) -> None:
        self.id, self.score, self._document, self._row = row[0], score, None, row
