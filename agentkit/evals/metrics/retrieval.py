"""Retrieval metrics from the ids a chain retrieved: hit@k, recall@k, MRR and nDCG@k.

Relevance is binary: an id in the example's ``relevant_ids`` is relevant. Retrieved ids
are de-duplicated (first occurrence kept) before scoring; MRR looks at the whole retrieved
list. Examples without relevant ids are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from agentkit.core.errors import UsageError
from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction


def dedupe(ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def hit_at(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    return float(any(i in relevant for i in retrieved[:k]))


def recall_at(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    return len(relevant.intersection(retrieved[:k])) / len(relevant)


def reciprocal_rank(retrieved: Sequence[str], relevant: set[str]) -> float:
    for rank, i in enumerate(retrieved, 1):
        if i in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(r + 2) for r, i in enumerate(retrieved[:k]) if i in relevant)
    ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(relevant))))
    return dcg / ideal


class RetrievalMetrics(Metric):
    """``hit@k``, ``recall@k``, ``ndcg@k`` for each k in ``ks``, and ``mrr``."""

    name = "retrieval"

    def __init__(self, ks: Sequence[int] = (1, 5, 10)) -> None:
        if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
            raise UsageError(f"retrieval cut-offs ks must be integers >= 1, got {list(ks)}")
        self.ks = tuple(sorted(set(ks)))
        self.binary_keys = tuple(f"hit@{k}" for k in self.ks)

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        relevant = set(example.relevant_ids)
        if not relevant:
            return {}
        retrieved = dedupe(prediction.retrieved_ids)
        out: dict[str, float] = {}
        for k in self.ks:
            out[f"hit@{k}"] = hit_at(retrieved, relevant, k)
            out[f"recall@{k}"] = recall_at(retrieved, relevant, k)
            out[f"ndcg@{k}"] = ndcg_at(retrieved, relevant, k)
        out["mrr"] = reciprocal_rank(retrieved, relevant)
        return out
