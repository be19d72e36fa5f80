"""The SQLite docstore shared by every vector store.

Each document row has a store-internal integer id (``iid``), the id the vector index uses.
The live database is in memory; :meth:`DocStore.backup` copies it page by page to a file
(SQLite's backup API) and :meth:`DocStore.open` copies a file back, so a saved folder is
never modified by later edits. JSON and SQLite only, never pickle.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Filter, Hit, matches
from agentkit.retrievers.document import Document

_CHUNK = 500  # parameters per IN (...) query
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    iid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,
    source TEXT,
    chunk INTEGER,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "iid, id, text, metadata, source, chunk"
_SCALARS = (str, int, float, bool)
_Row = tuple[str, str, dict[str, Any], "str | None", "int | None"]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class DocStore:
    """Documents by id and by internal id, with metadata filters. Thread-safe."""

    def __init__(self, conn: sqlite3.Connection | None = None, cache_size: int = 200_000) -> None:
        self._conn = conn or sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._cache: dict[int, _Row] = {}
        self._cache_size = cache_size
        row = self._conn.execute("SELECT value FROM info WHERE key = 'next_iid'").fetchone()
        self._next_iid = int(row[0]) if row else 0
        self._count = int(self._conn.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    @classmethod
    def open(cls, path: Path) -> DocStore:
        """A live in-memory copy of a docstore file."""
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            source.backup(conn)
            source.close()
            conn.execute("SELECT iid, id, text, metadata FROM docs LIMIT 1").fetchall()
        except sqlite3.Error as e:
            raise UsageError(f"docstore {path} is not a readable SQLite docstore ({e})") from e
        return cls(conn)

    def backup(self, path: Path) -> None:
        """Copy the database to ``path`` (a new file)."""
        with self._lock:
            target = sqlite3.connect(path)
            try:
                self._conn.backup(target)
            finally:
                target.close()

    def __len__(self) -> int:
        return self._count

    @property
    def next_iid(self) -> int:
        return self._next_iid

    def insert(self, documents: Sequence[Document]) -> np.ndarray:
        """Insert new documents (ids must be absent); returns their internal ids."""
        with self._lock:
            start = self._next_iid
            rows = [
                (start + i, d.id, d.text, json.dumps(d.metadata), d.source, d.chunk, d.hash)
                for i, d in enumerate(documents)
            ]
            with self._conn:
                self._conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                self._next_iid = start + len(rows)
                self._conn.execute(
                    "INSERT OR REPLACE INTO info VALUES ('next_iid', ?)", (str(self._next_iid),)
                )
            self._count += len(rows)
            if len(self._cache) + len(rows) <= self._cache_size:  # new documents stay warm
                for iid, id_, text, meta, source, chunk, _ in rows:
                    self._cache[iid] = (id_, text, json.loads(meta), source, chunk)
            return np.arange(start, start + len(rows), dtype=np.int64)

    def iids_of(self, ids: Sequence[str]) -> dict[str, int]:
        """Internal ids of the given document ids that exist."""
        out: dict[str, int] = {}
        with self._lock:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT id, iid FROM docs WHERE id IN ({marks})"
                out.update(self._conn.execute(query, list(chunk)).fetchall())
        return out

    def remove(self, iids: Sequence[int]) -> None:
        with self._lock, self._conn:
            for chunk in _chunks([int(i) for i in iids]):
                marks = ",".join("?" * len(chunk))
                cur = self._conn.execute(f"DELETE FROM docs WHERE iid IN ({marks})", list(chunk))
                self._count -= cur.rowcount
                for iid in chunk:
                    self._cache.pop(iid, None)

    def ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM docs ORDER BY iid")]

    def all_iids(self) -> np.ndarray:
        with self._lock:
            rows = self._conn.execute("SELECT iid FROM docs ORDER BY iid").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def hits(self, ranked: Sequence[Sequence[tuple[int, float]]]) -> list[list[Hit]]:
        """:class:`Hit` lists (fresh document copies) for ``(internal id, score)`` lists;
        ids no longer stored are dropped. The hot path of every search."""
        cache = self._cache
        get: Callable[[int], _Row | None] = cache.get
        missing = [iid for row in ranked for iid, _ in row if iid not in cache]
        if missing:
            fetched = self._fill(missing)

            def get(iid: int) -> _Row | None:
                return cache.get(iid) or fetched.get(iid)

        return [
            [
                Hit(r[0], score, Document(r[1], r[0], dict(r[2]), r[3], r[4]))
                for iid, score in row
                if (r := get(iid)) is not None
            ]
            for row in ranked
        ]

    def metadata(self, iids: Sequence[int]) -> list[Mapping[str, Any] | None]:
        """Metadata of internal ids, read-only views (``None`` where absent)."""
        missing = [i for i in iids if i not in self._cache]
        fetched = self._fill(missing) if missing else {}
        rows = [self._cache.get(i) or fetched.get(i) for i in iids]
        return [None if row is None else row[2] for row in rows]

    def _fill(self, iids: Sequence[int]) -> dict[int, _Row]:
        fetched: dict[int, _Row] = {}
        with self._lock:
            if len(self._cache) + len(iids) > self._cache_size:
                self._cache.clear()
            for chunk in _chunks(list(dict.fromkeys(int(i) for i in iids))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {_COLUMNS} FROM docs WHERE iid IN ({marks})"
                for iid, id_, text, meta, source, chunk_no in self._conn.execute(query, chunk):
                    fetched[iid] = (id_, text, json.loads(meta), source, chunk_no)
            self._cache.update(fetched)
        return fetched

    def get(self, ids: Sequence[str]) -> list[Document]:
        """Documents for ids, in the given order; unknown ids are skipped."""
        found: dict[str, Document] = {}
        with self._lock:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {_COLUMNS} FROM docs WHERE id IN ({marks})"
                for _, id_, text, meta, source, chunk_no in self._conn.execute(query, chunk):
                    found[id_] = Document(text, id_, json.loads(meta), source, chunk_no)
        out: list[Document] = []
        seen: set[str] = set()
        for id_ in ids:
            doc = found.get(id_)
            if doc is not None:
                if id_ in seen:  # an id asked for twice gets its own copy
                    doc = Document(doc.text, doc.id, dict(doc.metadata), doc.source, doc.chunk)
                seen.add(id_)
                out.append(doc)
        return out

    def matching_iids(self, flt: Filter) -> np.ndarray:
        """Internal ids of the documents whose metadata pass ``flt`` (sorted)."""
        if flt is None:
            return self.all_iids()
        if isinstance(flt, Mapping):
            where = _sql_where(flt)
            if where is not None:
                clause, params = where
                with self._lock:
                    rows = self._conn.execute(
                        f"SELECT iid FROM docs WHERE {clause} ORDER BY iid", params
                    ).fetchall()
                return np.array([r[0] for r in rows], dtype=np.int64)
        with self._lock:
            rows = self._conn.execute("SELECT iid, metadata FROM docs ORDER BY iid").fetchall()
        keep = [iid for iid, meta in rows if matches(json.loads(meta), flt)]
        return np.array(keep, dtype=np.int64)


def _sql_where(flt: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    """The SQL form of an equality / any-of filter, or ``None`` when it has none (nested
    values, odd keys): then the filter is evaluated in Python."""
    clauses: list[str] = []
    params: list[Any] = []
    for key, wanted in flt.items():
        if not isinstance(key, str) or '"' in key or "\\" in key:
            return None
        column = f"json_extract(metadata, '$.\"{key}\"')"
        values = list(wanted) if isinstance(wanted, list | tuple | set | frozenset) else [wanted]
        if not all(v is None or isinstance(v, _SCALARS) for v in values):
            return None
        present = [v for v in values if v is not None]
        parts = []
        if present:
            marks = ",".join("?" * len(present))
            kind = f"json_type(metadata, '$.\"{key}\"')"
            parts.append(f"({kind} NOT IN ('object', 'array') AND {column} IN ({marks}))")
            params.extend(present)
        if len(present) < len(values):
            parts.append(f"{column} IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")" if parts else "0")
    return (" AND ".join(clauses) or "1"), params
