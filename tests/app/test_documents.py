"""Uploads are size-limited and safely named; ingestion reports per file; documents can be
listed, viewed, deleted; the hybrid retriever follows the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.ingest.sidecar import is_current
from agentkit.workspace.documents import (
    delete_document,
    document_chunks,
    index_stats,
    ingest_files,
    list_documents,
    safe_filename,
    save_upload,
)
from agentkit.workspace.indexes import is_index, make_embedder, open_index

AMAZON = b"# Amazon\n\nThe Amazon rainforest covers most of the Amazon basin of South America."
PLAGUE = b"# Plague\n\nThe Black Death was a bubonic plague pandemic in Europe from 1346."


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\notes.md", "notes.md"),
        (".hidden.txt", "hidden.txt"),
        ("weird name (1)!.md", "weird_name_1.md"),
        ("..", "upload"),
        ("\uff46\uff55\uff4c\uff4c.txt", "full.txt"),  # full-width letters
        ("x" * 300 + ".md", "x" * 97 + ".md"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_save_upload_limits_size_and_stays_in_its_folder(tmp_path: Path) -> None:
    path = save_upload(tmp_path / "up", "../../escape.md", AMAZON, max_bytes=1000)
    assert path == tmp_path / "up" / "escape.md" and path.read_bytes() == AMAZON
    with pytest.raises(UsageError, match=r"over the .* upload limit"):
        save_upload(tmp_path / "up", "big.md", b"x" * 2000, max_bytes=1000)
    with pytest.raises(UsageError, match="is empty"):
        save_upload(tmp_path / "up", "empty.md", b"", max_bytes=1000)
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["escape.md"]


def test_ingest_list_view_delete_and_stats(tmp_path: Path) -> None:
    uploads, index = tmp_path / "up", tmp_path / "index"
    files = [
        save_upload(uploads, "amazon.md", AMAZON, 10_000),
        save_upload(uploads, "plague.md", PLAGUE, 10_000),
        save_upload(uploads, "blob.txt", b"\x00\x01\x02binary", 10_000),
    ]
    seen: list[tuple[int, int, str]] = []
    reports = ingest_files(index, files, "hashing", lambda d, t, n: seen.append((d, t, n)))
    assert [(r.name, r.status) for r in reports] == [
        ("amazon.md", "added"),
        ("plague.md", "added"),
        ("blob.txt", "skipped"),
    ]
    assert "binary" in reports[2].detail
    assert seen == [(1, 3, "amazon.md"), (2, 3, "plague.md"), (3, 3, "blob.txt")]
    assert is_index(index)
    again = ingest_files(index, files[:1], "hashing")
    assert again[0].status == "unchanged" and again[0].chunks >= 1
    docs = list_documents(index)
    assert [d.source for d in docs] == ["amazon.md", "plague.md"]
    assert docs[0].chunks >= 1 and docs[0].characters > 20
    assert "rainforest" in document_chunks(index, "amazon.md")[0].text
    stats = index_stats(index)
    assert stats["documents"] == 2 and stats["embedder"] == "hashing-256"
    retriever = open_index(index).retriever(k=1)
    assert retriever.invoke("bubonic plague pandemic")[0].source == "plague.md"
    assert delete_document(index, "plague.md", uploads) >= 1
    assert [d.source for d in list_documents(index)] == ["amazon.md"]
    assert not (uploads / "plague.md").exists()
    assert is_current(index)  # the deletion saved the BM25 sidecar too
    retriever = open_index(index).retriever(k=1)
    assert retriever.invoke("bubonic plague pandemic")[0].source == "amazon.md"
    with pytest.raises(UsageError, match=r"no document 'gone\.md'"):
        delete_document(index, "gone.md")


def test_missing_or_empty_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="agentkit ingest"):
        open_index(tmp_path / "nothing")
    with pytest.raises(UsageError, match="unknown embedder"):
        make_embedder("word2vec")


def test_bm25_follows_chunks_that_change_but_keep_their_ids(tmp_path: Path) -> None:
    uploads, index = tmp_path / "up", tmp_path / "index"
    ingest_files(index, [save_upload(uploads, "plague.md", PLAGUE, 10_000)], "hashing")
    assert is_current(index)
    opened = open_index(index)
    [doc] = opened.store.get(opened.store.ids()[:1])
    doc.metadata["title"] = "Retitled"
    opened.store.upsert([doc], opened.embedder.embed_batch([doc.text]))
    opened.store.save(opened.index_dir / "store")  # a store saved without its sidecar
    assert not is_current(index)
    hit = open_index(index).retriever(k=1).invoke("bubonic plague pandemic")[0]
    assert hit.metadata["title"] == "Retitled"  # BM25 built from the store, in memory
    assert not is_current(index)  # ... and nothing written by reading
