"""Ingestion as users meet it on their own folders: a moved folder, an index folder inside
the folder being indexed, an ``index_dir`` that is a file or someone else's folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor, store_path
from agentkit.retrievers.splitters import RecursiveSplitter
from agentkit.retrievers.vectorstores import FaissStore
from tests.retrievers.test_ingest import CountingEmbedder

PARAS = [f"Paragraph {i} of the notes explains idea number {i} in detail." for i in range(3)]


def ingestor(index_dir: Path, embedder: object = None) -> Ingestor:
    return Ingestor(
        index_dir,
        embedder or HashingEmbedder(64),  # type: ignore[arg-type]
        RecursiveSplitter(chunk_size=70, chunk_overlap=0),
        progress=False,
    )


def corpus(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "notes.txt").write_text("\n\n".join(PARAS))
    (root / "sub" / "guide.md").write_text("# Guide\n\nInstall the package.")
    return root


def sources(index_dir: Path) -> list[str]:
    store = FaissStore.load(store_path(index_dir))
    return sorted(d.source or "" for d in store.get(store.ids()))


def test_moved_folder_is_reindexed_in_place_with_its_vectors(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = tmp_path / "index"
    ingestor(index).ingest(docs)
    before = sources(index)
    shutil.move(docs, tmp_path / "moved")
    embedder = CountingEmbedder(64)
    report = ingestor(index, embedder).ingest(tmp_path / "moved")
    assert embedder.calls == 0  # the same texts: vectors reused
    assert sorted(report.files_added) == ["notes.txt", "sub/guide.md"]
    assert len(report.files_deleted) == 2
    assert sources(index) == before  # each chunk once, none left from the old place
    store = FaissStore.load(store_path(index))
    paths = {d.metadata["path"] for d in store.get(store.ids())}
    assert all(p.startswith(str((tmp_path / "moved").resolve())) for p in paths)
    again = ingestor(index).ingest(tmp_path / "moved")
    assert again.embedded == 0 and len(again.files_unchanged) == 2


def test_a_clash_with_a_file_that_still_exists_is_still_refused(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(docs)
    shutil.copytree(docs, tmp_path / "copy")
    with pytest.raises(UsageError, match="ingest both in one call"):
        ingestor(tmp_path / "index").ingest(tmp_path / "copy")


def test_index_inside_the_ingested_folder_never_indexes_itself(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    index = docs / "index"
    first = ingestor(index).ingest(docs)
    second = ingestor(index).ingest(docs)
    assert sorted(first.files_added) == ["notes.txt", "sub/guide.md"]
    assert second.files_added == second.files_updated == second.files_skipped == []
    assert not any(s.startswith("index/") for s in sources(index))


def test_index_dir_that_is_a_file_is_a_clear_usage_error(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    with pytest.raises(UsageError, match="is a file"):
        ingestor(docs / "notes.txt").ingest(docs)


def test_index_dir_that_holds_other_files_is_refused_untouched(tmp_path: Path) -> None:
    docs = corpus(tmp_path / "docs")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("not an index")
    with pytest.raises(UsageError, match="not an index"):
        ingestor(other).ingest(docs)
    assert sorted(p.name for p in other.iterdir()) == ["keep.txt"]
    with pytest.raises(UsageError, match="not an index"):
        ingestor(docs).ingest(docs)  # the folder itself as the index
    assert not (docs / "index.json").exists() and not (docs / ".lock").exists()
