"""An index owns its BM25 sidecar and one question-answering pipeline (``qa_chain``):
hybrid, dense or BM25 retrieval, the reader sharing the index's embedder; reading an index
(with or without a current sidecar) never writes to its folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms.fake import FakeListModel
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.hybrid import HybridRetriever
from agentkit.retrievers.index import Index, index
from agentkit.retrievers.ingest.sidecar import bm25_path, is_current
from agentkit.retrievers.vector import VectorRetriever
from tests.retrievers.test_index import corpus


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def built(tmp_path: Path) -> Index:
    return index(corpus(tmp_path / "docs"), tmp_path / "idx", HashingEmbedder(64), progress=False)


def test_ingest_saves_a_current_sidecar_and_open_loads_it(built: Index) -> None:
    assert is_current(built.index_dir)
    opened = Index.open(built.index_dir)
    bm25 = opened.bm25(k=2)
    assert bm25.path == str(bm25_path(built.index_dir)) and len(bm25) == 3
    assert [d.source for d in bm25.invoke("liquid fuel orbit")][:1] == ["rockets.md"]


def test_retrieval_modes(built: Index) -> None:
    hybrid = built.retriever(k=2)
    assert isinstance(hybrid, HybridRetriever) and hybrid.k == 2
    assert isinstance(built.retriever(2, "dense"), VectorRetriever)
    assert isinstance(built.retriever(2, "bm25"), BM25Retriever)
    for mode in ("hybrid", "dense", "bm25"):
        top = built.retriever(1, mode).invoke("What do cats eat?")
        assert [d.source for d in top] == ["cats.txt"], mode
    with pytest.raises(UsageError, match="unknown retrieval 'fuzzy'; use one of hybrid"):
        built.retriever(2, "fuzzy")


def test_query_is_the_qa_chain(built: Index) -> None:
    llm = FakeListModel(["Fish."])
    out = built.query("What do cats eat?", llm, k=2)
    assert out["result"] == "Fish." and out["sources"][0]["source"] == "cats.txt"
    again = built.qa_chain(FakeListModel(["Fish."]), k=2).invoke({"query": "What do cats eat?"})
    assert again == out
    dense = built.query("What do cats eat?", FakeListModel(["x"]), k=1, retrieval="dense")
    assert [d.source for d in dense["retrieved_documents"]] == ["cats.txt"]


def test_the_offline_reader_shares_the_index_embedder(built: Index) -> None:
    reader = built.reader("extractive")
    assert reader.embedder is built.embedder
    model = FakeListModel(["x"])
    assert built.reader(model) is model  # a model object is used as given
    for bad in (None, 3, {"model": "x"}):
        with pytest.raises(UsageError, match="llm must be a chat model or a model spec"):
            built.qa_chain(bad)
    assert built.qa_chain("extractive").llm.embedder is built.embedder
    answer = built.query("What do cats eat?", "extractive", k=2)["result"]
    assert answer == "Cats eat fish and sleep most of the day."


def test_an_index_without_a_sidecar_is_read_without_writing(built: Index) -> None:
    """An index from before sidecars (or whose sidecar was lost): BM25 is built in memory,
    the folder stays as it was; the next ingestion saves the sidecar."""
    shutil.rmtree(bm25_path(built.index_dir))
    before = snapshot(built.index_dir)
    opened = Index.open(built.index_dir)
    assert [d.source for d in opened.retriever(1, "bm25").invoke("flour yeast")] == ["bread.txt"]
    assert opened.query("What is bread made of?", "extractive", k=1)["result"].startswith("Bread")
    assert snapshot(built.index_dir) == before
    index(built.index_dir.parent / "docs", built.index_dir, HashingEmbedder(64), progress=False)
    assert is_current(built.index_dir)


@pytest.mark.parametrize(
    "pointer", ["../../../etc", "gen-../../x", "/etc/passwd", "", "gen-missing\n"]
)
def test_a_tampered_sidecar_pointer_is_ignored(built: Index, pointer: str) -> None:
    (bm25_path(built.index_dir) / "CURRENT").write_text(pointer)
    assert not is_current(built.index_dir)
    top = Index.open(built.index_dir).retriever(1, "bm25").invoke("liquid fuel")
    assert [d.source for d in top] == ["rockets.md"]  # built from the store instead


def test_a_sidecar_of_another_store_is_not_used(built: Index, tmp_path: Path) -> None:
    other = Index.from_documents(
        [Document("Quantum chromodynamics of gluons.", id="q")], tmp_path / "other", built.embedder
    )
    shutil.rmtree(bm25_path(built.index_dir))
    shutil.copytree(bm25_path(other.index_dir), bm25_path(built.index_dir))
    assert not is_current(built.index_dir)
    assert Index.open(built.index_dir).retriever(1, "bm25").invoke("gluons") == []


def test_an_empty_index_says_how_to_fill_it(tmp_path: Path) -> None:
    empty = Index.from_documents([], tmp_path / "empty", HashingEmbedder(64))
    assert is_current(empty.index_dir)
    with pytest.raises(UsageError, match="is empty; add documents with agentkit ingest"):
        empty.qa_chain("extractive")


def test_from_documents_refuses_an_existing_folder(built: Index) -> None:
    with pytest.raises(UsageError, match=r"exists; open it with Index\.open"):
        Index.from_documents([], built.index_dir, HashingEmbedder(64))
