"""The BM25 sidecar is as crash-safe as the rest of the index: an ingestion that fails
between saving the store and the sidecar, or in the middle of the sidecar's own save,
leaves a complete sidecar (old or new); a stale one is detected, readers build BM25 from
the store (writing nothing), and the next ingestion saves a current one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentkit.retrievers import bm25 as bm25_module
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.index import Index
from agentkit.retrievers.ingest import Ingestor, ingestor
from agentkit.retrievers.ingest.sidecar import bm25_path, is_current
from tests.retrievers.test_index_pipeline import snapshot


class PowerCut(Exception):
    pass


def ingest(docs: Path, index_dir: Path) -> Any:
    return Ingestor(index_dir, HashingEmbedder(64), progress=False).ingest(docs)


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "cats.txt").write_text("Cats are small felines that eat fish.")
    return folder


def test_a_crash_between_the_store_and_the_sidecar(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "idx"
    ingest(docs, index_dir)
    (docs / "volcano.txt").write_text("Volcanoes erupt molten lava and ash.")

    def cut(*args: Any) -> None:
        raise PowerCut

    monkeypatch.setattr(ingestor, "sync_bm25", cut)  # dies right after the store commit
    with pytest.raises(PowerCut):
        ingest(docs, index_dir)
    monkeypatch.undo()

    assert not is_current(index_dir)  # the old sidecar is intact but stale: detected
    old = BM25Retriever.load(bm25_path(index_dir))
    assert [d.source for d in old.documents] == ["cats.txt"]
    before = snapshot(index_dir)
    opened = Index.open(index_dir)
    top = opened.retriever(1, "bm25").invoke("molten lava")
    assert [d.source for d in top] == ["volcano.txt"]  # built from the committed store
    assert [d.source for d in opened.retriever(1).invoke("molten lava")] == ["volcano.txt"]
    assert snapshot(index_dir) == before  # reading wrote nothing

    again = ingest(docs, index_dir)  # nothing left to embed, but the sidecar is saved
    assert again.embedded == 0 and is_current(index_dir)
    fresh = Index.open(index_dir).bm25()
    assert fresh.path is not None and len(fresh) == 2


def test_a_crash_in_the_middle_of_the_sidecar_save(
    docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "idx"
    ingest(docs, index_dir)
    (docs / "volcano.txt").write_text("Volcanoes erupt molten lava and ash.")

    def cut(folder: Path) -> None:  # the new generation is written, not yet switched in
        raise PowerCut

    monkeypatch.setattr(bm25_module, "_fsync_tree", cut)
    with pytest.raises(PowerCut):
        ingest(docs, index_dir)
    monkeypatch.undo()

    generations = [p.name for p in bm25_path(index_dir).iterdir() if p.is_dir()]
    assert len(generations) == 1  # the half-written generation is gone; the old one stays
    assert [d.source for d in BM25Retriever.load(bm25_path(index_dir)).documents] == ["cats.txt"]
    assert not is_current(index_dir)
    top = Index.open(index_dir).retriever(1, "bm25").invoke("molten lava")
    assert [d.source for d in top] == ["volcano.txt"]
    ingest(docs, index_dir)
    assert is_current(index_dir)
