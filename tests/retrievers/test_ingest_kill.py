"""Killing an ingestion at any moment loses nothing committed; the next run completes it
with every chunk exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.index import Index
from agentkit.retrievers.ingest import Ingestor, IngestReport, store_path
from agentkit.retrievers.ingest.sidecar import is_current
from agentkit.retrievers.splitters import RecursiveSplitter
from agentkit.retrievers.vectorstores import FaissStore

WORKER = Path(__file__).parent / "ingest_worker.py"
FILES, PARAGRAPHS = 200, 3


def write_corpus(root: Path) -> None:
    for i in range(FILES):
        sub = root / f"part{i % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        paragraphs = [
            f"File {i} paragraph {p}: notes on subject {i * 7 + p} for the test."
            for p in range(PARAGRAPHS)
        ]
        (sub / f"doc{i:03d}.txt").write_text("\n\n".join(paragraphs))


def ingest(corpus: Path, index_dir: Path) -> IngestReport:  # the worker's, without sleeping
    splitter = RecursiveSplitter(chunk_size=100, chunk_overlap=0)
    return Ingestor(index_dir, HashingEmbedder(64), splitter, progress=False).ingest(corpus)


@pytest.mark.slow
def test_killed_ingestion_resumes_with_every_chunk_once(tmp_path: Path) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_corpus(corpus)
    committed_marker = store_path(index_dir) / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(corpus), str(index_dir), "0.04"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 25
        while not committed_marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"worker exited early: {proc.communicate()[1].decode()[-2000:]}")
            assert time.monotonic() < deadline, "no commit within 25 s"
            time.sleep(0.01)
        time.sleep(0.15)  # land the kill at an arbitrary point, maybe mid-save
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    partial = FaissStore.load(store_path(index_dir))  # the committed state is loadable
    assert 0 < len(partial) < FILES * PARAGRAPHS
    opened = Index.open(index_dir, HashingEmbedder(64))  # and answerable: BM25 and dense
    assert len(opened.bm25()) == len(partial) and not is_current(index_dir)
    assert opened.retriever(3).invoke("notes on subject 7")

    resumed = ingest(corpus, index_dir)
    assert resumed.files_unchanged and resumed.files_added  # killed midway, then completed
    assert len(resumed.files_unchanged) + len(resumed.files_added) == FILES
    assert resumed.files_updated == [] and resumed.chunks_deleted == 0

    reference = ingest(corpus, tmp_path / "reference")
    assert reference.chunks_added == FILES * PARAGRAPHS
    final = FaissStore.load(store_path(index_dir))
    ids = final.ids()
    assert len(ids) == len(set(ids)) == FILES * PARAGRAPHS
    assert sorted(ids) == sorted(FaissStore.load(store_path(tmp_path / "reference")).ids())
    keys = [(d.metadata["path"], d.metadata["content_hash"]) for d in final.get(ids)]
    assert len(set(keys)) == len(keys)
    again = ingest(corpus, index_dir)
    assert len(again.files_unchanged) == FILES and again.embedded == 0
    assert is_current(index_dir)  # the resumed run saved the sidecar of the whole store
    assert len(Index.open(index_dir, HashingEmbedder(64)).bm25()) == FILES * PARAGRAPHS
