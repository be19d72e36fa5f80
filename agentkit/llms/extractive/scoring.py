"""Sentence scoring of the extractive reader: lexical overlap and the confidence estimate.

Lexical score of a sentence: the IDF-weighted share of the question's content terms it
contains (stopwords and question words such as "what", "year" removed; a light suffix
stemmer; IDF over the candidate sentences, BM25-style), in [0, 1].

The confidence is a logistic function of the best sentence's lead over the runner-up and of
its embedding similarity, fit on SQuAD v1.1 dev with all-MiniLM-L6-v2 (one question in five
paired with an unrelated paragraph, so that off-topic contexts score low): it estimates the
probability that the returned sentence holds the answer. ``benchmarks/extractive_squad.py
--fit-confidence`` refits the constants below.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_STOPWORDS = """
    a an the of in on at to for from by with and or but nor is are was were be been being am
    do does did done doing has have had having it its itself this that these those there here
    their theirs them they he she his her hers him i you your yours we our ours us me my mine
    what which who whom whose when where why how whether if then than as so such not no into
    onto about over under after before during while also can could would should may might must
    will shall one some any all each other another more most many much very just only own same
    too s t up out off again further once both few nor whom upon per via
"""
_QUESTION_WORDS = """
    what which who whom whose when where why how name named names type types kind kinds call
    called many much year years long often far old did does according
"""
STOPWORDS = frozenset(_STOPWORDS.split())
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())
_WORD = re.compile(r"\w+")
_SUFFIXES = ("ies", "es", "s", "ing", "ed", "ly")

# confidence = sigmoid(MARGIN * (best - second) + SIMILARITY * cosine(best) + BIAS)
CONFIDENCE_MARGIN = 8.31
CONFIDENCE_SIMILARITY = 5.52
CONFIDENCE_BIAS = -3.34


def stem(word: str) -> str:
    """Strip one common English suffix (``"inventions"`` -> ``"invention"``)."""
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def terms(text: str, drop: frozenset[str] = STOPWORDS) -> list[str]:
    """Lower-cased, stemmed word terms of ``text`` without the words in ``drop``."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in drop]


def question_terms(question: str) -> set[str]:
    return set(terms(question, STOPWORDS | QUESTION_WORDS))


def lexical_scores(question: str, sentences: Sequence[str]) -> np.ndarray:
    """IDF-weighted overlap of each sentence with the question's content terms, in [0, 1]."""
    import numpy as np

    wanted = question_terms(question)
    bags = [set(terms(s)) for s in sentences]
    n = len(bags)
    weights = {}
    for term in wanted:
        df = sum(term in bag for bag in bags)
        weights[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    total = sum(weights.values())
    if not total:
        return np.zeros(n, dtype=np.float32)
    scores = [sum(w for t, w in weights.items() if t in bag) / total for bag in bags]
    return np.asarray(scores, dtype=np.float32)


def combine(similarity: np.ndarray, lexical: np.ndarray, lexical_weight: float) -> np.ndarray:
    """The ranking score: ``(1 - w) * cosine + w * lexical``."""
    return (1.0 - lexical_weight) * similarity + lexical_weight * lexical


def confidence(best: float, second: float | None, similarity: float) -> float:
    """Estimated probability that the best sentence holds the answer (``second`` is the
    runner-up's score, ``None`` when there is one sentence), in [0, 1]."""
    margin = best - (second if second is not None else 0.0)
    z = CONFIDENCE_MARGIN * margin + CONFIDENCE_SIMILARITY * similarity + CONFIDENCE_BIAS
    return float(1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))))
