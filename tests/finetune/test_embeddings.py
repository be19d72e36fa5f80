"""Embedding fine-tuning: hard-negative mining from an index, the embedder registry, and a
short real run on the bundled MiniLM whose result a retriever uses by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError
from agentkit.finetune.embedder_registry import EmbedderRegistry, registered_embedder
from agentkit.finetune.jobs import EmbeddingJob
from agentkit.finetune.mining import load_corpus, mine_hard_negatives
from agentkit.retrievers.document import Document
from tests.finetune.conftest import write_jsonl

TOPICS = [
    ("Where is the Eiffel Tower?", "The Eiffel Tower stands in Paris, France."),
    ("What do bees produce?", "Bees produce honey and wax in their hives."),
    ("How hot is boiling water?", "Water boils at 100 degrees Celsius at sea level."),
    ("What orbits the earth?", "The moon orbits the earth about once a month."),
    ("What do cows eat?", "Cows eat grass and hay on the farm."),
    ("When do leaves fall?", "Leaves fall from the trees in autumn."),
    ("What is the largest ocean?", "The Pacific is the largest ocean on earth."),
    ("Who wrote Hamlet?", "Hamlet is a tragedy written by William Shakespeare."),
]
DISTRACTORS = [
    "Paris has many museums, such as the Louvre.",
    "Wasps are insects that do not make honey.",
    "Ice melts at zero degrees Celsius.",
    "Mars has two small moons.",
    "Goats also eat grass.",
    "Evergreen trees keep their leaves in winter.",
]


class ListRetriever:
    """Returns the same ranked documents for every query."""

    def __init__(self, docs: list[Document]) -> None:
        self.docs = docs

    def retrieve(self, query: str, k: int) -> list[Document]:
        return self.docs[:k]


def test_mining_skips_positives_by_text_and_id() -> None:
    docs = [
        Document("positive text", id="p1"),
        Document("another positive", id="p2"),
        Document("near miss", id="n1"),
        Document("far miss", id="n2"),
        Document("farther", id="n3"),
    ]
    pairs = [
        {"query": "q", "passage": "positive text"},
        {"query": "q", "passage": "renamed", "passage_id": "p2"},
        {"query": "other", "passage": "near miss"},
    ]
    mined = mine_hard_negatives(pairs, ListRetriever(docs), negatives=2)
    assert mined[0] == mined[1] == ["near miss", "far miss"]
    assert mined[2] == ["positive text", "another positive"]
    assert mine_hard_negatives(pairs, ListRetriever(docs), negatives=1, skip_top=1)[0] == [
        "far miss"
    ]
    assert mine_hard_negatives(pairs, ListRetriever(docs), negatives=0) == [[], [], []]
    with pytest.raises(UsageError, match="mined with a Retriever"):
        mine_hard_negatives(pairs, object())


def test_mining_with_bm25_finds_lexical_neighbours() -> None:
    from agentkit.retrievers.bm25 import BM25Retriever

    docs = [Document(p) for _, p in TOPICS] + [Document(d) for d in DISTRACTORS]
    pairs = [
        {"query": "Paris in France", "passage": TOPICS[0][1]},
        {"query": "honey insects", "passage": TOPICS[1][1]},
        {"query": "Eiffel", "passage": TOPICS[0][1]},
    ]
    mined = mine_hard_negatives(pairs, BM25Retriever(docs), negatives=1)
    assert mined[0] == ["Paris has many museums, such as the Louvre."]
    assert mined[1] == ["Wasps are insects that do not make honey."]
    assert mined[2] == []  # BM25 returns matching documents only: fewer negatives


def test_corpus_file_and_registry_errors(tmp_path: Path, home: Path) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"text": "a", "id": "x"}, {"text": "b"}])
    docs = load_corpus(corpus)
    assert [d.text for d in docs] == ["a", "b"] and docs[0].id == "x"
    registry = EmbedderRegistry()
    assert registry.root == home / "embedders"
    with pytest.raises(UsageError, match="no embedder named 'nope'"):
        registry.resolve("nope")
    with pytest.raises(UsageError, match=r"not a saved embedder \(it needs modules.json or "):
        registry.register("x", tmp_path)
    with pytest.raises(UsageError, match=r"embedder folder .* does not exist"):
        registry.register("x", tmp_path / "ghost")


@pytest.mark.integration
@pytest.mark.slow
def test_train_register_and_retrieve_by_name(tmp_path: Path, home: Path) -> None:
    from agentkit.core import spec
    from agentkit.finetune.embeddings import train_embeddings
    from agentkit.retrievers.vector import VectorRetriever
    from agentkit.retrievers.vectorstores import TorchStore

    pytest.importorskip("sentence_transformers")
    data = write_jsonl(tmp_path / "pairs.jsonl", [{"query": q, "passage": p} for q, p in TOPICS])
    corpus = write_jsonl(
        tmp_path / "corpus.jsonl", [{"text": t} for t in [p for _, p in TOPICS] + DISTRACTORS]
    )
    events: list[dict[str, Any]] = []
    job = EmbeddingJob(
        data=str(data),
        corpus=str(corpus),
        output=str(tmp_path / "emb"),
        name="topics",
        batch_size=4,
        max_steps=2,
        max_seq_length=32,
        logging_steps=1,
        device="cpu",
    )
    result = train_embeddings(job, progress=events.append)
    assert (tmp_path / "emb" / "modules.json").exists()
    manifest = json.loads((tmp_path / "emb" / "manifest.json").read_text())
    assert manifest["kind"] == "embedder" and manifest["corpus"]["mined_with"] == "bm25"
    assert manifest["data"]["train"] == len(TOPICS) and len(result.train_losses) >= 1
    assert events[0]["event"] == "start" and events[-1]["event"] == "end"
    from sentence_transformers import SentenceTransformer

    saved = SentenceTransformer(str(tmp_path / "emb"), device="cpu", local_files_only=True)
    assert saved.max_seq_length == 256  # the training truncation (32) is not saved
    embedder = registered_embedder("topics", device="cpu")
    assert embedder.dimension == 384
    retriever = VectorRetriever(embedder, TorchStore(384, device="cpu"), k=1)
    retriever.add_documents([Document(p) for _, p in TOPICS])
    assert retriever.invoke("Who wrote Hamlet?")[0].text == TOPICS[-1][1]
    built = spec.load({"type": "registered_embedder", "name": "topics", "device": "cpu"})
    assert built.embed_batch(["x"]).shape == (1, 384)
    with pytest.raises(UsageError, match="holds a finished run"):
        train_embeddings(job)


def test_loss_columns_use_given_then_mined_then_random_negatives() -> None:
    from agentkit.finetune.embeddings import _columns

    docs = [Document("near"), Document("other"), Document("third")]
    records = [
        {"query": "a", "passage": "pa", "negative": "given"},
        {"query": "b", "passage": "pb"},
    ]
    table = _columns(records, ListRetriever(docs[:1]), 2, 0, docs, seed=0)
    assert list(table) == ["anchor", "positive", "negative_1", "negative_2"]
    assert table["anchor"] == ["a", "b"] and table["positive"] == ["pa", "pb"]
    assert table["negative_1"] == ["given", "near"]
    assert table["negative_2"][0] == "near" and table["negative_2"][1] in {"other", "third", "near"}
    assert list(_columns(records, None, 0, 0, docs, seed=0)) == ["anchor", "positive"]
