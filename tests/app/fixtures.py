"""Chains the app tests (and the browser test) start the app with: fake models, no I/O."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.llms import FakeListModel
from agentkit.retrievers import Document, Retriever
from agentkit.retrievers.index import Index

ANSWER = "The Amazon rainforest covers 5,500,000 square kilometres of the basin."
DOCS = [
    Document(
        "The Amazon rainforest covers 5,500,000 square kilometres (2,100,000 sq mi).",
        id="amazon#1",
        source="amazon_rainforest.md",
        metadata={"title": "Amazon rainforest"},
    ),
    Document(
        "The Black Death reached Crimea by 1343.",
        id="plague#1",
        source="black_death.md",
        metadata={"title": "Black Death"},
    ),
]
REACT_REPLIES = [
    "Thought: I should compute it.\nAction: calculator\nAction Input: 25 / 100 * 300",
    "Thought: I now know the final answer\nFinal Answer: 25% of 300 is 75.",
]


class StaticRetriever(Retriever):
    """Returns the same scored documents for every query."""

    def __init__(self, docs: list[Document], k: int = 4) -> None:
        super().__init__(k)
        self.docs = docs

    def retrieve(self, query: str, k: int) -> list[Document]:
        return [d.with_score(1.0 - i / 10) for i, d in enumerate(self.docs[:k])]


def docs_index(folder: Path, docs: list[Document] | None = None) -> Index:
    """A small real index of ``docs`` (default DOCS) in ``folder``: hashing embedder."""
    from agentkit.retrievers.embeddings import HashingEmbedder

    return Index.from_documents(DOCS if docs is None else docs, folder, HashingEmbedder())


def fake_model(replies: list[str] | None = None) -> FakeListModel:
    return FakeListModel(replies or [ANSWER])


def fake_rag_chain() -> Any:
    """RetrievalQA: a fake model streaming ANSWER over two fixed documents."""
    return RetrievalQA(fake_model(), StaticRetriever(DOCS), return_source_documents=True)


def fake_text_chain() -> Any:
    """A prompt piped into a fake model: its stream yields the answer token by token."""
    from agentkit.prompts import PromptTemplate

    return PromptTemplate.from_template("Answer briefly: {question}") | fake_model()


def fake_agent_chain() -> Any:
    """A ReAct agent whose fake model calls the calculator once, then answers."""
    from agentkit.agents import ReActAgent
    from agentkit.tools import calculator

    return ReActAgent(fake_model(REACT_REPLIES), [calculator])
