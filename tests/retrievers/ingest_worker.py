"""Ingestion in a subprocess for the kill test: a slow embedder and frequent commits.

Usage: python ingest_worker.py CORPUS INDEX_DIR DELAY_SECONDS
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import numpy as np

from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor
from agentkit.retrievers.splitters import RecursiveSplitter

SPLITTER = RecursiveSplitter(chunk_size=100, chunk_overlap=0)


class SlowEmbedder:
    """HashingEmbedder(64) that sleeps before each batch (same model id and vectors)."""

    def __init__(self, delay: float) -> None:
        self.inner = HashingEmbedder(64)
        self.delay = delay

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.delay)
        return self.inner.embed_batch(texts)


def main() -> None:
    corpus, index_dir, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    ingestor = Ingestor(
        index_dir, SlowEmbedder(delay), SPLITTER, commit_every=10, batch_size=8, progress=False
    )
    print(ingestor.ingest(corpus), flush=True)


if __name__ == "__main__":
    main()
