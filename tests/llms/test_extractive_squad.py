"""The extractive reader with the real MiniLM on SQuAD v1.1 dev (gold paragraph given): the
chosen sentence holds a gold answer for at least 75% of a fixed 300-question sample."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from agentkit.llms.extractive import ExtractiveReader
from agentkit.llms.sentences import split_sentences


def squad_sample(path: Path, n: int = 300, seed: int = 0) -> list[tuple[str, str, list[str]]]:
    """All questions of randomly chosen paragraphs (seeded), the first ``n`` of them."""
    with gzip.open(path) as fh:
        data = json.load(fh)
    paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
    random.Random(seed).shuffle(paragraphs)
    out = []
    for paragraph in paragraphs:
        for qa in paragraph["qas"]:
            out.append((qa["question"], paragraph["context"], [a["text"] for a in qa["answers"]]))
        if len(out) >= n:
            break
    return out[:n]


@pytest.mark.slow
@pytest.mark.integration
def test_chosen_sentence_contains_a_gold_answer(shared_data: Path, tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    from agentkit.retrievers.embeddings import default_embedder

    sample = squad_sample(shared_data / "squad-v1.1-dev" / "dev-v1.1.json.gz")
    embedder = default_embedder(tmp_path)
    texts = {text for q, c, _ in sample for text in [q, *split_sentences(c)]}
    embedder.embed_batch(sorted(texts))  # one batch; the reader's calls then hit the cache
    reader = ExtractiveReader(embedder)
    hits = 0
    for question, context, answers in sample:
        found = reader.answer(question, [context])
        assert found.citations and 0.0 <= found.confidence <= 1.0
        hits += any(answer in found.text for answer in answers)
    assert len(sample) == 300
    assert hits / len(sample) >= 0.75, f"only {hits}/300 chosen sentences hold an answer"
