"""retriever_tool: any retriever becomes a tool returning cited snippets."""

from __future__ import annotations

import asyncio

import pytest

from agentkit.core import RunConfig, UsageError, spec
from agentkit.core.tracing import InMemoryTracer
from agentkit.retrievers.base import Retriever
from agentkit.retrievers.document import Document
from agentkit.tools import RetrieverTool, retriever_tool, run_tool_safely

DOCS = [
    Document("Paris is the capital of France.", source="geo/france.md", chunk=0),
    Document("Berlin is the capital   of Germany.\nIt is large.", metadata={"source": "de.txt"}),
    Document("Rome was not built in a day. " * 40, id="rome-1", metadata={"page": 3}),
]


class KeywordRetriever(Retriever):
    """Scores documents by how many query words they contain."""

    def retrieve(self, query: str, k: int) -> list[Document]:
        words = query.lower().split()
        scored = [(sum(w in d.text.lower() for w in words) / len(words), d) for d in DOCS]
        hits = [d.with_score(s) for s, d in sorted(scored, key=lambda x: -x[0]) if s > 0]
        return hits[:k]

    def to_dict(self) -> dict[str, object]:
        return {"type": "test_keyword_retriever", "k": self.k}


spec.add_builder("test_keyword_retriever", lambda ctx: KeywordRetriever(ctx.get("k", int, 4)))


def test_results_are_numbered_cited_snippets() -> None:
    tool = retriever_tool(KeywordRetriever())
    assert tool.name == "search_documents"
    text = tool.invoke("capital France")
    assert text.splitlines() == [
        "[1] geo/france.md (score 1.000): Paris is the capital of France.",
        "[2] de.txt (score 0.500): Berlin is the capital of Germany. It is large.",
    ]


def test_long_texts_are_cut_and_ids_or_pages_name_the_source() -> None:
    tool = retriever_tool(KeywordRetriever(), snippet_chars=40, k=1)
    text = tool.invoke({"query": "rome day"})
    assert text == "[1] rome-1 p.3 (score 1.000): Rome was not built in a day. Rome was no..."


def test_no_documents_says_so_and_async_works() -> None:
    tool = retriever_tool(KeywordRetriever(), name="kb", description="Search the knowledge base.")
    assert asyncio.run(tool.ainvoke("zebra")) == "No documents found for 'zebra'. Try other words."
    assert tool.to_schema()["function"]["name"] == "kb"
    assert tool.args_schema["required"] == ["query"]
    assert "config" not in tool.args_schema["properties"]


def test_the_retriever_runs_under_the_tools_span() -> None:
    tracer = InMemoryTracer()
    run_tool_safely(retriever_tool(KeywordRetriever()), "Paris", RunConfig(tracers=[tracer]))
    assert tracer.names() == ["search_documents", "KeywordRetriever"]


def test_spec_round_trip_and_errors() -> None:
    tool = retriever_tool(KeywordRetriever(k=2), name="kb", k=1, snippet_chars=100)
    data = tool.to_dict()
    assert data == {
        "type": "retriever_tool",
        "retriever": {"type": "test_keyword_retriever", "k": 2},
        "name": "kb",
        "k": 1,
        "snippet_chars": 100,
    }
    loaded = spec.load(data)
    assert isinstance(loaded, RetrieverTool) and loaded.to_dict() == data
    assert loaded.invoke("Paris").startswith("[1] geo/france.md")
    with pytest.raises(UsageError, match="retriever"):
        retriever_tool("not a retriever")  # type: ignore[arg-type]


def test_retrievers_returning_strings_dicts_or_foreign_documents_are_cited() -> None:
    from agentkit.core import Lambda

    class ForeignDoc:  # shaped like a LangChain Document
        def __init__(self, page_content: str, metadata: dict[str, object]) -> None:
            self.page_content, self.metadata, self.id = page_content, metadata, None

    mixed = Lambda(
        lambda q: [
            "plain text hit",
            {"page_content": "dict hit", "metadata": {"source": "d.md"}, "score": 0.5},
            ForeignDoc("foreign hit", {"source": "f.md", "page": 2}),
        ]
    )
    out = retriever_tool(mixed).invoke("anything")
    lines = out.splitlines()
    assert lines[0].endswith(": plain text hit")
    assert lines[1] == "[2] d.md (score 0.500): dict hit"
    assert lines[2] == "[3] f.md p.2: foreign hit"
    bad = run_tool_safely(retriever_tool(Lambda(lambda q: [42])), "x")
    assert bad.error is not None and "cannot read a document from int" in bad.observation
