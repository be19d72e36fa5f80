"""Open an ingested index folder and search it with the hybrid retriever.

The dense side is the index itself (:class:`~agentkit.retrievers.index.Index`). The BM25
side is built from the chunks in the index's store and saved in ``<index>/bm25``, together
with a fingerprint of the chunk ids (``<index>/bm25.json``); it is rebuilt only when the
index has changed since. Both are fused by
:class:`~agentkit.retrievers.hybrid.HybridRetriever` (the library's defaults).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.files import atomic_write_json

if TYPE_CHECKING:
    from agentkit.retrievers.base import Embedder
    from agentkit.retrievers.hybrid import HybridRetriever
    from agentkit.retrievers.index import Index

BM25_DIR = "bm25"
BM25_STAMP = "bm25.json"


def make_embedder(name: str) -> Embedder:
    """The embedder of a new index: ``default`` (the bundled MiniLM behind the on-disk
    cache) or ``hashing`` (model-free, for tests and quick trials)."""
    if name == "hashing":
        from agentkit.retrievers.embeddings import HashingEmbedder

        return HashingEmbedder()
    if name == "default":
        from agentkit.retrievers.embeddings import default_embedder

        return default_embedder()
    raise UsageError(f"unknown embedder {name!r}; use 'default' (MiniLM) or 'hashing'")


def is_index(folder: str | Path) -> bool:
    """Whether ``folder`` holds an index built by ``agentkit ingest``."""
    from agentkit.retrievers.ingest import MANIFEST

    return (Path(folder) / MANIFEST).is_file()


def open_index(folder: str | Path) -> Index:
    """The index in ``folder``, or a UsageError saying how to build one."""
    from agentkit.retrievers.index import Index

    path = Path(folder).expanduser()
    if not is_index(path):
        raise UsageError(
            f"no index in {path}; build one with: agentkit ingest <files or folders> --index {path}"
        )
    return Index.open(path)


def _fingerprint(ids: list[str], store: Any = None) -> str:
    """The chunk ids and, when the store was saved, the identity of its saved folder: every
    save writes a new folder (an atomic swap), so a change that keeps the ids (a moved file's
    ``path``, a retitled document) still rebuilds BM25, whose documents it serves."""
    parts = sorted(ids)
    saved = getattr(store, "saved_path", None)
    if saved is not None:
        try:
            info = os.stat(saved)
            parts.append(f"store:{info.st_ino}:{info.st_mtime_ns}")
        except OSError:
            pass
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def bm25_for(index: Index, k: int = 4) -> Any:
    """The BM25 retriever over the index's chunks (loaded, or rebuilt when stale)."""
    from agentkit.retrievers.bm25 import BM25Retriever

    ids = index.store.ids()
    stamp_file, folder = index.index_dir / BM25_STAMP, index.index_dir / BM25_DIR
    wanted = _fingerprint(ids, index.store)
    try:
        stamp = json.loads(stamp_file.read_text("utf-8")).get("fingerprint")
    except (OSError, ValueError):
        stamp = None
    if stamp == wanted and (folder / "CURRENT").is_file():
        return BM25Retriever.load(folder, k=k)
    bm25 = BM25Retriever(index.store.get(ids), k=k)
    bm25.save(folder)
    atomic_write_json(stamp_file, {"fingerprint": wanted, "chunks": len(ids)})
    return bm25


def hybrid_retriever(index: Index, k: int = 4) -> HybridRetriever:
    """BM25 + dense retrieval over ``index``, fused; returns ``k`` chunks per query."""
    from agentkit.retrievers.hybrid import HybridRetriever

    if len(index) == 0:
        raise UsageError(
            f"the index in {index.index_dir} is empty; add documents with agentkit ingest "
            f"<files> --index {index.index_dir} (or on the app's Documents page)"
        )
    return HybridRetriever([bm25_for(index, k), index.as_retriever(k)], k=k)
