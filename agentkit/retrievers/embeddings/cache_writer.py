"""Writing embedding-cache rows off the caller's path, in large transactions.

One :class:`CacheWriter` per cache file and process (:func:`writer_for`), shared by every
:class:`~agentkit.retrievers.embeddings.cached.CachedEmbedder` on that file. Rows wait in
memory (where lookups see them) until ``batch_rows`` have gathered or ``delay_s`` has passed,
then a background thread writes them in one transaction. :meth:`CacheWriter.flush` waits for
the writes; the process flushes at exit. A process killed first loses only cache rows not
yet written, which are embedded again when next needed.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import warnings
from pathlib import Path

Key = tuple[str, bytes]  # model id, content hash

BATCH_ROWS = 2048
DELAY_S = 1.0


class CacheWriter:
    """Buffers ``(model_id, hash) -> vector bytes`` rows and writes them to ``path``."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path, self.schema = path, schema
        self.pending: dict[Key, bytes] = {}
        self.writing = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, rows: dict[Key, bytes]) -> None:
        with self._cond:
            self.pending.update(rows)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"embedding-cache-writer:{self.path.name}", daemon=True
                )
                self._thread.start()
            if len(self.pending) >= BATCH_ROWS:
                self._cond.notify_all()

    def get(self, keys: list[Key]) -> dict[Key, bytes]:
        """The rows of ``keys`` still waiting to be written."""
        with self._cond:
            pending = self.pending
            return {key: pending[key] for key in keys if key in pending}

    def flush(self) -> None:
        """Write everything pending now and wait until it is on disk."""
        with self._cond:
            if self._thread is None:
                return
            while (self.pending or self.writing) and self._thread.is_alive():
                self._cond.notify_all()
                self._cond.wait(timeout=0.5)

    def _run(self) -> None:
        conn = None
        while True:
            with self._cond:
                while not self.pending:
                    self._cond.wait()
                if len(self.pending) < BATCH_ROWS:
                    self._cond.wait(timeout=DELAY_S)  # gather more, unless flushed
                batch = dict(self.pending)
                self.writing = True
            try:
                if conn is None:
                    conn = self._connect()
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                        [(model_id, key, blob) for (model_id, key), blob in batch.items()],
                    )
            except sqlite3.Error as e:  # a cache: warn, drop the rows, keep going
                warnings.warn(f"embedding cache {self.path}: could not write: {e}", stacklevel=1)
                conn = None
            finally:
                with self._cond:
                    for key, blob in batch.items():
                        if self.pending.get(key) is blob:
                            del self.pending[key]
                    self.writing = False
                    self._cond.notify_all()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(self.schema)
        conn.commit()
        return conn


_WRITERS: dict[Path, CacheWriter] = {}
_LOCK = threading.Lock()


def writer_for(path: Path, schema: str) -> CacheWriter:
    """The process's writer for the cache file ``path``."""
    key = path.expanduser().absolute()
    with _LOCK:
        if key not in _WRITERS:
            _WRITERS[key] = CacheWriter(key, schema)
        return _WRITERS[key]


@atexit.register
def flush_all() -> None:
    """Write every pending row of every cache file (run at interpreter exit)."""
    with _LOCK:
        writers = list(_WRITERS.values())
    for writer in writers:
        writer.flush()
