""":class:`ExtractiveReader`: answers a question with the best sentence(s) of the context
documents, no generative model involved.

As a chat model (the ``extractive`` model spec) it answers with the fine-tuned span reader
when one is registered (``agentkit finetune reader``; see :mod:`agentkit.readers`), else with
whole sentences, and says so once. Its :meth:`~ExtractiveReader.read` is the reader contract
(``(question, documents) -> Answer``), which ``RetrievalQA`` calls directly, so prompt
wording never changes its answer.

Sentences are ranked by ``(1 - lexical_weight) * cosine(question, sentence) + lexical_weight
* lexical_overlap`` (see :mod:`agentkit.llms.extractive.scoring`). On SQuAD v1.1 dev (gold
paragraph given) the chosen sentence holds a gold answer for about 87% of the questions with
the bundled MiniLM (``benchmarks/extractive_squad.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.llms.base import BaseChatModel, ParamsLike
from agentkit.llms.extractive.prompt import parse_prompt
from agentkit.llms.extractive.scoring import combine, confidence, lexical_scores
from agentkit.llms.fake import apply_limits
from agentkit.llms.messages import ChatResult, Message, Usage
from agentkit.llms.params import GenerationParams
from agentkit.llms.sentences import split_sentences

if TYPE_CHECKING:
    from agentkit.readers.base import Answer, Reader
    from agentkit.retrievers.base import Embedder
    from agentkit.retrievers.document import Document

NO_ANSWER = "I don't know."


@dataclass
class ExtractiveAnswer:
    """The reader's answer: the chosen sentence(s), a confidence in [0, 1] and citations
    (``{"id", "source", "score", "sentence"}``, best first). ``sentence_index`` is the best
    sentence's position among all the context's sentences (-1 when there is no answer)."""

    text: str
    confidence: float
    citations: list[dict[str, Any]] = field(default_factory=list)
    sentence_index: int = -1
    document_index: int = -1

    @property
    def answered(self) -> bool:
        return self.sentence_index >= 0

    def metadata(self) -> dict[str, Any]:
        """What a chat reply carries in ``metadata``."""
        return {"extractive": True, "citations": self.citations, "confidence": self.confidence}


def _check_fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise UsageError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


class ExtractiveReader(BaseChatModel):
    """Answers from the documents it is given by picking their best sentence(s).

    Args:
        embedder: any :class:`Embedder`; ``None`` loads the bundled MiniLM (cached) on first
            use.
        lexical_weight: weight of the lexical overlap against the embedding cosine
            (0 = embeddings only, 1 = lexical only; 0.7 was best on SQuAD).
        max_sentences: how many of the best sentences the answer joins (best first).
        min_confidence: below it the answer is "I don't know." (no citations).
        reader: who reads for the chat side and :meth:`read`: ``"auto"`` (the registered
            fine-tuned span reader, else sentences), ``"sentence"``, a registered reader
            name or folder, or any :class:`~agentkit.readers.Reader`.

    As a chat model it parses the question and the documents out of the prompt (see
    :mod:`agentkit.llms.extractive.prompt`) and returns the answer with metadata
    ``{"extractive": True, "citations": [...], "confidence": ...}``.
    """

    # Not a fake, but like the fakes it runs with model requests switched off: it makes no
    # network request and runs no generative model, so it is safe (and deterministic) in
    # unit tests and offline; the switch exists to stop remote or generative model calls.
    is_fake: ClassVar[bool] = True

    def __init__(
        self,
        embedder: Embedder | None = None,
        lexical_weight: float = 0.7,
        max_sentences: int = 1,
        min_confidence: float = 0.0,
        params: ParamsLike = None,
        reader: str | Reader = "auto",
    ) -> None:
        super().__init__(params)
        if not isinstance(reader, str) and not callable(getattr(reader, "read", None)):
            raise UsageError(
                f"reader must be 'auto', 'sentence', a reader name or folder, or a Reader, "
                f"got {type(reader).__name__}"
            )
        self.reader = reader
        self._node: Reader | None = None
        from agentkit.retrievers.base import Embedder

        if embedder is not None and not isinstance(embedder, Embedder):
            raise UsageError(
                "embedder must be an Embedder (model_id, dimension, embed_batch), got "
                f"{type(embedder).__name__}; e.g. agentkit.retrievers.embeddings.HashingEmbedder()"
            )
        if isinstance(max_sentences, bool) or not isinstance(max_sentences, int):
            raise UsageError(f"max_sentences must be an integer >= 1, got {max_sentences!r}")
        if max_sentences < 1:
            raise UsageError(f"max_sentences must be an integer >= 1, got {max_sentences!r}")
        self.lexical_weight = _check_fraction("lexical_weight", lexical_weight)
        self.min_confidence = _check_fraction("min_confidence", min_confidence)
        self.max_sentences = max_sentences
        self._embedder = embedder
        self._lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        """The embedder (the bundled MiniLM behind the on-disk cache unless one was given)."""
        with self._lock:
            if self._embedder is None:
                from agentkit.retrievers.embeddings import default_embedder

                self._embedder = default_embedder()
            return self._embedder

    # --- the reader contract ----------------------------------------------------------

    @property
    def node(self) -> Reader:
        """The reader that answers: the span reader chosen by ``reader``, else sentences."""
        with self._lock:
            node = self._node
        if node is not None:
            return node
        from agentkit.readers.default import default_reader, span_reader
        from agentkit.readers.sentence import SentenceReader

        choice = self.reader
        if not isinstance(choice, str):
            node = choice
        elif choice == "sentence":
            node = SentenceReader(ranker=self)
        elif choice == "auto":
            node = default_reader(self._embedder)
            if isinstance(node, SentenceReader):
                node = SentenceReader(ranker=self)
        else:
            from agentkit.finetune.reader_registry import ReaderRegistry

            node = span_reader(ReaderRegistry().resolve(choice))
        with self._lock:
            self._node = node
        return node

    @property
    def spans(self) -> bool:
        """Whether answers are spans of a fine-tuned reader (not whole sentences)."""
        from agentkit.readers.sentence import SentenceReader

        return not isinstance(self.node, SentenceReader)

    def read(self, question: str, documents: Sequence[Document | str]) -> Answer:
        """``Reader.read``: the answer span (or sentence) with its passage, or an
        abstention."""
        return self.node.read(question, documents)

    # --- the direct API ---------------------------------------------------------------

    def answer(
        self, question: str, documents: Sequence[Document | str], no_answer: str = NO_ANSWER
    ) -> ExtractiveAnswer:
        """The best sentence(s) of ``documents`` for ``question``."""
        import numpy as np

        from agentkit.retrievers.document import Document

        if not isinstance(question, str):
            raise UsageError(f"the question must be a string, got {type(question).__name__}")
        docs = [d if isinstance(d, Document) else Document(_as_text(d)) for d in documents]
        sentences: list[str] = []
        owners: list[int] = []
        for i, doc in enumerate(docs):
            for sentence in split_sentences(doc.text):
                sentences.append(sentence)
                owners.append(i)
        if not sentences or not question.strip():
            return ExtractiveAnswer(no_answer, 0.0)
        vectors = np.asarray(self.embedder.embed_batch([question, *sentences]), np.float32)
        similarity = vectors[1:] @ vectors[0]
        scores = combine(similarity, lexical_scores(question, sentences), self.lexical_weight)
        order = np.argsort(-scores, kind="stable")
        best = int(order[0])
        second = float(scores[order[1]]) if len(order) > 1 else None
        conf = confidence(float(scores[best]), second, float(similarity[best]))
        if conf < self.min_confidence:
            return ExtractiveAnswer(no_answer, conf)
        chosen = [int(i) for i in order[: self.max_sentences]]
        citations = [
            {
                "id": docs[owners[i]].id,
                "source": _source_of(docs[owners[i]]),
                "score": round(float(scores[i]), 4),
                "sentence": sentences[i],
            }
            for i in chosen
        ]
        text = " ".join(sentences[i] for i in chosen)
        return ExtractiveAnswer(text, conf, citations, best, owners[best])

    # --- the chat-model side ----------------------------------------------------------

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        prompt = parse_prompt(messages)
        if self.spans:
            return self._span_reply(prompt, messages, params)
        found = self.answer(prompt.question, prompt.documents, prompt.no_answer)
        text = found.text
        if prompt.wants_score:
            text += f"\nScore: {round(100 * found.confidence)}"
        text, cut = apply_limits(text, self.resolve_params(params))
        usage = Usage(sum(len(m.content.split()) for m in messages), len(text.split()))
        return ChatResult(text, usage=usage, finish_reason=cut or "stop", metadata=found.metadata())

    def _span_reply(
        self, prompt: Any, messages: Sequence[Message], params: GenerationParams | None
    ) -> ChatResult:
        from agentkit.readers.base import NOT_FOUND

        answer = self.node.read(prompt.question, prompt.documents)
        text = answer.text or (prompt.no_answer if prompt.no_answer == "NONE" else NOT_FOUND)
        if prompt.wants_score:
            text += f"\nScore: {round(100 * answer.confidence)}"
        text, cut = apply_limits(text, self.resolve_params(params))
        usage = Usage(sum(len(m.content.split()) for m in messages), len(text.split()))
        return ChatResult(
            text, usage=usage, finish_reason=cut or "stop", metadata=answer.metadata()
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "extractive_reader"}
        if isinstance(self.reader, str) and self.reader != "auto":
            data["reader"] = self.reader
        if self._embedder is not None:
            data["embedder"] = spec.dump(self._embedder)
        data.update(lexical_weight=self.lexical_weight, max_sentences=self.max_sentences)
        if self.min_confidence:
            data["min_confidence"] = self.min_confidence
        if self.params.to_dict():
            data["params"] = self.params.to_dict()
        return data

    def __repr__(self) -> str:
        return (
            f"ExtractiveReader(lexical_weight={self.lexical_weight}, "
            f"max_sentences={self.max_sentences}, min_confidence={self.min_confidence})"
        )


def _as_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    raise UsageError(
        f"documents must be Document objects or strings, got {type(item).__name__} {item!r}"
    )


def _source_of(doc: Document) -> str:
    return str(doc.source or doc.metadata.get("source") or doc.id)


def _build(ctx: spec.SpecContext) -> ExtractiveReader:
    return ExtractiveReader(
        ctx.component("embedder", None),
        ctx.get("lexical_weight", (int, float), 0.7),
        ctx.get("max_sentences", int, 1),
        ctx.get("min_confidence", (int, float), 0.0),
        ctx.get("params", dict, None),
        ctx.get("reader", str, "auto"),
    )


spec.add_builder("extractive_reader", _build)
