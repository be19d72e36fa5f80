"""Extractive reader on SQuAD v1.1 dev: does the chosen sentence hold a gold answer?

Each question is answered from its gold paragraph by :class:`ExtractiveReader` (bundled
all-MiniLM-L6-v2 behind the embedding cache in ``.cache/``). ``sentence_contains_answer`` is
the share of questions whose chosen sentence contains one of the gold answers verbatim.
For comparison, in the same run: the reader with the lexical score only
(``lexical_weight=1``) and with the embeddings only (``lexical_weight=0``), the peer library
bm25s ranking the same sentences (Okapi BM25, English stopwords), and the first sentence.
Also the confidence's calibration: mean confidence and the expected calibration error (ECE,
10 bins) against the chosen sentence being right.

``--quick``: 1,000 questions of randomly chosen paragraphs (seed 0). ``--fit-confidence``:
refit the confidence constants of ``agentkit/llms/extractive/scoring.py`` (logistic regression
on SQuAD dev with one question in five paired with a paragraph of another article).
Run: ``.venv/bin/python benchmarks/extractive_squad.py [--quick] [--fit-confidence]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402

from agentkit.llms.extractive import ExtractiveReader  # noqa: E402
from agentkit.llms.extractive.scoring import combine, lexical_scores  # noqa: E402
from agentkit.llms.sentences import split_sentences  # noqa: E402
from agentkit.retrievers.embeddings import default_embedder  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json.gz"
QUICK_QUESTIONS = 1000
Item = tuple[str, str, list[str], int]  # question, paragraph, gold answers, article index


def load_squad() -> list[Item]:
    if not SQUAD.exists():
        raise SystemExit(f"{SQUAD} is absent: this benchmark reads ../shared/data beside the repo")
    with gzip.open(SQUAD) as fh:
        data = json.loads(fh.read())
    items = []
    for a, article in enumerate(data["data"]):
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                answers = [ans["text"] for ans in qa["answers"]]
                items.append((qa["question"], paragraph["context"], answers, a))
    return items


def sample_paragraphs(items: list[Item], n: int, seed: int = 0) -> list[Item]:
    """All questions of randomly chosen paragraphs, until ``n`` questions (then cut)."""
    by_paragraph: dict[str, list[Item]] = {}
    for item in items:
        by_paragraph.setdefault(item[1], []).append(item)
    groups = list(by_paragraph.values())
    random.Random(seed).shuffle(groups)
    out: list[Item] = []
    for group in groups:
        out.extend(group)
        if len(out) >= n:
            break
    return out[:n]


def contains(sentence: str, answers: Sequence[str]) -> bool:
    return any(answer in sentence for answer in answers)


def evaluate(reader: ExtractiveReader, items: list[Item]) -> tuple[float, list[float], list[int]]:
    confidences, correct = [], []
    for question, context, answers, _ in items:
        found = reader.answer(question, [context])
        confidences.append(found.confidence)
        correct.append(int(contains(found.text, answers)))
    return sum(correct) / len(items), confidences, correct


def ece(confidences: list[float], correct: list[int], bins: int = 10) -> float:
    total = 0.0
    for b in range(bins):
        members = [i for i, c in enumerate(confidences) if min(int(c * bins), bins - 1) == b]
        if members:
            conf = sum(confidences[i] for i in members) / len(members)
            acc = sum(correct[i] for i in members) / len(members)
            total += abs(conf - acc) * len(members) / len(confidences)
    return total


def bm25s_accuracy(items: list[Item]) -> float:
    import bm25s

    hits = 0
    for question, context, answers, _ in items:
        sentences = split_sentences(context)
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize(sentences, stopwords="en", show_progress=False), show_progress=False
        )
        query = bm25s.tokenize([question], stopwords="en", show_progress=False)
        if not query.vocab:  # every query word is a stopword
            best = 0
        else:
            docs, _ = retriever.retrieve(query, k=1, show_progress=False)
            best = int(docs[0][0])
        hits += contains(sentences[best], answers)
    return hits / len(items)


def fit_confidence(items: list[Item], embedder: Any, lexical_weight: float) -> dict[str, float]:
    """Logistic regression (Newton's method) of 'the chosen sentence holds an answer' on
    [best - second score, cosine of the best]; one question in five gets a foreign paragraph."""
    import numpy as np

    rng = random.Random(0)
    paragraphs = [(item[1], item[3]) for item in items]
    rows, labels = [], []
    for question, context, answers, article in items:
        if rng.random() < 0.2:  # a paragraph of another article: the answer is not there
            other = article
            while other == article:
                context, other = rng.choice(paragraphs)
        sentences = split_sentences(context)
        vectors = embedder.embed_batch([question, *sentences])
        similarity = vectors[1:] @ vectors[0]
        scores = combine(similarity, lexical_scores(question, sentences), lexical_weight)
        order = np.argsort(-scores, kind="stable")
        second = scores[order[1]] if len(order) > 1 else 0.0
        rows.append([scores[order[0]] - second, similarity[order[0]], 1.0])
        labels.append(float(contains(sentences[order[0]], answers)))
    x, y, w = np.asarray(rows), np.asarray(labels), np.zeros(3)
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + 1e-6 * np.eye(3)
        w -= np.linalg.solve(hessian, x.T @ (p - y))
    return {"margin": round(w[0], 2), "similarity": round(w[1], 2), "bias": round(w[2], 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 questions (< 45 s)")
    parser.add_argument("--fit-confidence", action="store_true", help="refit the confidence")
    parser.add_argument("--cache-dir", default=str(ROOT / ".cache"), help="embedding cache")
    args = parser.parse_args(argv)
    items = load_squad()
    if args.quick:
        items = sample_paragraphs(items, QUICK_QUESTIONS)
    embedder = default_embedder(args.cache_dir)
    reader = ExtractiveReader(embedder)
    if args.fit_confidence:
        print(json.dumps(fit_confidence(items, embedder, reader.lexical_weight)))
        return
    start = time.perf_counter()
    embedder.embed_batch(sorted({t for q, c, _, _ in items for t in [q, *split_sentences(c)]}))
    embed_s = time.perf_counter() - start
    start = time.perf_counter()
    accuracy, confidences, correct = evaluate(reader, items)
    answer_s = time.perf_counter() - start
    lexical, _, _ = evaluate(ExtractiveReader(embedder, lexical_weight=1.0), items)
    dense, _, _ = evaluate(ExtractiveReader(embedder, lexical_weight=0.0), items)
    peer = bm25s_accuracy(items)
    first = sum(contains(split_sentences(c)[0], a) for _, c, a, _ in items) / len(items)
    result = {
        "benchmark": "extractive_squad",
        "questions": len(items),
        "sentence_contains_answer": round(accuracy, 4),
        "lexical_only": round(lexical, 4),
        "embedding_only": round(dense, 4),
        "bm25s_sentence": round(peer, 4),
        "first_sentence": round(first, 4),
        "ratio_vs_bm25s": round(accuracy / peer, 3),
        "mean_confidence": round(sum(confidences) / len(confidences), 4),
        "confidence_ece": round(ece(confidences, correct), 4),
        "lexical_weight": reader.lexical_weight,
        "embed_s": round(embed_s, 2),
        "answers_per_s": round(len(items) / answer_s, 1),
        "target": 0.75,
    }
    emit(result, "extractive_squad", args.quick)


if __name__ == "__main__":
    main()
