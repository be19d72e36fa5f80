"""Documents of an index: uploads (size limit, sanitised names), ingestion with a per-file
report, listing, viewing, deletion and statistics (the app's Documents page).

Uploaded files are saved in the uploads folder under a sanitised name (re-uploading a name
replaces the file, so its chunks are updated) and ingested one at a time with the
:class:`~agentkit.retrievers.ingest.Ingestor`, so a progress bar can follow and each file
gets its own line in the report.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.files import atomic_write_bytes
from agentkit.retrievers.document import Document

UPLOAD_TYPES = ("txt", "md", "markdown", "pdf", "html", "htm", "csv", "tsv", "jsonl")
NAME_CHARS = 100


def safe_filename(name: str) -> str:
    """A file name safe to create in the uploads folder: no folders, no leading dots, only
    letters, digits, ``.``, ``-`` and ``_``, at most 100 characters (extension kept)."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", str(name)))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._-")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:10]
    stem = stem.strip("._-")[: NAME_CHARS - len(ext) - 1] or "upload"
    return f"{stem}.{ext}" if ext else stem


def save_upload(folder: str | Path, name: str, data: bytes, max_bytes: int) -> Path:
    """Write an uploaded file atomically as ``folder/<safe name>``; returns its path."""
    if len(data) > max_bytes:
        raise UsageError(
            f"{name} is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB upload "
            "limit; split it or ingest it with agentkit ingest"
        )
    if not data:
        raise UsageError(f"{name} is empty; upload a file with text in it")
    target = Path(folder) / safe_filename(name)
    atomic_write_bytes(target, data)
    return target


@dataclass(frozen=True)
class FileReport:
    """One file's line in the ingestion report."""

    name: str
    status: str  # added, updated, unchanged, skipped, failed
    chunks: int = 0
    detail: str = ""


def _ingestor(index_dir: Path, embedder: str) -> Any:
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.workspace.indexes import index_embedder

    return Ingestor(index_dir, index_embedder(index_dir, embedder), progress=False)


def ingest_files(
    index_dir: str | Path,
    paths: Sequence[str | Path],
    embedder: str = "default",
    on_progress: Callable[[int, int, str], None] | None = None,
) -> list[FileReport]:
    """Ingest ``paths`` one by one into the index (created with ``embedder`` if new);
    ``on_progress(done, total, name)`` is called after each file."""
    folder = Path(index_dir)
    ingestor = _ingestor(folder, embedder)
    reports = []
    for done, path in enumerate(paths, 1):
        name = Path(path).name
        try:
            report = ingestor.ingest([path])
        except UsageError as exc:
            reports.append(FileReport(name, "failed", detail=str(exc)))
        else:
            chunks = report.chunks_added + report.chunks_updated
            if report.files_skipped:
                status, detail = "skipped", report.files_skipped[0][1]
            elif report.files_added:
                status, detail = "added", ""
            elif report.files_updated:
                status, detail = "updated", ""
            else:
                status, detail, chunks = "unchanged", "", report.chunks_unchanged
            notes = "; ".join(note for _, note in report.notes)
            reports.append(
                FileReport(name, status, chunks, "; ".join(filter(None, [detail, notes])))
            )
        if on_progress is not None:
            on_progress(done, len(paths), name)
    return reports


@dataclass(frozen=True)
class DocumentInfo:
    """A document of the index: its source, file path, chunk count and size."""

    source: str
    path: str
    chunks: int
    characters: int


def _chunks(index_dir: Path) -> list[Document]:
    from agentkit.workspace.indexes import open_index

    store = open_index(index_dir).store
    return store.get(store.ids())


def _source(doc: Document) -> str:
    return str(doc.source or doc.metadata.get("path") or doc.id)


def list_documents(index_dir: str | Path) -> list[DocumentInfo]:
    """The documents of the index, by source."""
    grouped: dict[str, list[Document]] = {}
    for doc in _chunks(Path(index_dir)):
        grouped.setdefault(_source(doc), []).append(doc)
    return [
        DocumentInfo(
            source,
            str(docs[0].metadata.get("path", "")),
            len(docs),
            sum(len(d.text) for d in docs),
        )
        for source, docs in sorted(grouped.items())
    ]


def document_chunks(index_dir: str | Path, source: str) -> list[Document]:
    """The chunks of one document, in order."""
    docs = [d for d in _chunks(Path(index_dir)) if _source(d) == source]
    return sorted(docs, key=lambda d: (d.chunk is None, d.chunk or 0))


@contextlib.contextmanager
def _index_lock(index_dir: Path) -> Iterator[None]:
    """The ingestion lock of the index folder (no ingestion runs while we write)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise UsageError(f"an ingestion is writing to {index_dir}; try again when done") from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def delete_document(index_dir: str | Path, source: str, uploads: str | Path | None = None) -> int:
    """Delete a document's chunks from the index (and its uploaded file, when it lies in
    ``uploads``); returns how many chunks were deleted."""
    from agentkit.retrievers.ingest import store_path
    from agentkit.retrievers.ingest.sidecar import sync_bm25
    from agentkit.workspace.indexes import open_index

    folder = Path(index_dir)
    with _index_lock(folder):
        store = open_index(folder).store
        chunks = [d for d in store.get(store.ids()) if _source(d) == source]
        if not chunks:
            raise UsageError(f"no document {source!r} in {folder}; pick one from the list")
        removed = store.delete([d.id for d in chunks])
        store.save(str(store_path(folder)))
        sync_bm25(folder, store)
    path = Path(str(chunks[0].metadata.get("path", "")))
    if uploads is not None and path.is_file() and path.resolve().parent == Path(uploads).resolve():
        path.unlink()
    return removed


def index_stats(index_dir: str | Path) -> dict[str, Any]:
    """Chunks, documents, characters, embedder, store class and size on disk."""
    from agentkit.workspace.indexes import open_index

    folder = Path(index_dir)
    index = open_index(folder)
    docs = index.store.get(index.store.ids())
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {
        "chunks": len(docs),
        "documents": len({_source(d) for d in docs}),
        "characters": sum(len(d.text) for d in docs),
        "embedder": index.embedder.model_id,
        "dimension": index.embedder.dimension,
        "store": type(index.store).__name__,
        "bytes_on_disk": size,
    }
