""":class:`SemanticCache`: an opt-in LLM cache that also answers *similar* requests.

A request hits when an earlier one to the same model with the same params and the same
conversation before its last message had a last message whose embedding (any agentkit
:class:`~agentkit.retrievers.base.Embedder`) has cosine similarity >= ``threshold``. Entries
live in memory or, with ``path``, in SQLite (vectors as float32 bytes, never pickled).
Use it where a near-duplicate question may get the same answer (FAQ bots), not in evals.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.llms.cache import CacheRequest, _stable
from agentkit.llms.messages import ChatResult

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS semantic_cache ("
    "scope TEXT NOT NULL, vector BLOB NOT NULL, value TEXT NOT NULL)"
)


class SemanticCache:
    """Similarity cache over ``embedder`` (``threshold`` in (0, 1], e.g. 0.95)."""

    def __init__(
        self, embedder: Any, threshold: float = 0.95, path: str | os.PathLike[str] | None = None
    ) -> None:
        if not hasattr(embedder, "embed_batch"):
            raise UsageError(
                f"SemanticCache needs an Embedder (with embed_batch), got {type(embedder).__name__}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise UsageError(f"threshold must be a number in (0, 1], got {threshold!r}")
        if not 0 < threshold <= 1:
            raise UsageError(f"threshold must be in (0, 1], got {threshold}")
        self.embedder, self.threshold = embedder, float(threshold)
        self.path = None if path is None else Path(path)
        self._entries: dict[str, list[tuple[np.ndarray, str]]] = {}
        self._lock = threading.Lock()
        if self.path is not None:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        try:
            with sqlite3.connect(self.path, timeout=30.0) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
                rows = conn.execute("SELECT scope, vector, value FROM semantic_cache").fetchall()
        except sqlite3.DatabaseError as e:
            raise UsageError(
                f"semantic cache file {self.path} cannot be used ({e}); delete it or pass "
                "another path"
            ) from e
        for scope, blob, value in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            self._entries.setdefault(scope, []).append((vector, value))

    def _split(self, request: CacheRequest) -> tuple[str, str]:
        """(scope key: model, params and earlier messages; the last message's text)."""
        *before, last = request.messages or (None,)
        data = {
            "model": request.model,
            "params": request.params,
            "before": [m.to_dict() for m in before if m is not None],
            "role": None if last is None else last.role,
        }
        text = json.dumps(data, sort_keys=True, default=_stable)
        return hashlib.sha256(text.encode()).hexdigest(), "" if last is None else last.content

    def _vector(self, text: str) -> np.ndarray:
        vector = np.asarray(self.embedder.embed_batch([text])[0], dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def lookup(self, request: CacheRequest) -> ChatResult | None:
        scope, text = self._split(request)
        with self._lock:
            entries = list(self._entries.get(scope, ()))
        if not entries:
            return None
        query = self._vector(text)
        scores = np.stack([v for v, _ in entries]) @ query
        best = int(np.argmax(scores))
        if float(scores[best]) < self.threshold:
            return None
        return ChatResult.from_dict(json.loads(entries[best][1]))

    def update(self, request: CacheRequest, result: ChatResult) -> None:
        scope, text = self._split(request)
        vector = self._vector(text)
        value = json.dumps(result.to_dict(), default=_stable)
        with self._lock:
            self._entries.setdefault(scope, []).append((vector, value))
            if self.path is not None:
                with sqlite3.connect(self.path, timeout=30.0) as conn:
                    conn.execute(
                        "INSERT INTO semantic_cache (scope, vector, value) VALUES (?, ?, ?)",
                        (scope, vector.astype(np.float32).tobytes(), value),
                    )
