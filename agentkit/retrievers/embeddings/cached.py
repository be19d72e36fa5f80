""":class:`CachedEmbedder`: an on-disk embedding cache keyed by (model id, content hash).

Vectors are stored as raw float32 bytes in SQLite (WAL mode), never pickled. Only texts
missing from the cache are embedded, in one batch. New rows are written by a background
writer in large transactions (:mod:`~agentkit.retrievers.embeddings.cache_writer`); the
vectors of the last few single-text calls (queries) are kept in memory.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.retrievers.base import BaseEmbedder, Embedder, query_vector
from agentkit.retrievers.embeddings.cache_writer import CacheWriter, writer_for

_CHUNK = 500  # parameters per IN (...) query, below every SQLite build's limit
RECENT = 256  # single-text (query) vectors kept in memory
_SCHEMA = """
CREATE TABLE IF NOT EXISTS embeddings (
    model_id TEXT NOT NULL,
    hash BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model_id, hash)
) WITHOUT ROWID
"""


def default_cache_dir() -> Path:
    """``$AGENTKIT_CACHE_DIR``, else ``~/.cache/agentkit``."""
    env = os.environ.get("AGENTKIT_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "agentkit"


class CachedEmbedder(BaseEmbedder):
    """Wraps an :class:`Embedder` with a persistent cache shared by every instance and process
    using the same ``cache_dir``. ``hits`` counts texts answered from the cache, ``misses``
    the texts that were embedded. Call :meth:`flush` to wait until new rows are on disk
    (the process does it at exit)."""

    def __init__(self, inner: Embedder, cache_dir: str | Path | None = None) -> None:
        if not isinstance(inner, Embedder):
            raise UsageError(
                f"CachedEmbedder wraps an Embedder (model_id, dimension, embed_batch), "
                f"got {type(inner).__name__}"
            )
        self.inner = inner
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.hits = 0
        self.misses = 0
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    @property
    def writer(self) -> CacheWriter:
        return writer_for(self.path, _SCHEMA)

    def flush(self) -> None:
        """Wait until every vector embedded so far is written to the cache file."""
        self.writer.flush()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def path(self) -> Path:
        """The SQLite cache file."""
        return (self.cache_dir or default_cache_dir()) / "embeddings.sqlite"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            conn.commit()
            self._conn = conn
        return self._conn

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise UsageError("embed_batch takes a list of texts; wrap a single text as [text]")
        model_id = self.model_id
        if len(texts) == 1:  # a query: the recent ones are answered from memory
            recent = self._recent.get((model_id, texts[0]))
            if recent is not None:
                with self._lock:
                    self._recent.move_to_end((model_id, texts[0]))
                    self.hits += 1
                return recent[None, :].copy()
        out = self._embed(model_id, texts)
        if len(texts) == 1:
            with self._lock:
                self._recent[(model_id, texts[0])] = out[0].copy()
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return out

    def embed_search_query(self, text: str) -> np.ndarray:
        """A query's vector. When the inner embedder has its own query path (its
        ``query_model_id`` differs from ``model_id``, e.g. int8 query vectors), recent
        queries are kept in memory and never written to the cache file (it holds document
        vectors); otherwise this is the cached document vector."""
        query_id = getattr(self.inner, "query_model_id", self.model_id)
        if query_id == self.model_id:
            return self.embed_batch([text])[0]
        key = (query_id, text)
        with self._lock:
            recent = self._recent.get(key)
            if recent is not None:
                self._recent.move_to_end(key)
                self.hits += 1
                return recent.copy()
        vector = np.asarray(query_vector(self.inner, text), dtype=np.float32)
        with self._lock:
            self.misses += 1
            self._recent[key] = vector.copy()
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return vector

    def _embed(self, model_id: str, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        dim = self.dimension
        with self._lock:
            found = self._lookup(model_id, keys, dim)
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in missing:
                missing[key] = text
        if missing:
            fresh = np.asarray(self.inner.embed_batch(list(missing.values())), dtype=np.float32)
            if fresh.shape != (len(missing), dim):
                raise UsageError(
                    f"embedder {model_id!r} returned shape {fresh.shape} for {len(missing)} "
                    f"texts; expected ({len(missing)}, {dim})"
                )
            self.writer.put({(model_id, key): fresh[i].tobytes() for i, key in enumerate(missing)})
            with self._lock:
                found.update((key, fresh[i]) for i, key in enumerate(missing))
                self.misses += len(missing)
        with self._lock:
            self.hits += len(texts) - len(missing)
        out = np.empty((len(texts), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out

    def _lookup(self, model_id: str, keys: list[bytes], dim: int) -> dict[bytes, np.ndarray]:
        conn = self._connect()
        unique = list(dict.fromkeys(keys))
        found: dict[bytes, np.ndarray] = {}
        waiting = self.writer.get([(model_id, key) for key in unique])
        for (_, key), blob in waiting.items():
            found[key] = np.frombuffer(blob, dtype=np.float32)
        unique = [key for key in unique if key not in found]
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT hash, vector FROM embeddings WHERE model_id = ? AND hash IN ({marks})"
            for key, blob in conn.execute(query, [model_id, *chunk]):
                if len(blob) == 4 * dim:  # a stale row of another dimension is a miss
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, cache_dir={str(self.path.parent)!r})"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "cached_embedder", "inner": spec.dump(self.inner)}
        if self.cache_dir is not None:
            data["cache_dir"] = str(self.cache_dir)
        return data


spec.add_builder(
    "cached_embedder",
    lambda ctx: CachedEmbedder(ctx.component("inner"), ctx.get("cache_dir", str, None)),
)
