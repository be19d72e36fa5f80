"""Pipelined ingestion: embedding runs beside loading and splitting, with the same chunk ids
and vectors as one batch at the end, each distinct text embedded once, and errors raised."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor
from agentkit.retrievers.ingest.manifest import read_manifest
from agentkit.retrievers.ingest.run import vector_reader
from agentkit.retrievers.splitters import RecursiveSplitter

SHARED = "This paragraph is repeated word for word in every third file of the corpus."


def corpus(root: Path, files: int = 15) -> Path:
    root.mkdir()
    for i in range(files):
        paras = [f"File {i} paragraph {j} talks about topic {i * 7 + j}." for j in range(3)]
        if i % 3 == 0:
            paras.append(SHARED)
        (root / f"doc{i:02d}.txt").write_text("\n\n".join(paras), encoding="utf-8")
    return root


class Recording:
    """HashingEmbedder that records each call's texts and thread."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(32)
        self.calls: list[list[str]] = []
        self.threads: set[str] = set()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        self.threads.add(threading.current_thread().name)
        return self.inner.embed_batch(texts)


def ingest(folder: Path, index_dir: Path, embedder: object, **options: object) -> Ingestor:
    splitter = RecursiveSplitter(chunk_size=80, chunk_overlap=0)
    ingestor = Ingestor(index_dir, embedder, splitter, progress=False, **options)  # type: ignore[arg-type]
    ingestor.ingest(folder)
    return ingestor


def snapshot(ingestor: Ingestor) -> dict[str, tuple[str, np.ndarray]]:
    store = ingestor.store
    assert store is not None
    ids = sorted(store.ids())
    read = vector_reader(store)
    assert read is not None
    vectors = read(ids)
    return {
        i: (d.text, vectors[n]) for n, (i, d) in enumerate(zip(ids, store.get(ids), strict=True))
    }


def test_pipelined_batches_store_what_one_batch_stores(tmp_path) -> None:
    folder = corpus(tmp_path / "docs")
    small, whole = Recording(), Recording()
    piped = ingest(folder, tmp_path / "piped", small, batch_size=2, commit_every=4)
    single = ingest(folder, tmp_path / "single", whole, batch_size=100_000)
    a, b = snapshot(piped), snapshot(single)
    assert a.keys() == b.keys() and len(a) > 40
    for chunk_id, (text, vector) in a.items():
        assert b[chunk_id][0] == text
        np.testing.assert_array_equal(vector, b[chunk_id][1])
        np.testing.assert_array_equal(vector, HashingEmbedder(32).embed_batch([text])[0])
    embedded = [t for call in small.calls for t in call]
    assert len(embedded) == len(set(embedded))  # each distinct text once, across batches
    assert SHARED in embedded and len(small.calls) > 10
    assert all(name.startswith("ingest-embed") for name in small.threads)
    assert piped.store is not None and len(piped.store) == len(single.store or [])


def test_loading_goes_on_while_a_batch_embeds(tmp_path) -> None:
    folder = corpus(tmp_path / "docs", files=12)
    splits = {"n": 0}
    overlapped = threading.Event()

    class CountingSplitter(RecursiveSplitter):
        def split(self, documents: Sequence[Document]) -> list[Document]:
            splits["n"] += 1
            return super().split(documents)

    class Waiting(Recording):
        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            if not self.calls:  # the first batch waits until more files were split
                seen = splits["n"]
                if _wait_for(lambda: splits["n"] > seen):
                    overlapped.set()
            return super().embed_batch(texts)

    emb = Waiting()
    splitter = CountingSplitter(chunk_size=80, chunk_overlap=0)
    Ingestor(tmp_path / "idx", emb, splitter, progress=False, batch_size=3).ingest(folder)
    assert overlapped.is_set()


def _wait_for(condition: object, limit: float = 20.0) -> bool:
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_an_embedding_error_in_the_thread_is_raised_and_nothing_is_saved(tmp_path) -> None:
    folder = corpus(tmp_path / "docs")

    class Failing(Recording):
        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            if len(self.calls) == 2:
                self.calls.append(list(texts))
                return np.zeros((len(texts), 5), dtype=np.float32)  # wrong dimension
            return super().embed_batch(texts)

    with pytest.raises(UsageError, match="returned shape"):
        ingest(folder, tmp_path / "idx", Failing(), batch_size=2, commit_every=1000)
    assert read_manifest(tmp_path / "idx") is None  # no partial commit
    fixed = ingest(folder, tmp_path / "idx", Recording(), batch_size=2)  # lock released
    assert fixed.store is not None and len(fixed.store) > 40
