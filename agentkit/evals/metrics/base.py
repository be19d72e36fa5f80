"""The :class:`Metric` contract: one method, ``score(example, prediction) -> {name: value}``.

``aggregate`` turns the per-example scores into a summary (the mean of each key by default,
over the examples that have it). Metrics that call a model (judges, perplexity) set
``calls_model = True`` so the runner scores them in a worker thread.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

from agentkit.evals.records import Example, Prediction

ScoreDict = Mapping[str, float]


class Metric(ABC):
    """Scores one prediction against its example."""

    name: str = "metric"
    calls_model: ClassVar[bool] = False
    # keys whose value is 0 or 1: compare() lists the examples where they flip
    binary_keys: tuple[str, ...] = ()
    # timing metrics (latency) vary between runs: summaries keep them apart
    timing: ClassVar[bool] = False

    @abstractmethod
    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        """The scores of one prediction (an empty dict when the metric does not apply)."""

    def aggregate(self, scores: Sequence[ScoreDict]) -> dict[str, float]:
        """The summary of many examples' scores: the mean of each key."""
        return mean_scores(scores)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def mean_scores(scores: Iterable[ScoreDict]) -> dict[str, float]:
    """The mean of each key over the score dicts that have it (NaN values skipped)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in scores:
        for key, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            sums[key] = sums.get(key, 0.0) + float(value)
            counts[key] = counts.get(key, 0) + 1
    return {key: sums[key] / counts[key] for key in sums}


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def references(example: Example) -> list[str]:
    """The texts to score a prediction against: the gold answers, ``[""]`` when none."""
    return list(example.answers) if example.answers else [""]
