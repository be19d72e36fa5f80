"""Maximal marginal relevance: pick results that are relevant to the query and unlike each
other. :func:`mmr_select` works on vectors and returns positions, so every store and
retriever can reuse it."""

from __future__ import annotations

import numpy as np

from agentkit.core.errors import UsageError


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def mmr_select(
    query_vec: np.ndarray, candidate_vecs: np.ndarray, k: int, lambda_mult: float = 0.5
) -> list[int]:
    """Positions of up to ``k`` candidates chosen greedily by
    ``lambda_mult * sim(query, c) - (1 - lambda_mult) * max sim(c, already chosen)``
    (cosine similarity). ``lambda_mult=1`` is plain relevance order; ``0`` is maximal
    diversity."""
    if not 0.0 <= lambda_mult <= 1.0:
        raise UsageError(f"lambda_mult must be between 0 and 1, got {lambda_mult!r}")
    if k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
    candidates = np.asarray(candidate_vecs, dtype=np.float32)
    if candidates.ndim != 2 or len(candidates) == 0:
        return []
    query = np.asarray(query_vec, dtype=np.float32).reshape(-1)
    if query.shape[0] != candidates.shape[1]:
        raise UsageError(
            f"query has dimension {query.shape[0]} but candidates have {candidates.shape[1]}"
        )
    unit = _unit(candidates)
    relevance = unit @ _unit(query)
    chosen = [int(np.argmax(relevance))]
    closest = unit @ unit[chosen[0]]  # max similarity of each candidate to the chosen ones
    while len(chosen) < min(k, len(unit)):
        score = lambda_mult * relevance - (1.0 - lambda_mult) * closest
        score[chosen] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        closest = np.maximum(closest, unit @ unit[best])
    return chosen


mmr = mmr_select
