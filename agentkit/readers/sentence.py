""":class:`SentenceReader`: the fallback reader, answering with the best whole sentence of
the passages (embedding cosine + lexical overlap; see
:class:`~agentkit.llms.extractive.ExtractiveReader`, whose ranking it wraps). It needs no
training; ``agentkit finetune reader`` trains the span reader that replaces it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentkit.readers.base import Answer, as_documents, check_question

if TYPE_CHECKING:
    from agentkit.llms.extractive import ExtractiveReader
    from agentkit.retrievers.base import Embedder
    from agentkit.retrievers.document import Document


class SentenceReader:
    """Answers with the best sentence; abstains below ``min_confidence`` (default: never).

    Args:
        embedder: any Embedder (default: the bundled MiniLM, loaded on first use).
        lexical_weight: weight of lexical overlap against embedding cosine.
        min_confidence: below it the reader abstains.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        lexical_weight: float = 0.7,
        min_confidence: float = 0.0,
        *,
        ranker: ExtractiveReader | None = None,
    ) -> None:
        from agentkit.llms.extractive import ExtractiveReader

        self.ranker = ranker or ExtractiveReader(
            embedder, lexical_weight, min_confidence=min_confidence, reader="sentence"
        )

    def read(self, question: str, documents: Sequence[Document | str]) -> Answer:
        question = check_question(question)
        docs = as_documents(documents)
        found = self.ranker.answer(question, docs)
        if not found.answered:
            return Answer("", found.confidence, passages=tuple(docs[:3]), reader="sentence")
        passage = docs[found.document_index]
        sentence = found.citations[0]["sentence"]
        start = passage.text.find(sentence)
        end = start + len(sentence) if start >= 0 else -1
        others = [d for d in docs if d is not passage][:2]
        return Answer(
            sentence,
            found.confidence,
            passage,
            start,
            end,
            passages=(passage, *others),
            reader="sentence",
        )

    def __repr__(self) -> str:
        return f"SentenceReader(lexical_weight={self.ranker.lexical_weight})"
