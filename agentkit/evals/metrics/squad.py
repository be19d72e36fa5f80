"""Exact match and F1 with the official SQuAD normalisation, and answer containment.

Normalisation (both official scripts): lower-case, drop ASCII punctuation, drop the articles
a/an/the, collapse white space. EM is equality, F1 the token-multiset overlap; both take the
best gold answer. SQuAD v2.0 rules (``v2=True``): gold answers that normalise to nothing are
dropped, a question with no gold answer expects the empty prediction, and an empty side
scores 1 only when both are empty. v1.1 rules score an empty overlap 0.
"""

from __future__ import annotations

import re
import string
from collections import Counter

from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction

_PUNCT = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """The official SQuAD answer normalisation."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str, v2: bool = False) -> float:
    """Token F1 of one prediction against one gold answer."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if v2 and (not pred or not ref):
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def gold_answers(answers: tuple[str, ...] | list[str], v2: bool) -> list[str]:
    """The gold answers scored against; v2 drops empty ones and expects "" when none."""
    if not v2:
        return list(answers) if answers else [""]
    kept = [a for a in answers if normalize_answer(a)]
    return kept or [""]


def squad_scores(
    prediction: str, answers: tuple[str, ...] | list[str], v2: bool
) -> tuple[float, float]:
    """(EM, F1) of a prediction, best over the gold answers."""
    golds = gold_answers(answers, v2)
    return (
        max(exact(prediction, g) for g in golds),
        max(f1(prediction, g, v2) for g in golds),
    )


class ExactMatch(Metric):
    """``em``: 1 when the normalised prediction equals a normalised gold answer."""

    name = "em"
    binary_keys = ("em",)

    def __init__(self, v2: bool = False) -> None:
        self.v2 = v2

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        golds = gold_answers(example.answers, self.v2 or not example.answers)
        return {"em": max(exact(prediction.text, g) for g in golds)}


class F1(Metric):
    """``f1``: token overlap with the best gold answer."""

    name = "f1"

    def __init__(self, v2: bool = False) -> None:
        self.v2 = v2

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        v2 = self.v2 or not example.answers
        golds = gold_answers(example.answers, v2)
        return {"f1": max(f1(prediction.text, g, v2) for g in golds)}


def contains(haystack: str, needle: str) -> bool:
    """Whether normalised ``needle`` occurs in normalised ``haystack`` on word boundaries."""
    want = normalize_answer(needle)
    return bool(want) and f" {want} " in f" {normalize_answer(haystack)} "


class AnswerContainment(Metric):
    """``contains``: a gold answer occurs in the prediction (normalised, whole words).

    With ``in_contexts=True`` the key is ``context_contains`` and the retrieved contexts are
    searched instead: whether retrieval surfaced the answer at all. Questions without a
    gold answer are skipped.
    """

    name = "contains"

    def __init__(self, in_contexts: bool = False) -> None:
        self.in_contexts = in_contexts
        self.key = self.name = "context_contains" if in_contexts else "contains"
        self.binary_keys = (self.key,)

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if not example.answers:
            return {}
        texts = prediction.contexts if self.in_contexts else [prediction.text]
        hit = any(contains(t, a) for t in texts for a in example.answers)
        return {self.key: float(hit)}
