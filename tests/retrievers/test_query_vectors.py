"""Queries take their own, cheaper path (issue 20): on the CPU the default embedder encodes a
search query with the ONNX int8 export while documents stay bf16/fp32; the cache keeps those
query vectors in memory only, and a search goes through ``embed_search_query``."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers import Document
from agentkit.retrievers.base import query_vector
from agentkit.retrievers.embeddings import (
    CachedEmbedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
)
from agentkit.retrievers.vector import VectorRetriever
from agentkit.retrievers.vectorstores import FaissStore


class QueryPath(HashingEmbedder):
    """Documents as the hashing embedder; queries negated, with their own id, counted."""

    def __init__(self) -> None:
        super().__init__(16)
        self.batches: list[list[str]] = []
        self.queries: list[str] = []

    @property
    def query_model_id(self) -> str:
        return self.model_id + "#q"

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return super().embed_batch(texts)

    def embed_search_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return -super().embed_batch([text])[0]


def rows(cache: CachedEmbedder) -> int:
    cache.flush()
    with sqlite3.connect(cache.path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])


def test_a_search_encodes_its_query_through_the_query_path() -> None:
    inner = QueryPath()
    docs = [Document("cats purr", id="a"), Document("dogs bark", id="b")]
    retriever = VectorRetriever(inner, FaissStore(16, metric="ip", index="flat"), k=2)
    retriever.add_documents(docs)
    retriever.invoke("cats purr")
    assert inner.queries == ["cats purr"]
    assert all("cats purr" not in b or len(b) == 2 for b in inner.batches)  # only the add


def test_the_cache_keeps_own_path_queries_in_memory_only(tmp_path: Path) -> None:
    inner = QueryPath()
    cache = CachedEmbedder(inner, tmp_path)
    cache.embed_batch(["a document"])
    before = rows(cache)
    first = cache.embed_search_query("what purrs?")
    again = cache.embed_search_query("what purrs?")
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, -HashingEmbedder(16).embed_batch(["what purrs?"])[0])
    again[0] = 42.0  # callers get a copy
    assert cache.embed_search_query("what purrs?")[0] == first[0]
    assert inner.queries == ["what purrs?"]  # one model call for three searches
    assert rows(cache) == before  # query vectors never reach the document cache file
    assert cache.hits == 2 and cache.misses == 2


def test_without_a_query_path_a_query_is_the_cached_document_vector(tmp_path: Path) -> None:
    cache = CachedEmbedder(HashingEmbedder(16), tmp_path)
    np.testing.assert_array_equal(cache.embed_search_query("x y"), cache.embed_batch(["x y"])[0])
    assert query_vector(HashingEmbedder(16), "x y").shape == (16,)


def test_query_backend_is_checked_and_kept_in_specs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="query_backend must be one of auto, same"):
        SentenceTransformerEmbedder(device="cpu", query_backend="int4")
    with pytest.raises(SpecError):
        spec.load({"type": "sentence_transformer_embedder", "query_backend": "<script>"})
    same = SentenceTransformerEmbedder(device="cpu", backend="onnx", query_backend="same")
    assert same.query_model_id == same.model_id
    assert spec.load(same.to_dict()).query_backend == "same"
    auto = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=tmp_path)
    assert auto.query_model_id == auto.model_id + "#q-int8"
    assert "query_backend" not in auto.to_dict()
    torch_ = SentenceTransformerEmbedder(device="cpu", backend="torch")
    assert torch_.query_model_id == torch_.model_id  # torch: queries as documents


@pytest.mark.integration
@pytest.mark.slow
def test_int8_query_vectors_are_close_to_the_document_vectors(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    auto = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=tmp_path)
    same = SentenceTransformerEmbedder(
        device="cpu", backend="onnx", cache_dir=tmp_path, query_backend="same"
    )
    texts = ["How big is the Amazon rainforest?", "Who wrote the 95 theses?"]
    docs = auto.embed_batch(texts)
    for text, doc in zip(texts, docs, strict=True):
        q8 = auto.embed_search_query(text)
        assert q8.dtype == np.float32 and q8.shape == (384,)
        assert float(q8 @ doc) > 0.98 and not np.allclose(q8, doc, atol=1e-4)
        np.testing.assert_allclose(same.embed_search_query(text), doc, atol=1e-5)
