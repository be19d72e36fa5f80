"""From start/end logits to the best span of each (question, passage) pair.

A span's score is ``start_logit + end_logit``; "no answer" scores the first token's pair
(the model learned to point there on passages that do not hold the answer). A pair's
*margin* is its best span's score minus its no-answer score (the lowest over its windows):
the reader answers from the pair with the highest margin, and abstains when that margin is
below the threshold chosen at training time. The confidence is a logistic function of the
margin, fit on held-back questions of the training articles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from agentkit.readers.features import Feature

TOP = 20  # start and end candidates looked at per window


@dataclass
class PairSpan:
    """The best span of one pair: its margin over "no answer" and its characters."""

    margin: float
    start: int
    end: int


def window_logits(
    model: Any, features: Sequence[Feature], pad_id: int, batch_size: int = 32
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(start, end) logits of every window, batched by length (dynamic padding)."""
    import torch

    from agentkit.readers.features import pad_batch

    order = sorted(range(len(features)), key=lambda i: len(features[i].input_ids))
    out: list[Any] = [None] * len(features)
    with torch.inference_mode():
        for at in range(0, len(order), batch_size):
            chunk = order[at : at + batch_size]
            batch = pad_batch([features[i] for i in chunk], pad_id)
            result = model(**batch)
            starts = result.start_logits.float().numpy()
            ends = result.end_logits.float().numpy()
            for row, i in enumerate(chunk):
                n = len(features[i].input_ids)
                out[i] = (starts[row, :n], ends[row, :n])
    return out


def best_spans(
    features: Sequence[Feature],
    logits: Sequence[tuple[np.ndarray, np.ndarray]],
    pairs: int,
    max_answer_tokens: int = 30,
) -> list[PairSpan | None]:
    """The best span per pair (``None`` for a pair without windows)."""
    import numpy as np

    best: list[PairSpan | None] = [None] * pairs
    null: list[float] = [math.inf] * pairs
    for feature, (start, end) in zip(features, logits, strict=True):
        p = feature.pair
        null[p] = min(null[p], float(start[0] + end[0]))
        valid = np.array([o is not None for o in feature.offsets])
        if not valid.any():
            continue
        s_scores = np.where(valid, start, -np.inf)
        e_scores = np.where(valid, end, -np.inf)
        k = min(TOP, int(valid.sum()))
        s_top = np.argpartition(-s_scores, k - 1)[:k]
        e_top = np.argpartition(-e_scores, k - 1)[:k]
        for s in s_top:
            for e in e_top:
                if e < s or e - s + 1 > max_answer_tokens:
                    continue
                score = float(s_scores[s] + e_scores[e])
                current = best[p]
                if current is None or score > current.margin:
                    s_off, e_off = feature.offsets[s], feature.offsets[e]
                    assert s_off is not None and e_off is not None
                    best[p] = PairSpan(score, s_off[0], e_off[1])
    for p, span in enumerate(best):
        if span is not None:
            span.margin -= null[p]
    return best


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def fit_logistic(margins: Sequence[float], labels: Sequence[int]) -> tuple[float, float]:
    """(a, b) of ``P(right) = sigmoid(a * margin + b)``, by Newton's method (ridge 1e-3)."""
    import numpy as np

    x = np.asarray(margins, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -50, 50)))
        grad = design.T @ (p - y) + 1e-3 * w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return float(w[0]), float(w[1])


def balanced_threshold(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """The margin threshold that makes the worse of "answers right pairs" and "abstains on
    wrong pairs" as high as possible (ties: the lower threshold)."""
    import numpy as np

    pos = np.sort(np.asarray(positives, dtype=np.float64))
    neg = np.sort(np.asarray(negatives, dtype=np.float64))
    if not len(pos) or not len(neg):
        return 0.0
    best_t, best_v = 0.0, -1.0
    for t in np.unique(np.concatenate([pos, neg])):
        answered = 1.0 - np.searchsorted(pos, t, side="left") / len(pos)
        abstained = np.searchsorted(neg, t, side="left") / len(neg)
        value = min(answered, abstained)
        if value > best_v:
            best_t, best_v = float(t), value
    return best_t
