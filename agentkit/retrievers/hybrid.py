"""Hybrid retrieval: several retrievers run concurrently, their rankings fused.

Fusions:
- ``"rrf"`` — weighted reciprocal-rank fusion: ``score(d) = sum_i w_i / (rrf_k + rank_i(d))``
  with 1-based ranks; a document missing from a list gets nothing from it.
- ``"convex"`` — a weighted sum of each list's scores min-max normalised to [0, 1]
  (a document missing from a list gets 0 from it).

Optionally the fused candidates are re-ranked for diversity with MMR over an embedder.

The defaults (convex fusion, equal weights, ``fetch_k=100``) were chosen on the BEIR SciFact
*train* qrels for BM25 + all-MiniLM-L6-v2 (see ``benchmarks/retrieval_quality.py --tune``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentkit.core import spec
from agentkit.core.compose import Lambda
from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, FlowGen, Gather
from agentkit.core.graph import Graph
from agentkit.core.runnable import Runnable
from agentkit.retrievers.base import Embedder, FlowRetriever, Retriever, check_k
from agentkit.retrievers.document import Document

FUSIONS = ("rrf", "convex")


def rrf_scores(
    rankings: Sequence[Sequence[str]], weights: Sequence[float], rrf_k: float = 60
) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ranked id lists (best first; repeats ignored)."""
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc_id in enumerate(dict.fromkeys(ranking), start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (rrf_k + rank)
    return fused


def convex_scores(
    scored: Sequence[Sequence[tuple[str, float]]], weights: Sequence[float]
) -> dict[str, float]:
    """Weighted sum of min-max normalised scores (a list with one distinct score gives 1.0)."""
    fused: dict[str, float] = {}
    for items, weight in zip(scored, weights, strict=True):
        best: dict[str, float] = {}
        for doc_id, score in items:
            best.setdefault(doc_id, score)
        if not best:
            continue
        low, high = min(best.values()), max(best.values())
        span = high - low
        for doc_id, score in best.items():
            norm = (score - low) / span if span > 0 else 1.0
            fused[doc_id] = fused.get(doc_id, 0.0) + weight * norm
    return fused


class HybridRetriever(FlowRetriever):
    """Fuses the results of several retrievers (e.g. BM25 and dense).

    Args:
        retrievers: the member retrievers (any Runnable from a query to documents).
        weights: one weight per member (default: equal).
        k: how many fused documents to return.
        fetch_k: how many documents to ask each member for.
        fusion: ``"convex"`` (needs members that score their documents) or ``"rrf"``.
        rrf_k: the RRF rank constant.
        embedder: when given, the fused top ``fetch_k`` are re-ranked with MMR.
        mmr_lambda: MMR trade-off (1 = relevance only, 0 = diversity only).
    """

    kind = "retriever"

    def __init__(
        self,
        retrievers: Sequence[Runnable[str, list[Document]]],
        weights: Sequence[float] | None = None,
        k: int = 4,
        fetch_k: int = 100,
        fusion: str = "convex",
        rrf_k: float = 60,
        embedder: Embedder | None = None,
        mmr_lambda: float = 0.5,
    ) -> None:
        Retriever.__init__(self, k)
        members = list(retrievers)
        if not members:
            raise UsageError("HybridRetriever needs at least one retriever")
        for m in members:
            if not isinstance(m, Runnable):
                raise UsageError(
                    f"HybridRetriever members must be retrievers, got {type(m).__name__}"
                )
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members) or any(w < 0 for w in weights) or not any(weights):
            raise UsageError(
                f"weights must be {len(members)} non-negative numbers (one per retriever, not "
                f"all zero), got {weights}"
            )
        if fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {fusion!r}; use one of {', '.join(FUSIONS)}")
        check_k(fetch_k)
        if rrf_k < 0:
            raise UsageError(f"rrf_k must be >= 0, got {rrf_k}")
        if not 0.0 <= mmr_lambda <= 1.0:
            raise UsageError(f"mmr_lambda must be between 0 and 1, got {mmr_lambda}")
        self.retrievers, self.weights, self.fetch_k = members, weights, fetch_k
        self.fusion, self.rrf_k = fusion, float(rrf_k)
        self.embedder, self.mmr_lambda = embedder, float(mmr_lambda)
        self._members = [m.bind(k=fetch_k) if isinstance(m, Retriever) else m for m in members]

    def graph(self) -> Graph:
        """This retriever fanning out to its members, joined where their results fuse."""
        return Graph.fan_out(self, [m.graph() for m in self.retrievers])

    def _search(self, query: str, k: int, config: RunConfig) -> FlowGen:
        results = yield Gather([Call(m, query, config) for m in self._members])
        fused = self.fuse(results)
        if self.embedder is None or len(fused) <= 1:
            return fused[:k]
        candidates = fused[: max(self.fetch_k, k)]
        picked = yield Call(Lambda(self._mmr, blocking=True), (query, candidates, k), config)
        return picked

    def fuse(self, results: Sequence[Sequence[Document]]) -> list[Document]:
        """Fuse member results (one list per member, best first); dedupes by document id."""
        first: dict[str, Document] = {}
        for docs in results:
            for doc in docs:
                first.setdefault(doc.id, doc)
        if self.fusion == "rrf":
            fused = rrf_scores([[d.id for d in docs] for docs in results], self.weights, self.rrf_k)
        else:
            scored = [[(d.id, _score(d)) for d in docs] for docs in results]
            fused = convex_scores(scored, self.weights)
        order = sorted(fused, key=lambda i: fused[i], reverse=True)  # stable: first seen wins ties
        return [first[i].with_score(fused[i]) for i in order]

    def _mmr(self, args: tuple[str, list[Document], int]) -> list[Document]:
        from agentkit.retrievers.mmr import mmr_select

        query, candidates, k = args
        assert self.embedder is not None
        vectors = self.embedder.embed_batch([query] + [d.text for d in candidates])
        chosen = mmr_select(vectors[0], vectors[1:], min(k, len(candidates)), self.mmr_lambda)
        return [candidates[int(i)] for i in chosen]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "hybrid_retriever",
            "retrievers": [spec.dump(r) for r in self.retrievers],
            "weights": list(self.weights),
            "k": self.k,
            "fetch_k": self.fetch_k,
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
        }
        if self.embedder is not None:
            data.update(embedder=spec.dump(self.embedder), mmr_lambda=self.mmr_lambda)
        return data

    def __repr__(self) -> str:
        names = ", ".join(r.name for r in self.retrievers)
        return f"HybridRetriever([{names}], fusion={self.fusion!r}, k={self.k})"


def _score(doc: Document) -> float:
    if doc.score is None:
        raise UsageError(
            f"convex fusion needs scored documents, but document {doc.id!r} has score=None; "
            "use fusion='rrf' or members that set Document.score"
        )
    return float(doc.score)


def _from_spec(ctx: spec.SpecContext) -> HybridRetriever:
    weights = ctx.get("weights", list, None)
    return HybridRetriever(
        ctx.runnables("retrievers"),
        weights=weights,
        k=ctx.get("k", int, 4),
        fetch_k=ctx.get("fetch_k", int, 100),
        fusion=ctx.get("fusion", str, "convex", choices=FUSIONS),
        rrf_k=ctx.get("rrf_k", float, 60.0),
        embedder=ctx.component("embedder", None),
        mmr_lambda=ctx.get("mmr_lambda", float, 0.5),
    )


spec.add_builder("hybrid_retriever", _from_spec)
