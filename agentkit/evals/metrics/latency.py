"""Speed and spend: latency and time to first token (p50/p95/p99), tokens and cost.

Tokens come from the usage recorded on the example's model spans (spans of kind ``model``;
a model span inside another is not counted twice). Cost uses a price table passed in:
``{model span name: {"input": USD per 1M prompt tokens, "output": USD per 1M completion
tokens}}``, with ``"*"`` as the fallback for unlisted models.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.metrics.base import Metric, ScoreDict, mean_scores, percentile
from agentkit.evals.records import Example, Prediction

PERCENTILES = (50, 95, 99)


def _summary(values: Sequence[float], prefix: str) -> dict[str, float]:
    if not values:
        return {}
    out = {f"{prefix}_p{q}": percentile(values, q) for q in PERCENTILES}
    out[f"{prefix}_mean"] = sum(values) / len(values)
    return out


class Latency(Metric):
    """``latency_s`` and ``ttft_s`` per example; percentiles and means in the summary."""

    name = "latency"
    timing = True

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        out: dict[str, float] = {}
        if prediction.latency is not None:
            out["latency_s"] = float(prediction.latency)
        if prediction.ttft is not None:
            out["ttft_s"] = float(prediction.ttft)
        return out

    def aggregate(self, scores: Sequence[ScoreDict]) -> dict[str, float]:
        out = _summary([s["latency_s"] for s in scores if "latency_s" in s], "latency")
        out.update(_summary([s["ttft_s"] for s in scores if "ttft_s" in s], "ttft"))
        return out


def model_spans(spans: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Outermost model spans: those with no model span among their ancestors."""
    by_id = {s.get("id"): s for s in spans}
    for span in spans:
        if span.get("kind") != "model":
            continue
        parent = by_id.get(span.get("parent_id"))
        nested = False
        while parent is not None:
            if parent.get("kind") == "model":
                nested = True
                break
            parent = by_id.get(parent.get("parent_id"))
        if not nested:
            yield span


def usage_by_model(spans: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, int]]:
    """``{model span name: (prompt tokens, completion tokens)}``."""
    out: dict[str, tuple[int, int]] = {}
    for span in model_spans(spans):
        usage = span.get("usage") or {}
        before = out.get(str(span.get("name")), (0, 0))
        out[str(span.get("name"))] = (
            before[0] + int(usage.get("prompt_tokens", 0)),
            before[1] + int(usage.get("completion_tokens", 0)),
        )
    return out


class Tokens(Metric):
    """``prompt_tokens``, ``completion_tokens``, ``total_tokens`` and ``model_calls``; the
    summary adds the sums (``*_sum``)."""

    name = "tokens"

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        usage = usage_by_model(prediction.spans)
        prompt = sum(u[0] for u in usage.values())
        completion = sum(u[1] for u in usage.values())
        calls = sum(1 for _ in model_spans(prediction.spans))
        return {
            "prompt_tokens": float(prompt),
            "completion_tokens": float(completion),
            "total_tokens": float(prompt + completion),
            "model_calls": float(calls),
        }

    def aggregate(self, scores: Sequence[ScoreDict]) -> dict[str, float]:
        out = mean_scores(scores)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens", "model_calls"):
            out[f"{key}_sum"] = float(sum(s.get(key, 0.0) for s in scores))
        return out


class Cost(Metric):
    """``cost_usd`` of each example from a price table; the summary adds ``cost_usd_sum``."""

    name = "cost"

    def __init__(self, prices: Mapping[str, Mapping[str, float]]) -> None:
        self.prices: dict[str, tuple[float, float]] = {}
        for model, price in prices.items():
            if not isinstance(price, Mapping) or set(price) - {"input", "output"}:
                raise UsageError(
                    f"price of {model!r} must be {{'input': USD per 1M prompt tokens, "
                    f"'output': USD per 1M completion tokens}}, got {price!r}"
                )
            self.prices[str(model)] = (float(price.get("input", 0)), float(price.get("output", 0)))

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        total, unpriced = 0.0, 0
        for model, (prompt, completion) in usage_by_model(prediction.spans).items():
            price = self.prices.get(model, self.prices.get("*"))
            if price is None:
                unpriced += 1
                continue
            total += (prompt * price[0] + completion * price[1]) / 1_000_000
        out = {"cost_usd": total}
        if unpriced:
            out["unpriced_models"] = float(unpriced)
        return out

    def aggregate(self, scores: Sequence[ScoreDict]) -> dict[str, float]:
        out = mean_scores(scores)
        out["cost_usd_sum"] = float(sum(s.get("cost_usd", 0.0) for s in scores))
        return out
