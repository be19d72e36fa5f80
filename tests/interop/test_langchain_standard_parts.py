"""LangChain's standard suites for retrievers, tools, embeddings and vector stores, run
against the ``to_langchain`` adapters of agentkit's own parts (model-free: the hashing
embedder, a BM25 retriever, the calculator tool, a TorchStore)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain_tests")

from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    ToolsIntegrationTests,
    VectorStoreIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests, ToolsUnitTests

from agentkit.interop.langchain import to_langchain
from agentkit.interop.langchain.retrieval_out import (
    AgentkitEmbeddings,
    AgentkitRetriever,
    AgentkitVectorStore,
)
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings.hashing import HashingEmbedder
from agentkit.tools import Tool

CORPUS = [
    Document(f"Note {i}: the river Seine flows through Paris and city {i}", f"d{i}")
    for i in range(8)
]


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first number.
        b: the second number.
    """
    return a + b


class TestAgentkitRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[AgentkitRetriever]:
        return AgentkitRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": BM25Retriever(CORPUS, k=4)}

    @property
    def retriever_query_example(self) -> str:
        return "Which river flows through Paris?"


class TestAgentkitToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> Any:
        return to_langchain(Tool.from_function(add))

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"a": 2, "b": 3}


class TestAgentkitToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> Any:
        return to_langchain(Tool.from_function(add))

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"a": 2, "b": 3}


class TestAgentkitEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[AgentkitEmbeddings]:
        return AgentkitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": HashingEmbedder(64)}


class TestAgentkitEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[AgentkitEmbeddings]:
        return AgentkitEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": HashingEmbedder(64)}


class TestAgentkitVectorStore(VectorStoreIntegrationTests):
    """Sync and async (the suite's ``has_sync`` and ``has_async`` are both left True)."""

    @pytest.fixture
    def vectorstore(self) -> VectorStore:
        from agentkit.retrievers.vectorstores import TorchStore

        embedding = self.get_embeddings()
        return AgentkitVectorStore(TorchStore(len(embedding.embed_query("x"))), embedding)
