"""The BM25 sidecar of an index folder: keyword retrieval over the chunks of ``store/``.

Ingestion saves it in ``<index>/bm25`` after its last commit (:func:`sync_bm25`), stamped
with a digest of the committed store's documents (:func:`store_stamp`). Both saves are
atomic, but they are two saves: a run stopped between them leaves the old sidecar, whose
stamp no longer matches the store. A reader (:func:`open_bm25`) then builds the index in
memory from the store and writes nothing; the next ingestion saves a fresh sidecar. An
index built before sidecars existed is read the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from agentkit.retrievers.ingest.manifest import store_path

if TYPE_CHECKING:
    from agentkit.retrievers.base import VectorStore
    from agentkit.retrievers.bm25 import BM25Retriever

BM25_DIR = "bm25"
LEGACY_STAMP = "bm25.json"  # the stamp file of the app's former BM25 cache
FORMAT = 1
# agentkit's stores keep documents (texts and metadata, all BM25 reads) in these files;
# for another store every file of its folder counts.
DOCUMENT_FILES = ("manifest.json", "docstore.sqlite")


def bm25_path(index_dir: str | Path) -> Path:
    return Path(index_dir) / BM25_DIR


def store_stamp(index_dir: str | Path) -> str:
    """A digest of the documents of the committed store (``""`` when none was saved):
    equal stamps mean the same texts, metadata and ids, so the same BM25 index."""
    root = store_path(index_dir)
    if not root.is_dir():
        return ""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    chosen = [p for p in files if p.name in DOCUMENT_FILES]
    if not any(p.name == DOCUMENT_FILES[1] for p in chosen):
        chosen = files
    digest = hashlib.sha256()
    for path in chosen:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def is_current(index_dir: str | Path, stamp: str | None = None) -> bool:
    """Whether the saved sidecar was built from the committed store (whose
    :func:`store_stamp` is ``stamp`` when the caller has it already)."""
    from agentkit.retrievers.bm25 import BM25Retriever

    info = BM25Retriever.saved_info(bm25_path(index_dir))
    if info is None or info.get("format") != FORMAT:
        return False
    stamp = store_stamp(index_dir) if stamp is None else stamp
    return bool(stamp) and info.get("store") == stamp


def build_bm25(store: VectorStore, k: int = 4) -> BM25Retriever:
    """A BM25 index over every chunk of ``store``, in memory."""
    from agentkit.retrievers.bm25 import BM25Retriever

    return BM25Retriever(store.get(store.ids()), k=k)


def open_bm25(index_dir: str | Path, store: VectorStore, k: int = 4) -> BM25Retriever:
    """The sidecar when it matches the committed store and ``store`` has no unsaved
    changes; else a BM25 index built in memory from ``store``. Never writes."""
    from agentkit.retrievers.bm25 import BM25Retriever

    unsaved = bool(getattr(store, "has_unsaved_changes", False))
    if not unsaved and is_current(index_dir):
        return BM25Retriever.load(bm25_path(index_dir), k=k)
    return build_bm25(store, k)


def sync_bm25(index_dir: str | Path, store: VectorStore) -> bool:
    """Save the sidecar of the committed ``store`` unless the saved one is current (call
    it after saving the store, holding the ingestion lock); returns whether it saved."""
    folder = Path(index_dir)
    (folder / LEGACY_STAMP).unlink(missing_ok=True)
    stamp = store_stamp(folder)
    if not stamp or is_current(folder, stamp):
        return False
    build_bm25(store).save(bm25_path(folder), info={"format": FORMAT, "store": stamp})
    return True
