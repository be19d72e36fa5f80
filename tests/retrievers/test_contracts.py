"""The shared bases of the retrieval layer: BaseEmbedder (LangChain's spellings built once on
embed_batch) and FlowRetriever (query checks, ``retrieve`` and both drivers from one flow)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import FlowGen
from agentkit.retrievers import BaseEmbedder, Embedder
from agentkit.retrievers.base import FlowRetriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import CachedEmbedder, HashingEmbedder


class Ones(BaseEmbedder):
    """Implements only embed_batch: row i is (i + 1) * [1, 0, 0]."""

    model_id = "ones"
    dimension = 3

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 3), dtype=np.float32)
        out[:, 0] = np.arange(1, len(texts) + 1)
        return out


def test_base_embedder_builds_langchain_spellings_on_embed_batch() -> None:
    emb = Ones()
    assert isinstance(emb, Embedder)
    assert emb.embed_query("a") == [1.0, 0.0, 0.0]
    docs = emb.embed_documents(["a", "b"])
    assert docs == [[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]
    assert all(type(x) is float for row in docs for x in row)
    assert emb.calls == [["a"], ["a", "b"]]  # one embed_batch call each


def test_base_embedder_needs_embed_batch() -> None:
    class Nothing(BaseEmbedder):
        model_id = "nothing"
        dimension = 3

    with pytest.raises(TypeError, match="embed_batch"):
        Nothing()  # type: ignore[abstract]


@pytest.mark.parametrize("make", [lambda: HashingEmbedder(8), lambda: Ones()])
def test_every_embedder_shares_the_spellings(make: object, tmp_path: object) -> None:
    inner = make()  # type: ignore[operator]
    cached = CachedEmbedder(inner, tmp_path)  # type: ignore[arg-type]
    assert cached.embed_query("hello") == pytest.approx(inner.embed_query("hello"))
    assert isinstance(inner, BaseEmbedder) and isinstance(cached, BaseEmbedder)
    cached.close()


def test_base_embedder_refuses_a_bare_string() -> None:
    with pytest.raises(UsageError, match="list of texts"):
        HashingEmbedder(8).embed_documents("not a list")


class Echo(FlowRetriever):
    """Returns k documents naming the query; records the k of each search."""

    def __init__(self, k: int = 2) -> None:
        super().__init__(k)
        self.asked: list[int] = []

    def _search(self, query: str, k: int, config: RunConfig) -> FlowGen:
        self.asked.append(k)
        return [Document(f"{query} {i}", id=str(i)) for i in range(k)]
        yield  # a flow with no operations


def test_flow_retriever_runs_one_flow_under_every_driver() -> None:
    retriever = Echo(k=2)
    assert [d.text for d in retriever.invoke("q")] == ["q 0", "q 1"]
    by_dict = retriever.invoke({"question": "dict"})  # type: ignore[arg-type]
    assert [d.text for d in by_dict] == ["dict 0", "dict 1"]
    assert len(asyncio.run(retriever.ainvoke("q"))) == 2
    assert [d.text for d in retriever.retrieve("r", 3)] == ["r 0", "r 1", "r 2"]
    assert retriever.asked == [2, 2, 2, 3]


@pytest.mark.parametrize("bad", [42, None, ["q"], {"text": "q"}, {"query": 7}])
def test_flow_retriever_refuses_inputs_that_are_not_queries(bad: object) -> None:
    with pytest.raises(UsageError, match="query"):
        Echo().invoke(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -1, True, 1.5])
def test_flow_retriever_checks_k(k: object) -> None:
    with pytest.raises(UsageError, match="k must be a positive integer"):
        Echo().retrieve("q", k)  # type: ignore[arg-type]
