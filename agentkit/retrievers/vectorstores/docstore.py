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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Filter, matches
from agentkit.retrievers.document import Document
from agentkit.retrievers.hit import Hit, Row, StoredHit

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


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class DocStore:
    """Documents by id and by internal id, with metadata filters. Thread-safe."""

    def __init__(self, conn: sqlite3.Connection | None = None, cache_size: int = 200_000) -> None:
        self._conn = conn or sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self._cache_size = cache_size
        row = self._conn.execute("SELECT value FROM info WHERE key = 'next_iid'").fetchone()
        self._next_iid = int(row[0]) if row else 0
        # Cached rows by internal id (``None``: not cached or deleted); a list, not a dict:
        # a search reads a few scattered rows, and a list slot is one memory access.
        self._rows: list[Row | None] = [None] * self._next_iid
        self._cached = 0
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
            if self._cached + len(rows) <= self._cache_size:  # new documents stay warm
                self._rows.extend(
                    (id_, text, json.loads(meta), source, chunk)
                    for _, id_, text, meta, source, chunk, _ in rows
                )
                self._cached += len(rows)
            else:
                self._rows.extend([None] * len(rows))
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
                    if self._rows[iid] is not None:
                        self._rows[iid] = None
                        self._cached -= 1

    def ids(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT id FROM docs ORDER BY iid")]

    def all_iids(self) -> np.ndarray:
        with self._lock:
            rows = self._conn.execute("SELECT iid FROM docs ORDER BY iid").fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def hits(self, labels: list[list[int]], scores: list[list[float]]) -> list[list[Hit]]:
        """Hits for rows of internal ids (``-1`` = none) and their scores; ids no longer
        stored are dropped. The hot path of every search: documents are built lazily."""
        rows = self._rows
        try:
            return [
                [StoredHit(rows[i], s) for i, s in zip(ids, ss, strict=True) if i >= 0]  # type: ignore[arg-type]
                for ids, ss in zip(labels, scores, strict=True)
            ]
        except TypeError:  # a row is not cached (None): read the missing ones, then build
            pass
        missing = [i for ids in labels for i in ids if i >= 0 and rows[i] is None]
        fetched = self._fill(missing)
        return [
            [
                StoredHit(r, s)
                for i, s in zip(ids, ss, strict=True)
                if i >= 0 and (r := rows[i] or fetched.get(i)) is not None
            ]
            for ids, ss in zip(labels, scores, strict=True)
        ]

    def metadata(self, iids: Sequence[int]) -> list[Mapping[str, Any] | None]:
        """Metadata of internal ids, read-only views (``None`` where absent)."""
        cached = self._rows
        missing = [i for i in iids if cached[i] is None]
        fetched = self._fill(missing) if missing else {}
        rows = [cached[i] or fetched.get(i) for i in iids]
        return [None if row is None else row[2] for row in rows]

    def _fill(self, iids: Sequence[int]) -> dict[int, Row]:
        fetched: dict[int, Row] = {}
        with self._lock:
            if self._cached + len(iids) > self._cache_size:
                self.clear_cache()
            for chunk in _chunks(list(dict.fromkeys(int(i) for i in iids))):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT {_COLUMNS} FROM docs WHERE iid IN ({marks})"
                for iid, id_, text, meta, source, chunk_no in self._conn.execute(query, chunk):
                    fetched[iid] = (id_, text, json.loads(meta), source, chunk_no)
            rows = self._rows
            for iid, row in fetched.items():
                self._cached += rows[iid] is None
                rows[iid] = row
        return fetched

    def clear_cache(self) -> None:
        """Forget the cached rows (to free memory); they are read again when needed."""
        with self._lock:
            self._rows, self._cached = [None] * len(self._rows), 0

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
