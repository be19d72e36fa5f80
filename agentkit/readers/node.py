""":class:`ReadNode`: a reader as a chain node, ``{"question", "documents"} -> Answer``;
what ``RetrievalQA(chain_type="reader")`` runs between the retriever and the output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.readers.base import Answer, Reader


def reader_of(model: Any) -> Reader:
    """The :class:`Reader` behind ``model``: itself when it has ``read`` (a reader, or the
    offline ``extractive`` model)."""
    if isinstance(model, Reader):
        return model
    raise UsageError(
        f"chain_type='reader' needs a reader, got {type(model).__name__}; pass the offline "
        "model (agentkit.llms.load('extractive')) or agentkit.readers.default_reader()"
    )


class ReadNode(Runnable[Mapping[str, Any], Answer]):
    """Reads ``documents`` for ``question`` with a :class:`Reader`."""

    kind = "reader"

    def __init__(self, reader: Any) -> None:
        self.reader = reader_of(reader)  # any model with ``read``; clear error otherwise

    @property
    def name(self) -> str:
        return type(self.reader).__name__

    def invoke(self, input: Mapping[str, Any], config: ConfigLike = None) -> Answer:
        if not isinstance(input, Mapping) or "question" not in input:
            raise UsageError("a reader node takes {'question': str, 'documents': [...]}")
        return self.reader.read(input["question"], list(input.get("documents") or ()))
