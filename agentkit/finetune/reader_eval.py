"""Measure a span reader on SQuAD-format examples: EM/F1 with each question's gold
paragraph as the only document (official v1.1 normalisation; v2.0 rules when the examples
hold unanswerable questions), how often it answers on the right paragraph, and how often it
abstains when given a paragraph of another article."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentkit.finetune.reader_data import SpanExample, with_negatives

if TYPE_CHECKING:
    from agentkit.readers.scoring import PairSpan
    from agentkit.readers.span import SpanReader


@dataclass
class PairScores:
    """Margins of right-paragraph pairs (with their F1) and of wrong-paragraph pairs."""

    positive: list[float] = field(default_factory=list)
    positive_f1: list[float] = field(default_factory=list)
    positive_em: list[float] = field(default_factory=list)
    negative: list[float] = field(default_factory=list)
    predictions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def read_all(
    reader: SpanReader, examples: Sequence[SpanExample], batch: int = 64
) -> list[PairSpan | None]:
    """The best span of every example's (question, context) pair."""
    out: list[PairSpan | None] = []
    for at in range(0, len(examples), batch):
        chunk = examples[at : at + batch]
        out += reader.pair_spans([e.question for e in chunk], [e.context for e in chunk])
    return out


def score_pairs(
    reader: SpanReader, examples: Sequence[SpanExample], negatives: bool = True, seed: int = 0
) -> PairScores:
    """Read ``examples`` on their own paragraphs (and, with ``negatives``, each question
    on a paragraph of another article)."""
    from agentkit.evals.metrics.squad import squad_scores

    v2 = any(not e.answerable for e in examples)
    pairs = list(examples)
    if negatives:
        pairs += [e for e in with_negatives(examples, 1.0, seed) if e.id.endswith("-neg0")]
    started = time.perf_counter()
    spans = read_all(reader, pairs)
    scores = PairScores(seconds=time.perf_counter() - started)
    for example, span in zip(pairs, spans, strict=True):
        margin = span.margin if span is not None else -1e9
        if example.id.endswith("-neg0") and negatives:
            scores.negative.append(margin)
            continue
        text = ""
        if span is not None and margin >= reader.threshold:
            text = example.context[span.start : span.end].strip()
        golds = example.answers if example.answerable else ()
        em, f1 = squad_scores(text, golds, v2)
        scores.predictions[example.id] = text
        scores.positive.append(margin)
        scores.positive_em.append(em)
        scores.positive_f1.append(f1)
    return scores


def summary(scores: PairScores, threshold: float, pairs: int) -> dict[str, Any]:
    """EM/F1 (x 100), answer/abstain rates (fractions) and questions per second."""
    n = max(1, len(scores.positive))
    out: dict[str, Any] = {
        "questions": len(scores.positive),
        "exact_match": round(100.0 * sum(scores.positive_em) / n, 2),
        "f1": round(100.0 * sum(scores.positive_f1) / n, 2),
        "answer_right_paragraph": round(sum(m >= threshold for m in scores.positive) / n, 4),
        "questions_per_s": round(pairs / scores.seconds, 1) if scores.seconds else None,
    }
    if scores.negative:
        wrong = sum(m < threshold for m in scores.negative) / len(scores.negative)
        out["abstain_wrong_paragraph"] = round(wrong, 4)
    return out


def sample(examples: Sequence[SpanExample], n: int | None, seed: int = 0) -> list[SpanExample]:
    """``n`` examples drawn at random (all when ``n`` is ``None`` or not smaller)."""
    if n is None or n >= len(examples):
        return list(examples)
    return random.Random(seed).sample(list(examples), n)
