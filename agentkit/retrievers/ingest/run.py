"""One ingestion run: what the store holds per file, and the work still to commit.

Every change goes to the in-memory store at once, except new chunk texts, which wait in a
queue to be embedded in batches; :meth:`IngestRun.commit` embeds the queue and saves. Only
whole files are ever committed, so the saved store is always consistent.

Embedding is pipelined: a full queue is handed to one background thread and the caller goes
on loading and splitting the next files; the vectors of a batch are stored (on the caller's
thread) while the next batch embeds. :meth:`IngestRun.commit` waits for every batch before
it saves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Embedder, VectorStore
from agentkit.retrievers.document import Document
from agentkit.retrievers.ingest.prepare import Prepared
from agentkit.retrievers.ingest.report import IngestReport
from agentkit.retrievers.loaders import DirectoryLoader
from agentkit.retrievers.splitters import Splitter

if TYPE_CHECKING:
    import numpy as np

Stored = tuple[dict[str, Any], str | None, int | None]  # metadata, source, chunk


@dataclass
class Batch:
    """Chunks handed to the embedding thread, and the vectors it will return."""

    chunks: list[Document]
    hashes: set[str]
    vectors: Future[np.ndarray]


@dataclass
class IndexedFile:
    """What the store holds for one file (``path``)."""

    source: str | None
    file_hash: str
    pipeline: str
    chunks: dict[str, Stored]


class IngestRun:
    """The state of one :meth:`Ingestor.ingest` call over a loaded store."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        splitter: Splitter,
        report: IngestReport,
        pipeline: str,
        batch_size: int,
        on_commit: Callable[[], None],
    ) -> None:
        self.store, self.embedder, self.splitter = store, embedder, splitter
        self.report, self.pipeline, self.batch_size = report, pipeline, batch_size
        self.on_commit = on_commit
        self.files: dict[str, IndexedFile] = {}
        self.owner: dict[str, str] = {}  # chunk id -> path of the file it belongs to
        self.by_hash: dict[str, str] = {}  # content hash -> id of a stored chunk with it
        self.queue: list[Document] = []
        self.inflight: Batch | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.moved: set[str] = set()  # paths of vanished files whose source moved elsewhere
        self.dirty = False
        self.since_commit, self.last_commit = 0, time.monotonic()
        self.fetch = vector_reader(store)
        self._read_store()

    def _read_store(self) -> None:
        for doc in self.store.get(self.store.ids()):
            meta = doc.metadata
            if isinstance(meta.get("content_hash"), str):
                self.by_hash.setdefault(meta["content_hash"], doc.id)
            path = meta.get("path")
            if not isinstance(path, str):
                continue  # not added by ingestion: never touched
            file_hash, pipeline = str(meta.get("file_hash", "")), str(meta.get("pipeline", ""))
            source = meta.get("file_source")  # a table's rows have sources of their own
            source = source if isinstance(source, str) else doc.source
            known = self.files.setdefault(path, IndexedFile(source, file_hash, pipeline, {}))
            if (known.file_hash, known.pipeline) != (file_hash, pipeline):
                known.file_hash = ""  # inconsistent: process the file again
            known.chunks[doc.id] = (meta, doc.source, doc.chunk)
            self.owner[doc.id] = path

    def check_sources(self, files: Iterable[tuple[Path, str, DirectoryLoader]]) -> None:
        """A source (hence chunk ids) must not belong to two files. A file that took over
        the source of one that no longer exists was moved (a renamed or moved folder): the
        old file is deleted at the end (:meth:`delete_vanished`), its vectors reused."""
        selected = {str(path): source for path, source, _ in files}
        holder = {f.source: path for path, f in self.files.items()}
        for path, source in selected.items():
            other = holder.get(source)
            if other is None or other == path or other in selected:
                continue
            if Path(other).exists():
                raise UsageError(
                    f"{path} would be indexed as {source!r}, which already names {other} from "
                    "an earlier ingestion with other paths; ingest both in one call "
                    "(ingest([folder1, folder2])) or use a separate index_dir"
                )
            self.moved.add(other)

    def stored_hash(self, path: Path, source: str) -> str | None:
        """The file hash stored for ``path`` as ``source`` by this pipeline: a file whose
        bytes still hash to it is unchanged (``None``: nothing comparable is stored)."""
        old = self.files.get(str(path))
        if old is None or (old.pipeline, old.source) != (self.pipeline, source):
            return None
        return old.file_hash

    def apply(self, path: Path, source: str, prepared: Prepared) -> None:
        """Bring the store in step with one file read by :func:`prepare_file`."""
        key, report = str(path), self.report
        self.since_commit += 1
        old = self.files.get(key)
        if prepared.skipped is not None:
            self.skip(path, source, prepared.skipped)
            return
        if prepared.chunks is None:
            assert old is not None
            report.files_unchanged.append(source)
            report.chunks_unchanged += len(old.chunks)
            return
        if prepared.note:
            report.notes.append((source, prepared.note))
        chunks, file_hash = prepared.chunks, prepared.file_hash
        for chunk in chunks:
            chunk.metadata.update(
                path=key, file_hash=file_hash, content_hash=chunk.hash, pipeline=self.pipeline
            )
        self._apply(key, old, chunks)
        (report.files_updated if old is not None else report.files_added).append(source)
        self.files[key] = IndexedFile(
            source,
            file_hash,
            self.pipeline,
            {c.id: (c.metadata, c.source, c.chunk) for c in chunks},
        )

    def skip(self, path: Path, source: str, reason: str) -> None:
        """Report a file as skipped; chunks it had from an earlier run are deleted (the
        index mirrors what can be read now)."""
        key = str(path)
        self.report.files_skipped.append((source, reason))
        old = self.files.pop(key, None)
        if old is not None:
            self._delete(list(old.chunks), old, key)

    def _apply(self, key: str, old: IndexedFile | None, chunks: list[Document]) -> None:
        previous = old.chunks if old is not None else {}
        reuse: list[Document] = []
        reuse_from: list[str] = []
        for chunk in chunks:
            before = previous.get(chunk.id)
            if (
                before == (chunk.metadata, chunk.source, chunk.chunk)
                and self.owner.get(chunk.id) == key
            ):
                self.report.chunks_unchanged += 1
                continue
            if before is not None:
                self.report.chunks_updated += 1
            else:
                self.report.chunks_added += 1
            self.owner[chunk.id] = key
            stored = self.by_hash.get(chunk.metadata["content_hash"])
            if stored is not None and self.fetch is not None:
                reuse.append(chunk)  # same text stored already: reuse its vector
                reuse_from.append(stored)
            else:
                self.queue.append(chunk)
        if reuse:
            assert self.fetch is not None
            self._store(reuse, self.fetch(reuse_from))
        new_ids = {chunk.id for chunk in chunks}
        if old is not None:
            self._delete([i for i in previous if i not in new_ids], old, key)
        if len(self.queue) >= self.batch_size:
            self.flush(wait=False)

    def _store(self, chunks: list[Document], vectors: np.ndarray) -> None:
        self.store.upsert(chunks, vectors)
        for chunk in chunks:
            self.by_hash[chunk.metadata["content_hash"]] = chunk.id
        self.dirty = True

    def _delete(self, ids: list[str], indexed: IndexedFile, key: str) -> None:
        owned = [i for i in ids if self.owner.get(i) == key]
        if not owned:
            return
        self.report.chunks_deleted += self.store.delete(owned)
        for chunk_id in owned:
            del self.owner[chunk_id]
            content_hash = indexed.chunks[chunk_id][0].get("content_hash")
            if self.by_hash.get(content_hash) == chunk_id:  # type: ignore[arg-type]
                del self.by_hash[content_hash]  # type: ignore[arg-type]
        self.dirty = True

    def flush(self, wait: bool = True) -> None:
        """Hand the queued chunks to the embedding thread and store the batch before
        (while this one embeds); with ``wait``, also wait for this one and store it."""
        while True:
            queue, self.queue = self.queue, []
            previous, self.inflight = self.inflight, None
            busy = previous.hashes if previous is not None else set()
            later = [c for c in queue if c.metadata["content_hash"] in busy]
            fresh = [c for c in queue if c.metadata["content_hash"] not in busy]
            if fresh:
                self.inflight = self._submit(fresh)
            if previous is not None:
                self._finish(previous)
            if later:  # texts the previous batch embedded: reuse its vectors
                self._apply_reuse(later)
            if not wait or (self.inflight is None and not self.queue):
                return

    def _apply_reuse(self, chunks: list[Document]) -> None:
        stored = [self.by_hash.get(c.metadata["content_hash"]) for c in chunks]
        if self.fetch is None or any(s is None for s in stored):
            self.queue.extend(chunks)
            return
        self._store(chunks, self.fetch([s for s in stored if s is not None]))

    def _submit(self, chunks: list[Document]) -> Batch:
        texts = {c.metadata["content_hash"]: c.text for c in chunks}
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-embed")
        vectors = self._pool.submit(self._embed, list(texts.values()))
        return Batch(chunks, set(texts), vectors)

    def _embed(self, texts: list[str]) -> np.ndarray:
        """The vectors of ``texts`` (distinct), in ``batch_size`` calls (embedding thread)."""
        import numpy as np

        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vectors = np.asarray(self.embedder.embed_batch(batch))
            if vectors.shape != (len(batch), self.embedder.dimension):
                raise UsageError(
                    f"embedder {self.embedder.model_id!r} returned shape {vectors.shape} for "
                    f"{len(batch)} texts; expected ({len(batch)}, {self.embedder.dimension})"
                )
            parts.append(vectors.astype(np.float32, copy=False))
        return np.concatenate(parts)

    def _finish(self, batch: Batch) -> None:
        """Store the vectors of ``batch`` (an embedding error is raised here)."""
        vectors = batch.vectors.result()
        hashes = dict.fromkeys(c.metadata["content_hash"] for c in batch.chunks)
        row = {h: i for i, h in enumerate(hashes)}
        picks = [row[c.metadata["content_hash"]] for c in batch.chunks]
        self._store(batch.chunks, vectors[picks])
        self.report.embedded += len(row)

    def delete_vanished(self, roots: list[Path], selected: set[str]) -> None:
        """Delete the chunks of files under ``roots`` that no longer exist, and of the
        moved files found by :meth:`check_sources` (listed by their old path)."""
        for key, indexed in list(self.files.items()):
            path = Path(key)
            moved = key in self.moved
            if key in selected or not (moved or any(path.is_relative_to(r) for r in roots)):
                continue
            if path.exists():
                continue  # still there, only not selected this time: kept
            self._delete(list(indexed.chunks), indexed, key)
            self.report.files_deleted.append(key if moved else indexed.source or key)
            del self.files[key]

    def due(self, every: int, seconds: float) -> bool:
        return self.since_commit >= every or time.monotonic() - self.last_commit >= seconds

    def commit(self) -> None:
        """Embed what is queued, wait for every batch, and save the store (only when
        something changed): a saved store holds whole files only."""
        self.flush(wait=True)
        if self._pool is not None:  # idle now: a later flush starts another
            self._pool.shutdown(wait=False)
            self._pool = None
        if self.dirty:
            self.on_commit()
            self.report.commits += 1
            self.dirty = False
        self.since_commit, self.last_commit = 0, time.monotonic()


def vector_reader(store: VectorStore) -> Callable[[Sequence[str]], np.ndarray] | None:
    """How to read stored vectors back by id, so unchanged texts are never re-embedded: the
    store's ``vectors(ids)`` method, or for agentkit's stores their index reconstruction;
    ``None`` (re-embed instead) for other stores."""
    public = getattr(store, "vectors", None)
    if callable(public):
        return public
    from agentkit.retrievers.vectorstores.common import BaseVectorStore

    if not isinstance(store, BaseVectorStore):
        return None
    own = store

    def read(ids: Sequence[str]) -> np.ndarray:
        found = own._docs.iids_of(list(ids))
        return own._vectors([found[i] for i in ids])

    return read
