"""Metrics: each a small class with one ``score(example, prediction) -> {name: value}``.

Scales follow each metric's reference implementation: per-example EM, F1, containment,
ROUGE, retrieval and judge scores lie in [0, 1]; BLEU and chrF in [0, 100] (sacrebleu);
WER/CER are rates (lower is better); latency is in seconds, cost in USD.

:func:`build_metrics` makes metrics from names (the CLI's ``--metrics em,f1,rouge``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.metrics.base import Metric, mean_scores, percentile
from agentkit.evals.metrics.edit import CharErrorRate, Levenshtein, WordErrorRate, levenshtein
from agentkit.evals.metrics.judges import ContextRelevance, Correctness, Faithfulness
from agentkit.evals.metrics.latency import Cost, Latency, Tokens
from agentkit.evals.metrics.overlap import Bleu, Chrf, Rouge
from agentkit.evals.metrics.perplexity import Perplexity
from agentkit.evals.metrics.retrieval import RetrievalMetrics
from agentkit.evals.metrics.squad import (
    F1,
    AnswerContainment,
    ExactMatch,
    normalize_answer,
    squad_scores,
)

DEFAULT_METRICS = ("em", "f1", "contains", "latency", "tokens")


def _need(value: Any, metric: str, what: str) -> Any:
    if value is None:
        raise UsageError(f"the {metric!r} metric needs {what}")
    return value


_JUDGE = "a judge model (pass judge=..., or --judge <yaml or module:function>)"
_BUILDERS: dict[str, Callable[[dict[str, Any]], Metric]] = {
    "em": lambda o: ExactMatch(v2=o["v2"]),
    "f1": lambda o: F1(v2=o["v2"]),
    "contains": lambda o: AnswerContainment(),
    "context_contains": lambda o: AnswerContainment(in_contexts=True),
    "rouge": lambda o: Rouge(),
    "bleu": lambda o: Bleu(),
    "chrf": lambda o: Chrf(),
    "wer": lambda o: WordErrorRate(),
    "cer": lambda o: CharErrorRate(),
    "levenshtein": lambda o: Levenshtein(),
    "retrieval": lambda o: RetrievalMetrics(o["ks"]),
    "correct": lambda o: Correctness(_need(o["judge"], "correct", _JUDGE)),
    "faithfulness": lambda o: Faithfulness(_need(o["judge"], "faithfulness", _JUDGE)),
    "context_relevance": lambda o: ContextRelevance(_need(o["judge"], "context_relevance", _JUDGE)),
    "perplexity": lambda o: Perplexity(
        _need(o["model"], "perplexity", "a model with perplexity() (pass model=...)")
    ),
    "latency": lambda o: Latency(),
    "tokens": lambda o: Tokens(),
    "cost": lambda o: Cost(_need(o["prices"], "cost", "a price table (prices=... / --prices)")),
}
_ALIASES = {
    "exact_match": "em",
    "squad": "em,f1",
    "hit": "retrieval",
    "recall": "retrieval",
    "mrr": "retrieval",
    "ndcg": "retrieval",
    "correctness": "correct",
    "ttft": "latency",
}
METRIC_NAMES = tuple(sorted({*_BUILDERS, *_ALIASES}))


def build_metrics(
    names: str | Sequence[str],
    *,
    v2: bool = False,
    judge: Any = None,
    model: Any = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> list[Metric]:
    """Metrics by name (a comma-separated string or a list), each built once.

    ``v2`` applies the SQuAD v2.0 no-answer rules to em/f1; ``judge`` is the model of the
    judge metrics, ``model`` the model of ``perplexity``, ``prices`` the table of ``cost``,
    ``ks`` the retrieval cut-offs."""
    items = names.split(",") if isinstance(names, str) else list(names)
    wanted: list[str] = []
    for raw in items:
        name = raw.strip().lower()
        if not name:
            continue
        for part in _ALIASES.get(name, name).split(","):
            if part not in _BUILDERS:
                raise UsageError(
                    f"unknown metric {raw.strip()!r}; choose from {', '.join(METRIC_NAMES)}"
                )
            if part not in wanted:
                wanted.append(part)
    if not wanted:
        raise UsageError(f"no metrics given; choose from {', '.join(METRIC_NAMES)}")
    options = {"v2": v2, "judge": judge, "model": model, "prices": prices, "ks": tuple(ks)}
    return [_BUILDERS[name](options) for name in wanted]


__all__ = [
    "DEFAULT_METRICS",
    "F1",
    "METRIC_NAMES",
    "AnswerContainment",
    "Bleu",
    "CharErrorRate",
    "Chrf",
    "ContextRelevance",
    "Correctness",
    "Cost",
    "ExactMatch",
    "Faithfulness",
    "Latency",
    "Levenshtein",
    "Metric",
    "Perplexity",
    "RetrievalMetrics",
    "Rouge",
    "Tokens",
    "WordErrorRate",
    "build_metrics",
    "levenshtein",
    "mean_scores",
    "normalize_answer",
    "percentile",
    "squad_scores",
]
