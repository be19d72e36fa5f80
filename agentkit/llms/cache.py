"""LLM response caches: an exact-match SQLite cache, the request key, and the global switch.

A cache maps a request (model identity + generation params + messages, tools included in the
identity) to the :class:`ChatResult` it got. :class:`SQLiteCache` keeps entries in one SQLite
file (WAL, one transaction per write, safe for several processes), so an eval rerun answers
from disk. Use it on one model with ``model.with_cache(path)``, or on every model with
:func:`set_llm_cache` (every :class:`BaseChatModel` subclass consults it in ``generate``,
``generate_batch``, ``stream_chunks``, ``agenerate`` and ``astream_chunks``).
Only successful replies are stored; errors are never cached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agentkit.core.errors import UsageError
from agentkit.llms.messages import ChatResult, Message
from agentkit.llms.params import GenerationParams

log = logging.getLogger(__name__)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS llm_cache ("
    "key TEXT PRIMARY KEY, model TEXT NOT NULL, value TEXT NOT NULL, created REAL NOT NULL)"
)


@dataclass(frozen=True)
class CacheRequest:
    """One model request as a cache sees it."""

    model: str
    params: dict[str, Any]
    messages: tuple[Message, ...]

    @property
    def key(self) -> str:
        """A SHA-256 hex digest of the model identity, params and messages."""
        data = {
            "model": self.model,
            "params": self.params,
            "messages": [m.to_dict() for m in self.messages],
        }
        text = json.dumps(data, sort_keys=True, default=_stable, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@runtime_checkable
class LLMCache(Protocol):
    """Stores replies by request. ``lookup`` and ``update`` are the whole contract."""

    def lookup(self, request: CacheRequest) -> ChatResult | None: ...

    def update(self, request: CacheRequest, result: ChatResult) -> None: ...


def model_identity(model: Any) -> str:
    """What tells two models apart: their spec (``to_dict``; tools, adapters and bound
    params included, secrets never), else their class and name."""
    try:
        spec = model.to_dict()
    except Exception:
        spec = None
    if isinstance(spec, dict):
        return json.dumps(spec, sort_keys=True, default=_stable, ensure_ascii=False)
    return f"{type(model).__module__}.{type(model).__qualname__}:{model.name}"


def cache_request(
    model: Any, messages: Sequence[Message], params: GenerationParams | None
) -> CacheRequest:
    """The cache request of ``model.generate(messages, params)``."""
    resolved = model.resolve_params(params)
    return CacheRequest(model_identity(model), resolved.to_dict(), tuple(messages))


def _stable(value: Any) -> str:
    """Non-JSON values in a key: their type and repr (a repr with a memory address gives a
    key that never matches again: a miss, never a crash or a wrong hit)."""
    return f"<{type(value).__module__}.{type(value).__qualname__} {value!r}>"


class SQLiteCache:
    """An exact-match cache in one SQLite file (created if missing; WAL mode).

    Raises :class:`UsageError` naming the file when it is not an agentkit cache (a corrupt
    or foreign file), at construction, so a run fails before it starts. A read or write
    that fails later (disk full, file removed) is logged and counts as a miss.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise UsageError(f"LLM cache path {self.path} is a folder; pass a file path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.hits = 0
        self.misses = 0
        try:
            conn = self._conn()
            with conn:
                conn.execute(_SCHEMA)
            conn.execute("SELECT key, model, value, created FROM llm_cache LIMIT 1").fetchall()
        except sqlite3.DatabaseError as e:
            raise UsageError(
                f"LLM cache file {self.path} cannot be used ({e}); it is corrupt or not an "
                "agentkit cache: delete it or pass another path"
            ) from e

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def lookup(self, request: CacheRequest) -> ChatResult | None:
        try:
            row = (
                self._conn()
                .execute("SELECT value FROM llm_cache WHERE key = ?", (request.key,))
                .fetchone()
            )
            result = None if row is None else ChatResult.from_dict(json.loads(row[0]))
        except (sqlite3.Error, ValueError, UsageError) as e:
            log.warning("LLM cache %s: lookup failed (%s); treated as a miss", self.path, e)
            result = None
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def update(self, request: CacheRequest, result: ChatResult) -> None:
        value = json.dumps(result.to_dict(), default=_stable, ensure_ascii=False)
        try:
            conn = self._conn()
            with conn:  # one transaction: the entry is written whole or not at all
                conn.execute(
                    "INSERT OR REPLACE INTO llm_cache (key, model, value, created) "
                    "VALUES (?, ?, ?, ?)",
                    (request.key, request.model[:500], value, time.time()),
                )
        except sqlite3.Error as e:
            log.warning("LLM cache %s: write failed (%s); reply not cached", self.path, e)

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0])

    def clear(self) -> None:
        """Remove every entry."""
        conn = self._conn()
        with conn:
            conn.execute("DELETE FROM llm_cache")

    def close(self) -> None:
        """Close this thread's connection (a later call opens a new one)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"


def as_cache(cache: LLMCache | str | os.PathLike[str]) -> LLMCache:
    """A cache from a cache object or a file path (a :class:`SQLiteCache`)."""
    if isinstance(cache, str | os.PathLike):
        return SQLiteCache(cache)
    if isinstance(cache, LLMCache):
        return cache
    raise UsageError(
        f"an LLM cache must be a file path or an object with lookup/update (e.g. "
        f"SQLiteCache('cache.sqlite')), got {type(cache).__name__}"
    )


_GLOBAL: list[LLMCache | None] = [None]


def set_llm_cache(cache: LLMCache | str | os.PathLike[str] | None) -> LLMCache | None:
    """Cache every model's replies in ``cache`` (a path or a cache object); ``None`` turns
    the global cache off. Returns the cache now in use."""
    _GLOBAL[0] = None if cache is None else as_cache(cache)
    return _GLOBAL[0]


def get_llm_cache() -> LLMCache | None:
    """The global cache, or ``None``."""
    return _GLOBAL[0]
