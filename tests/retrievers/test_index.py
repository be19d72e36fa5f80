"""The one-liner index: build, search, reopen, retriever, question answering."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.llms.fake import FakeListModel
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.index import Index, default_index_dir, index

TEXTS = {
    "cats.txt": "Cats are small felines. Cats eat fish and sleep most of the day.",
    "rockets.md": "# Rockets\n\nRockets burn liquid fuel to reach orbit around the planet.",
    "bread.txt": "Bread is baked from flour, water, yeast and a pinch of salt.",
}


def corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in TEXTS.items():
        (root / name).write_text(text)
    return root


def build(tmp_path: Path) -> Index:
    return index(corpus(tmp_path / "docs"), tmp_path / "idx", HashingEmbedder(64), progress=False)


def test_index_builds_and_searches(tmp_path: Path) -> None:
    idx = build(tmp_path)
    assert idx.report is not None and idx.report.files_added == sorted(TEXTS)
    assert len(idx) == 3
    hits = idx.search("what do cats eat", k=2)
    assert hits[0].source == "cats.txt"
    assert len(hits) == 2 and hits[0].score is not None and hits[0].score >= (hits[1].score or 0)
    assert [d.source for d in idx.search("cats", k=3, filter={"extension": ".md"})] == [
        "rockets.md"
    ]
    assert "chunks=3" in repr(idx)


def test_as_retriever_is_a_runnable(tmp_path: Path) -> None:
    idx = build(tmp_path)
    docs = idx.as_retriever(k=1).invoke("rockets reach orbit")
    assert [d.source for d in docs] == ["rockets.md"]
    mmr = idx.as_retriever(k=2, search_type="mmr", fetch_k=3)
    assert len(mmr.invoke("bread flour")) == 2
    with pytest.raises(UsageError, match="search_type"):
        idx.as_retriever(search_type="fuzzy")


def test_open_rebuilds_the_embedder_and_checks_it(tmp_path: Path) -> None:
    build(tmp_path)
    opened = Index.open(tmp_path / "idx")
    assert opened.embedder.model_id == "hashing-64" and opened.report is None
    assert opened.search("flour and yeast", k=1)[0].source == "bread.txt"
    with pytest.raises(UsageError, match="Re-index into a new folder"):
        Index.open(tmp_path / "idx", HashingEmbedder(128))
    with pytest.raises(UsageError, match="no index in"):
        Index.open(tmp_path / "nothing")


def test_open_needs_an_embedder_that_cannot_be_rebuilt(tmp_path: Path) -> None:
    class Plain:  # an embedder without a spec
        model_id, dimension = "plain-8", 8

        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            return HashingEmbedder(8).embed_batch(texts)

    index(corpus(tmp_path / "docs"), tmp_path / "idx", Plain(), progress=False)
    with pytest.raises(UsageError, match="pass it"):
        Index.open(tmp_path / "idx")
    assert len(Index.open(tmp_path / "idx", Plain())) == 3


def test_default_index_dir_is_keyed_by_paths_and_embedder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path / "cache"))
    docs = corpus(tmp_path / "my docs")
    first = index(docs, embedder=HashingEmbedder(64), progress=False)
    assert first.index_dir.parent == tmp_path / "cache" / "indexes"
    assert first.index_dir.name.startswith("my-docs-")
    again = index(str(docs), embedder=HashingEmbedder(64), progress=False)
    assert again.index_dir == first.index_dir
    assert again.report is not None and again.report.files_unchanged == sorted(TEXTS)
    assert default_index_dir(docs, HashingEmbedder(32)) != first.index_dir
    assert default_index_dir([docs, tmp_path], HashingEmbedder(64)) != first.index_dir
    with pytest.raises(UsageError, match="at least one"):
        default_index_dir([], HashingEmbedder(64))


def test_query_answers_with_sources(tmp_path: Path) -> None:
    idx = build(tmp_path)
    llm = FakeListModel(["Cats eat fish."])
    out = idx.query("What do cats eat?", llm, k=1)
    assert out["result"] == "Cats eat fish."
    assert [s["source"] for s in out["sources"]] == ["cats.txt"]
    assert out["sources"][0]["id"].startswith("cats.txt#")
    prompt = str(llm.calls[0])
    assert "Cats eat fish and sleep" in prompt and "What do cats eat?" in prompt


def test_query_without_a_model_is_answered_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-liner ``index(...).query("...")``: ``auto`` finds no Ollama (a closed port)
    and no AGENTKIT_MODEL, so the extractive reader answers from the documents."""
    monkeypatch.setenv("AGENTKIT_OLLAMA_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AGENTKIT_MODEL", raising=False)
    idx = build(tmp_path)
    out = idx.query("What do cats eat?", k=1)
    assert "Cats eat fish" in out["result"]
    assert [s["source"] for s in out["sources"]] == ["cats.txt"]
    fake = idx.query("What do cats eat?", "fake", k=1)  # a spec string works too
    assert fake["result"] and fake["sources"][0]["source"] == "cats.txt"
    with pytest.raises(UsageError, match="unknown model spec"):
        idx.query("What do cats eat?", "nonsense:model")


@pytest.mark.integration
def test_real_minilm_index(tmp_path: Path) -> None:
    from agentkit.retrievers.embeddings import default_embedder

    embedder = default_embedder(cache_dir=tmp_path / "cache")
    idx = index(corpus(tmp_path / "docs"), tmp_path / "idx", embedder, progress=False)
    assert idx.search("spacecraft propulsion", k=1)[0].source == "rockets.md"
    assert idx.search("what do kittens like to eat", k=1)[0].source == "cats.txt"
    assert Index.open(tmp_path / "idx").search("baking", k=1)[0].source == "bread.txt"
