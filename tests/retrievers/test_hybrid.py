"""HybridRetriever: fusion maths, concurrency, dedupe, MMR, spec."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import agentkit.core.spec as spec
from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Retriever
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.hybrid import HybridRetriever, convex_scores, rrf_scores


class Fixed(Retriever):
    """Returns a fixed ranking (ids with scores), cut to k; records the k it was asked for."""

    def __init__(
        self, ranking: list[tuple[str, float]], k: int = 4, barrier: threading.Barrier | None = None
    ) -> None:
        super().__init__(k)
        self.ranking, self.barrier = ranking, barrier
        self.asked: list[int] = []

    def retrieve(self, query: str, k: int) -> list[Document]:
        self.asked.append(k)
        if self.barrier is not None:
            self.barrier.wait(timeout=10)  # both members must be running at once
        return [
            Document(f"text of {i}", id=i, metadata={"from": i}).with_score(s)
            for i, s in self.ranking[:k]
        ]


def test_rrf_scores_match_the_formula() -> None:
    fused = rrf_scores([["a", "b", "c"], ["c", "a"]], [1.0, 2.0], rrf_k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 2 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 2 / 61)


def test_rrf_ignores_repeats_within_one_ranking() -> None:
    assert rrf_scores([["a", "a", "b"]], [1.0], rrf_k=0) == {"a": 1.0, "b": 0.5}


def test_convex_scores_min_max_normalise_each_list() -> None:
    fused = convex_scores(
        [[("a", 10.0), ("b", 6.0), ("c", 2.0)], [("c", 0.9), ("a", 0.5)]], [0.3, 0.7]
    )
    assert fused["a"] == pytest.approx(0.3 * 1.0 + 0.7 * 0.0)
    assert fused["b"] == pytest.approx(0.3 * 0.5)
    assert fused["c"] == pytest.approx(0.3 * 0.0 + 0.7 * 1.0)
    assert convex_scores([[("x", 3.0), ("y", 3.0)]], [1.0]) == {"x": 1.0, "y": 1.0}


def test_hybrid_fuses_by_rrf_and_sets_the_fused_score() -> None:
    bm25 = Fixed([("a", 9.0), ("b", 5.0), ("c", 1.0)])
    dense = Fixed([("c", 0.9), ("d", 0.8), ("a", 0.1)])
    hybrid = HybridRetriever([bm25, dense], k=3, fetch_k=3, fusion="rrf", rrf_k=60)
    docs = hybrid.invoke("q")
    expected = {"a": 1 / 61 + 1 / 63, "c": 1 / 63 + 1 / 61, "b": 1 / 62, "d": 1 / 62}
    assert [d.id for d in docs] == ["a", "c", "b"]  # ties keep first-seen order
    assert [d.score for d in docs] == pytest.approx([expected[d.id] for d in docs])
    assert docs[0].metadata == {"from": "a"}
    assert bm25.asked == [3] and dense.asked == [3]


def test_weights_change_the_order() -> None:
    bm25 = Fixed([("a", 2.0), ("b", 1.0)])
    dense = Fixed([("b", 2.0), ("a", 1.0)])
    assert HybridRetriever([bm25, dense], weights=[1, 3], k=2).invoke("q")[0].id == "b"
    assert HybridRetriever([bm25, dense], weights=[3, 1], k=2).invoke("q")[0].id == "a"


def test_convex_fusion_in_the_retriever() -> None:
    bm25 = Fixed([("a", 10.0), ("b", 6.0), ("c", 2.0)])
    dense = Fixed([("c", 0.9), ("a", 0.5)])
    docs = HybridRetriever([bm25, dense], weights=[0.3, 0.7], fusion="convex", k=3).invoke("q")
    assert [d.id for d in docs] == ["c", "a", "b"]
    assert [d.score for d in docs] == pytest.approx([0.7, 0.3, 0.15])


def test_dedupes_by_document_id() -> None:
    docs = HybridRetriever([Fixed([("a", 1.0), ("b", 0.5)]), Fixed([("a", 1.0)])], k=5).invoke("q")
    assert [d.id for d in docs] == ["a", "b"]


def test_members_run_concurrently_sync_and_async() -> None:
    barrier = threading.Barrier(2)
    hybrid = HybridRetriever(
        [Fixed([("a", 1.0)], barrier=barrier), Fixed([("b", 1.0)], barrier=barrier)], k=2
    )
    assert {d.id for d in hybrid.invoke("q")} == {"a", "b"}
    assert {d.id for d in asyncio.run(hybrid.ainvoke("q"))} == {"a", "b"}


def test_with_real_bm25_members_and_k() -> None:
    corpus = [
        Document("red apples and green pears", id="fruit"),
        Document("green tea leaves", id="tea"),
        Document("apples grow on trees", id="trees"),
    ]
    hybrid = HybridRetriever(
        [BM25Retriever(corpus, stemmer=None), BM25Retriever(corpus, stemmer=None, k1=0.5)], k=2
    )
    assert [d.id for d in hybrid.invoke("apples")] == ["trees", "fruit"]  # shorter doc first
    assert [d.id for d in hybrid.retrieve("green tea", 1)] == ["tea"]


def test_mmr_prefers_a_different_document_over_a_near_duplicate() -> None:
    ranking = [("dup1", 3.0), ("dup2", 2.0), ("other", 1.0)]
    texts = {
        "dup1": "solar panel efficiency on roofs",
        "dup2": "solar panel efficiency on roofs!",
        "other": "wind turbine maintenance offshore",
    }

    class Texts(Fixed):
        def retrieve(self, query: str, k: int) -> list[Document]:
            return [Document(texts[i], id=i).with_score(s) for i, s in self.ranking[:k]]

    plain = HybridRetriever([Texts(ranking)], k=2)
    diverse = HybridRetriever([Texts(ranking)], k=2, embedder=HashingEmbedder(64), mmr_lambda=0.3)
    assert [d.id for d in plain.invoke("solar panel")] == ["dup1", "dup2"]
    assert [d.id for d in diverse.invoke("solar panel")] == ["dup1", "other"]
    assert [d.id for d in asyncio.run(diverse.ainvoke("solar panel"))] == ["dup1", "other"]


def test_invalid_settings_are_reported() -> None:
    one = Fixed([("a", 1.0)])
    with pytest.raises(UsageError, match="at least one retriever"):
        HybridRetriever([])
    with pytest.raises(UsageError, match="one per retriever"):
        HybridRetriever([one, one], weights=[1.0])
    with pytest.raises(UsageError, match="unknown fusion"):
        HybridRetriever([one], fusion="max")
    with pytest.raises(UsageError, match="mmr_lambda"):
        HybridRetriever([one], mmr_lambda=2)


def test_convex_fusion_needs_scores() -> None:
    class Unscored(Fixed):
        def retrieve(self, query: str, k: int) -> list[Document]:
            return [Document("x", id="x")]

    with pytest.raises(UsageError, match="score=None"):
        HybridRetriever([Unscored([])], fusion="convex").invoke("q")


def test_spec_round_trip_serialises_members(tmp_path: Path) -> None:
    corpus = [Document("alpha beta", id="1"), Document("beta gamma", id="2")]
    a, b = BM25Retriever(corpus, stemmer=None), BM25Retriever(corpus, stemmer=None, k1=0.5)
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    hybrid = HybridRetriever(
        [a, b],
        weights=[0.6, 0.4],
        k=2,
        fetch_k=7,
        fusion="convex",
        embedder=HashingEmbedder(32),
        mmr_lambda=0.8,
    )
    data = hybrid.to_dict()
    assert data["type"] == "hybrid_retriever"
    assert [m["path"] for m in data["retrievers"]] == [str(tmp_path / "a"), str(tmp_path / "b")]
    rebuilt = spec.load(data)
    assert rebuilt.to_dict() == data
    assert [d.id for d in rebuilt.invoke("beta")] == [d.id for d in hybrid.invoke("beta")]


def test_bm25_plus_dense_defaults() -> None:
    pytest.importorskip("faiss")
    from agentkit.retrievers.vector import VectorRetriever
    from agentkit.retrievers.vectorstores import FaissStore

    corpus = [
        Document("solar panels convert sunlight to electricity", id="solar"),
        Document("wind turbines generate power offshore", id="wind"),
        Document("bananas and apples are fruit", id="fruit"),
    ]
    emb = HashingEmbedder(64)
    dense = VectorRetriever(emb, FaissStore(64))
    dense.add_documents(corpus)
    bm25 = BM25Retriever(corpus, stemmer=None)
    hybrid = HybridRetriever([bm25, dense], k=2)
    assert (hybrid.fusion, hybrid.fetch_k, hybrid.weights) == ("convex", 100, [1.0, 1.0])
    docs = hybrid.invoke("sunlight electricity")
    assert docs[0].id == "solar"
    assert docs[0].score == pytest.approx(2.0)  # the top of both lists: 1.0 + 1.0
