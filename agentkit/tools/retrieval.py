""":func:`retriever_tool`: any retriever as a tool that returns cited snippets.

The output lists the documents best first, as ``[1] source (score 0.83): text...``, so a
model can cite its sources by number.
"""

from __future__ import annotations

from typing import Any

from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.core.spec import SpecContext, add_builder, dump
from agentkit.retrievers.document import as_document
from agentkit.tools.function import FunctionTool

DEFAULT_DESCRIPTION = (
    "Search the document collection; returns the most relevant passages, numbered, with "
    "their sources. Input: a search query."
)


def source_label(document: Any) -> str:
    """Where a document came from: its source (and chunk), a metadata source, or its id."""
    source = document.source or document.metadata.get("source") or document.id
    page = document.metadata.get("page")
    return f"{source} p.{page}" if page is not None else str(source)


def cite(documents: list[Any], snippet_chars: int) -> str:
    """Numbered snippets: ``[n] source (score s): text``."""
    lines = []
    for i, doc in enumerate(documents, 1):
        text = " ".join(doc.text.split())
        if len(text) > snippet_chars:
            text = text[:snippet_chars].rstrip() + "..."
        score = f" (score {doc.score:.3f})" if doc.score is not None else ""
        lines.append(f"[{i}] {source_label(doc)}{score}: {text}")
    return "\n".join(lines)


class RetrieverTool(FunctionTool):
    """A retriever (a Runnable from a query to documents) as a tool."""

    idempotent = True  # read-only: safe to run again after a crash

    def __init__(
        self,
        retriever: Runnable[Any, Any],
        name: str = "search_documents",
        description: str = DEFAULT_DESCRIPTION,
        k: int | None = None,
        snippet_chars: int = 500,
        max_output_chars: int | None = 4000,
    ) -> None:
        if not isinstance(retriever, Runnable):
            raise UsageError(
                f"retriever_tool needs a retriever (a Runnable from a query to documents), "
                f"got {type(retriever).__name__}"
            )
        if snippet_chars < 20:
            raise UsageError(f"snippet_chars must be at least 20, got {snippet_chars}")
        self.retriever, self.k, self.snippet_chars = retriever, k, snippet_chars
        self._search = retriever.bind(k=k) if k is not None else retriever
        super().__init__(self.search, name, description, None, max_output_chars)

    def search(self, query: str, config: RunConfig) -> str:
        """Search the documents.

        Args:
            query: what to search for.
        """
        documents = [as_document(d) for d in self._search.invoke(query, config)]
        if not documents:
            return f"No documents found for {query!r}. Try other words."
        return cite(documents, self.snippet_chars)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "retriever_tool", "retriever": dump(self.retriever)}
        if self.name != "search_documents":
            data["name"] = self.name
        if self.description != DEFAULT_DESCRIPTION:
            data["description"] = self.description
        if self.k is not None:
            data["k"] = self.k
        if self.snippet_chars != 500:
            data["snippet_chars"] = self.snippet_chars
        if self.max_output_chars != 4000:
            data["max_output_chars"] = self.max_output_chars
        return data


def retriever_tool(
    retriever: Runnable[Any, Any],
    name: str = "search_documents",
    description: str = DEFAULT_DESCRIPTION,
    k: int | None = None,
    snippet_chars: int = 500,
) -> RetrieverTool:
    """Turn ``retriever`` into a tool returning cited snippets (``k`` overrides its k)."""
    return RetrieverTool(retriever, name, description, k, snippet_chars)


def _build(ctx: SpecContext) -> RetrieverTool:
    return RetrieverTool(
        ctx.runnable("retriever"),
        ctx.get("name", str, "search_documents"),
        ctx.get("description", str, DEFAULT_DESCRIPTION),
        ctx.get("k", int, None),
        ctx.get("snippet_chars", int, 500),
        ctx.get("max_output_chars", (int, type(None)), 4000),
    )


add_builder("retriever_tool", _build)
