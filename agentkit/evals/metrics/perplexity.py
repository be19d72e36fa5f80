"""Perplexity of a language model on the gold answers (or the predictions).

The model must have ``perplexity(texts) -> list[float]`` (the Hugging Face chat models do);
lower is better.
"""

from __future__ import annotations

from typing import Any

from agentkit.core.errors import UsageError
from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction

TARGETS = ("answer", "prediction")


class Perplexity(Metric):
    """``perplexity`` of ``model`` on the first gold answer (``on="answer"``) or on the
    prediction (``on="prediction"``); examples with no such text are skipped."""

    name = "perplexity"
    calls_model = True

    def __init__(self, model: Any, on: str = "answer") -> None:
        if not callable(getattr(model, "perplexity", None)):
            raise UsageError(
                f"the perplexity metric needs a model with a perplexity(texts) method; "
                f"{type(model).__name__} has none (use a Hugging Face model)"
            )
        if on not in TARGETS:
            raise UsageError(f"perplexity on={on!r} is unknown; use one of {', '.join(TARGETS)}")
        self.model, self.on = model, on

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if self.on == "prediction":
            text = prediction.text
        else:
            text = example.answers[0] if example.answers else ""
        if not text.strip():
            return {}
        values = list(self.model.perplexity([text]))
        if len(values) != 1:
            raise UsageError(
                f"{type(self.model).__name__}.perplexity returned {len(values)} values for "
                "1 text; it must return one float per text"
            )
        return {"perplexity": float(values[0])}
