from __future__ import annotations

import pytest

from agentkit.core.errors import UsageError
from agentkit.evals.metrics import (
    Bleu,
    CharErrorRate,
    Chrf,
    Levenshtein,
    Rouge,
    WordErrorRate,
    levenshtein,
)
from agentkit.evals.metrics.overlap import lcs_length
from agentkit.evals.records import Example, Prediction

# (prediction, references): plain, punctuation, numbers, repeats, unicode, several references,
# empty prediction, long sentences with reordering.
CORPUS = [
    ("The cat sat on the mat.", ["A cat was sitting on the mat."]),
    ("Denver Broncos", ["Denver Broncos", "The Broncos"]),
    ("in 1066, at Hastings!", ["1066"]),
    ("the the the the", ["the cat is on the mat"]),
    ("Café au lait costs 3.50 euros", ["café au lait is 3.50 EUR"]),
    ("", ["nothing was predicted"]),
    ("running runners ran quickly", ["the runner runs quickly"]),
    (
        "It was the best of times, it was the worst of times, it was the age of wisdom",
        ["It was the worst of times and the best of times, an age of foolishness and wisdom"],
    ),
    ("Saint Bernadette Soubirous", ["Saint Bernadette Soubirous"]),
    ("a golden statue of the Virgin Mary", ["a copper statue of Christ", "statue of Mary"]),
    ("Paris", ["London"]),
    ("New York City, New York, USA", ["New York", "NYC", "the city of New York"]),
]


def example(refs: list[str]) -> Example:
    return Example("x", "q", tuple(refs))


@pytest.mark.parametrize("use_stemmer", [False, True])
def test_rouge_matches_rouge_score(use_stemmer: bool) -> None:
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    reference = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=use_stemmer)
    ours = Rouge(use_stemmer=use_stemmer)
    for prediction, refs in CORPUS:
        expected = reference.score_multi(refs, prediction)
        got = ours.score(example(refs), Prediction(prediction))
        for kind in ("rouge1", "rouge2", "rougeL"):
            assert got[kind] == pytest.approx(expected[kind].fmeasure, abs=1e-12), (
                prediction,
                kind,
            )


def test_bleu_and_chrf_match_sacrebleu() -> None:
    sacrebleu = pytest.importorskip("sacrebleu")
    bleu, chrf = Bleu(), Chrf()
    for prediction, refs in CORPUS:
        got = bleu.score(example(refs), Prediction(prediction))["bleu"]
        assert got == pytest.approx(sacrebleu.sentence_bleu(prediction, refs).score, abs=1e-9)
        got = chrf.score(example(refs), Prediction(prediction))["chrf"]
        assert got == pytest.approx(sacrebleu.sentence_chrf(prediction, refs).score, abs=1e-9)
    assert bleu.score(example(["the cat"]), Prediction("the cat"))["bleu"] == pytest.approx(100.0)


def test_overlap_metrics_skip_unanswerable_and_check_types() -> None:
    for metric in (Rouge(), Bleu(), Chrf(), WordErrorRate()):
        assert metric.score(Example("u", "q", ()), Prediction("x")) == {}
    with pytest.raises(UsageError, match="unknown ROUGE type"):
        Rouge(types=("rougeX",))


def test_lcs_and_levenshtein() -> None:
    assert lcs_length("ABCBDAB", "BDCABA") == 4
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3 and levenshtein("same", "same") == 0
    assert levenshtein(["a", "b"], ["b"]) == 1


def test_error_rates_use_the_closest_reference() -> None:
    ex = example(["the cat sat on the mat", "a cat"])
    assert WordErrorRate().score(ex, Prediction("the cat sat on a mat")) == {
        "wer": pytest.approx(1 / 6)
    }
    assert WordErrorRate().score(ex, Prediction("a cat")) == {"wer": 0.0}
    assert CharErrorRate().score(example(["abcd"]), Prediction("abed")) == {"cer": 0.25}
    assert CharErrorRate(lowercase=True).score(example(["ABC"]), Prediction("abc")) == {"cer": 0.0}
    assert Levenshtein().score(example(["kitten", "sitting"]), Prediction("sittin")) == {
        "levenshtein": 1.0
    }
