"""N-gram overlap metrics: ROUGE-1/2/L, BLEU and chrF.

ROUGE is implemented here, following the ``rouge-score`` package exactly (its tokenizer:
lower-case, non-alphanumerics to spaces; F-measure; with several gold answers, the best
F-measure per ROUGE type), so it needs no dependency (rouge-score pulls nltk and absl).
Porter stemming, as ``rouge-score``'s ``use_stemmer``, needs nltk. BLEU and chrF are
sacrebleu's sentence-level scores (0-100), so they match it by construction.
Questions without a gold answer are skipped by all three.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_VALID = re.compile(r"^[a-z0-9]+$")
ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def rouge_tokens(text: str, stemmer: Any = None) -> list[str]:
    """rouge-score's default tokenizer."""
    tokens = _NON_ALNUM.sub(" ", text.lower()).split()
    if stemmer is not None:
        tokens = [stemmer.stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if _VALID.match(t)]


def _fmeasure(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(target: Sequence[str], prediction: Sequence[str], n: int) -> tuple[float, float, float]:
    """(precision, recall, F-measure) of n-gram overlap."""
    ref, hyp = _ngrams(target, n), _ngrams(prediction, n)
    overlap = sum(min(count, hyp[gram]) for gram, count in ref.items())
    precision = overlap / max(sum(hyp.values()), 1)
    recall = overlap / max(sum(ref.values()), 1)
    return precision, recall, _fmeasure(precision, recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (one row of the DP table at a time)."""
    if len(b) > len(a):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(target: Sequence[str], prediction: Sequence[str]) -> tuple[float, float, float]:
    if not target or not prediction:
        return 0.0, 0.0, 0.0
    lcs = lcs_length(target, prediction)
    precision, recall = lcs / len(prediction), lcs / len(target)
    return precision, recall, _fmeasure(precision, recall)


class Rouge(Metric):
    """``rouge1``, ``rouge2``, ``rougeL`` F-measures, as ``rouge_score.RougeScorer``."""

    name = "rouge"

    def __init__(self, types: Sequence[str] = ROUGE_TYPES, use_stemmer: bool = False) -> None:
        unknown = [t for t in types if not re.fullmatch(r"rouge[1-9]|rougeL", t)]
        if unknown or not types:
            raise UsageError(f"unknown ROUGE type(s) {unknown}; use rouge1..rouge9 or rougeL")
        self.types = tuple(types)
        self.stemmer = _porter() if use_stemmer else None

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if not example.answers:
            return {}
        hyp = rouge_tokens(prediction.text, self.stemmer)
        refs = [rouge_tokens(a, self.stemmer) for a in example.answers]
        out = {}
        for kind in self.types:
            if kind == "rougeL":
                out[kind] = max(rouge_l(ref, hyp)[2] for ref in refs)
            else:
                out[kind] = max(rouge_n(ref, hyp, int(kind[5:]))[2] for ref in refs)
        return out


def _porter() -> Any:
    try:
        from nltk.stem import porter
    except ImportError as e:
        raise MissingDependencyError("nltk", "eval", "ROUGE with stemming") from e
    return porter.PorterStemmer()


def _sacrebleu() -> Any:
    try:
        import sacrebleu
    except ImportError as e:
        raise MissingDependencyError("sacrebleu", "eval", "The BLEU and chrF metrics") from e
    return sacrebleu


class Bleu(Metric):
    """``bleu``: sacrebleu's sentence BLEU (exp smoothing, effective order), 0-100."""

    name = "bleu"

    def __init__(self) -> None:
        self._scorer = _sacrebleu().BLEU(effective_order=True)

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if not example.answers:
            return {}
        result = self._scorer.sentence_score(prediction.text, list(example.answers))
        return {"bleu": float(result.score)}


class Chrf(Metric):
    """``chrf``: sacrebleu's sentence chrF (character 6-grams, beta 2), 0-100."""

    name = "chrf"

    def __init__(self) -> None:
        self._scorer = _sacrebleu().CHRF()

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if not example.answers:
            return {}
        result = self._scorer.sentence_score(prediction.text, list(example.answers))
        return {"chrf": float(result.score)}
