"""Edit-distance metrics: word and character error rates, and Levenshtein distance.

``wer`` = word edits (substitutions + deletions + insertions) / reference words, over white
space tokens; ``cer`` the same over characters; ``levenshtein`` the character edit distance.
Texts are compared as given (``lowercase=True`` folds case first). With several gold
answers, the closest one counts. Questions without a gold answer are skipped.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Hashable, Sequence

from agentkit.evals.metrics.base import Metric
from agentkit.evals.records import Example, Prediction


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """The edit distance between two sequences (strings or token lists)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def error_rate(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> float:
    """Edits / reference length; an empty reference gives 0 for an empty hypothesis and the
    hypothesis length otherwise."""
    edits = levenshtein(reference, hypothesis)
    return edits / len(reference) if reference else float(edits)


class _EditMetric(Metric):
    key = ""

    def __init__(self, lowercase: bool = False) -> None:
        self.lowercase = lowercase

    @abstractmethod
    def _units(self, text: str) -> Sequence[Hashable]:
        """The units compared: words or characters."""

    def _value(self, reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> float:
        return error_rate(reference, hypothesis)

    def score(self, example: Example, prediction: Prediction) -> dict[str, float]:
        if not example.answers:
            return {}
        fold = str.lower if self.lowercase else str
        hyp = self._units(fold(prediction.text))
        return {self.key: min(self._value(self._units(fold(a)), hyp) for a in example.answers)}


class WordErrorRate(_EditMetric):
    """``wer``: word error rate against the closest gold answer (lower is better)."""

    name = key = "wer"

    def _units(self, text: str) -> Sequence[Hashable]:
        return text.split()


class CharErrorRate(_EditMetric):
    """``cer``: character error rate against the closest gold answer (lower is better)."""

    name = key = "cer"

    def _units(self, text: str) -> Sequence[Hashable]:
        return text


class Levenshtein(_EditMetric):
    """``levenshtein``: character edit distance to the closest gold answer."""

    name = key = "levenshtein"

    def _units(self, text: str) -> Sequence[Hashable]:
        return text

    def _value(self, reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> float:
        return float(levenshtein(reference, hypothesis))
