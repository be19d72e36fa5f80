"""The records the harness passes around: an :class:`Example` (one dataset row), a
:class:`Prediction` (what a chain answered, with its trace and timings) and :class:`Scores`
(a metric's numbers, with optional notes such as a judge's rationale)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One evaluation question.

    Attributes:
        id: unique within its dataset.
        question: the input text.
        answers: gold answers; empty means the question has no answer (SQuAD v2.0).
        contexts: gold contexts (passages), if the dataset has them.
        relevant_ids: ids of the documents that answer the question (retrieval metrics).
        category: a label for per-category breakdowns.
        metadata: any other fields of the row.
        line: where the row came from (a line number, or a JSON path for SQuAD files).
    """

    id: str
    question: str
    answers: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    relevant_ids: tuple[str, ...] = ()
    category: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    line: int | str | None = field(default=None, compare=False)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "question": self.question}
        data["answers"] = list(self.answers)
        if self.contexts:
            data["contexts"] = list(self.contexts)
        if self.relevant_ids:
            data["relevant_ids"] = list(self.relevant_ids)
        if self.category is not None:
            data["category"] = self.category
        if self.metadata:
            data["metadata"] = dict(self.metadata)
        return data


@dataclass
class Prediction:
    """A chain's answer to one example, as the metrics see it.

    Attributes:
        text: the answer text ("" means no answer).
        retrieved_ids: ids of the documents the chain retrieved, best first.
        contexts: texts of those documents (judges check the answer against them).
        latency: seconds the chain took; ``ttft`` seconds to its first streamed chunk.
        spans: the example's trace, as span dicts (see :class:`agentkit.core.tracing.Span`).
        error: ``"Type: message"`` when the chain failed (the text is then empty).
    """

    text: str = ""
    retrieved_ids: list[str] = field(default_factory=list)
    contexts: list[str] = field(default_factory=list)
    latency: float | None = None
    ttft: float | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self, with_spans: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "retrieved_ids": list(self.retrieved_ids),
            "contexts": list(self.contexts),
            "latency": self.latency,
            "ttft": self.ttft,
            "error": self.error,
        }
        if with_spans:
            data["spans"] = list(self.spans)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Prediction:
        return cls(
            text=str(data.get("text") or ""),
            retrieved_ids=[str(i) for i in data.get("retrieved_ids") or []],
            contexts=[str(c) for c in data.get("contexts") or []],
            latency=data.get("latency"),
            ttft=data.get("ttft"),
            spans=list(data.get("spans") or []),
            error=data.get("error"),
        )


class Scores(dict[str, float]):
    """A metric's scores for one example; ``notes`` keeps text that explains them
    (a judge's rationale), stored next to the numbers in the results."""

    def __init__(
        self, values: Mapping[str, float] | None = None, notes: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(values or {})
        self.notes: dict[str, str] = dict(notes or {})
