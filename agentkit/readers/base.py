"""The reader contract: ``Reader.read(question, documents) -> Answer``.

A reader takes the question and the retrieved passages directly (never a parsed prompt), so
its answer does not depend on any prompt's wording. An :class:`Answer` is the best span with
its passage, character offsets into that passage and a calibrated confidence; it is empty
(``text == ""``) when the reader abstains, and then carries the closest passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentkit.core.errors import UsageError

if TYPE_CHECKING:
    from agentkit.retrievers.document import Document

NOT_FOUND = "I could not find this in your documents."


@dataclass(frozen=True)
class Answer:
    """A reader's answer.

    Attributes:
        text: the answer span (``""`` when the reader abstains).
        confidence: estimated probability that ``text`` is right, in [0, 1].
        passage: the passage the span comes from (``None`` when abstaining).
        start, end: character offsets of the span in ``passage.text`` (``-1`` when none).
        passages: the closest passages, best first (on abstention: what to look at).
        reader: which reader answered (``"span"`` or ``"sentence"``).
    """

    text: str
    confidence: float
    passage: Document | None = None
    start: int = -1
    end: int = -1
    passages: tuple[Document, ...] = field(default_factory=tuple)
    reader: str = ""

    @property
    def abstained(self) -> bool:
        return not self.text

    @property
    def message(self) -> str:
        """What to show a user: the span, or :data:`NOT_FOUND`."""
        return self.text or NOT_FOUND

    def highlighted(self, before: str = "**", after: str = "**") -> str:
        """The passage with the span wrapped in ``before``/``after`` (``""`` if none)."""
        if self.passage is None or self.start < 0:
            return ""
        text = self.passage.text
        return text[: self.start] + before + text[self.start : self.end] + after + text[self.end :]

    def metadata(self) -> dict[str, Any]:
        """What a chat reply or chain output carries about the answer."""
        cited = [self.passage] if self.passage is not None else list(self.passages)
        return {
            "extractive": True,
            "reader": self.reader,
            "confidence": self.confidence,
            "abstained": self.abstained,
            "span": {"start": self.start, "end": self.end} if self.start >= 0 else None,
            "citations": [
                {"id": d.id, "source": str(d.source or d.metadata.get("source") or d.id)}
                for d in cited
            ],
        }


@runtime_checkable
class Reader(Protocol):
    """Answers a question from the given documents. ``read`` is the one method."""

    def read(self, question: str, documents: Sequence[Document | str]) -> Answer: ...


def as_documents(documents: Sequence[Document | str]) -> list[Document]:
    """``documents`` as :class:`Document` objects (strings are wrapped)."""
    from agentkit.retrievers.document import Document

    if isinstance(documents, str | bytes):
        raise UsageError("documents must be a list of Document objects or strings, not one string")
    out: list[Document] = []
    for item in documents:
        if isinstance(item, Document):
            text = clean_text(item.text)
            out.append(item if text is item.text else _with_text(item, text))
        elif isinstance(item, str):
            out.append(Document(clean_text(item)))
        else:
            raise UsageError(
                f"documents must be Document objects or strings, got {type(item).__name__}"
            )
    return out


def check_question(question: object) -> str:
    if not isinstance(question, str):
        raise UsageError(f"the question must be a string, got {type(question).__name__}")
    return clean_text(question)


def clean_text(text: str) -> str:
    """``text`` with characters UTF-8 cannot encode (lone surrogates from undecodable bytes)
    each replaced by ``?``: same length, so character offsets still hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _with_text(doc: Document, text: str) -> Document:
    from agentkit.retrievers.document import Document

    return Document(text, doc.id, dict(doc.metadata), doc.source, doc.chunk, doc.score)
