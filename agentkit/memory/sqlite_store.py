""":class:`SQLiteHistoryStore`: chat history in one SQLite file, one row per message.

The file is in WAL mode, so readers never block the writer. Every write is one
``BEGIN IMMEDIATE`` transaction (a turn is appended whole or not at all), and a busy
timeout makes concurrent writers wait their turn, so threads and processes may share the
file. Connections are pooled: each operation borrows one, and a forked child opens its own.
A ``agentkit_schema`` table records the schema version.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, ToolCall, Usage
from agentkit.memory.sqlite_db import connect, transaction, use_wal
from agentkit.memory.store import (
    LONE_SURROGATE,
    SessionInfo,
    as_message_list,
    check_session,
    derived_title,
    resolve_index,
)

SCHEMA_VERSION = 1
SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, title TEXT, created REAL NOT NULL, updated REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS messages (
        session TEXT NOT NULL, seq INTEGER NOT NULL, role TEXT NOT NULL,
        content TEXT NOT NULL, tool_calls TEXT, tool_call_id TEXT, name TEXT, usage TEXT,
        metadata TEXT, feedback TEXT, created REAL NOT NULL, PRIMARY KEY (session, seq))""",
    """CREATE TABLE IF NOT EXISTS session_values (
        session TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (session, key))""",
)
_COLUMNS = "role, content, tool_calls, tool_call_id, name, usage, metadata, feedback"


def _dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if LONE_SURROGATE.search(text):  # not storable as UTF-8: JSON escapes keep it exactly
        return json.dumps(value, default=str)
    return text


def _row(message: Message) -> tuple[Any, ...]:
    meta = dict(message.metadata)
    feedback = meta.pop("feedback", None)
    return (
        message.role,
        message.content,
        _dumps([tc.to_dict() for tc in message.tool_calls]) if message.tool_calls else None,
        message.tool_call_id,
        message.name,
        _dumps(message.usage.as_dict()) if message.usage is not None else None,
        _dumps(meta) if meta else None,
        _dumps(feedback) if feedback is not None else None,
    )


def _message(row: Sequence[Any]) -> Message:
    role, content, tool_calls, tool_call_id, name, usage, metadata, feedback = row
    meta = json.loads(metadata) if metadata else {}
    if feedback is not None:
        meta["feedback"] = json.loads(feedback)
    return Message(
        role,
        content,
        [ToolCall.from_dict(tc) for tc in json.loads(tool_calls)] if tool_calls else [],
        tool_call_id,
        name,
        Usage.from_dict(json.loads(usage)) if usage else None,
        meta,
    )


def check_history_file(path: Path) -> None:
    """A UsageError unless ``path`` is missing, empty or an SQLite database: SQLite would
    otherwise take a short file of other data for an empty database and overwrite it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as e:
        raise UsageError(f"the chat history {path} cannot be read ({e})") from e
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(
            f"the chat history {path} cannot be opened (not a regular file); give the path "
            "of a SQLite file (it is created if missing) in a folder you can write to"
        )
    if info.st_size == 0:
        return
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as e:
        raise UsageError(f"the chat history {path} cannot be read ({e})") from e
    if header != SQLITE_HEADER:
        raise UsageError(
            f"the chat history {path} exists but is not a database (no SQLite header); it "
            "was left untouched: give the path of a SQLite file, or move that file away"
        )


class SQLiteHistoryStore:
    """Chat history in the SQLite file ``path`` (created with its folder if missing).

    ``timeout`` is how many seconds a writer waits for another one to finish. Its spec
    records the path, so a loaded graph reopens the same history.
    """

    def __init__(
        self, path: str | Path, timeout: float = 30.0, clock: Callable[[], float] = time.time
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file::memory:"):
            raise UsageError(
                "SQLiteHistoryStore needs a file path (its connections cannot share an "
                "in-memory database); use InMemoryHistoryStore for history kept in memory"
            )
        self.path = Path(path)
        self.timeout = float(timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        check_history_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._init_schema()
        except (OSError, sqlite3.DatabaseError) as e:
            self.close()
            raise UsageError(
                f"the chat history {self.path} cannot be opened ({e}); give the path of a "
                "SQLite file (it is created if missing) in a folder you can write to"
            ) from e

    # --- connections and transactions -----------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: never reuse the parent's
                self._idle, self._pid = [], os.getpid()
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self.path, self.timeout)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._lock:
                if self._pid == os.getpid():
                    self._idle.append(conn)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction: ``BEGIN IMMEDIATE`` takes the write lock up front."""
        with self._connection() as conn, transaction(conn, write):
            yield conn

    def _init_schema(self) -> None:
        with self._connection() as conn:
            use_wal(conn, self.timeout)
        with self._transaction(write=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS agentkit_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT MAX(version) FROM agentkit_schema").fetchone()
            version = row[0] if row else None
            if version is not None and version > SCHEMA_VERSION:
                raise UsageError(
                    f"{self.path} has history schema version {version}, newer than this "
                    f"agentkit understands ({SCHEMA_VERSION}); upgrade agentkit"
                )
            for statement in _SCHEMA:
                conn.execute(statement)
            if version is None:
                conn.execute("INSERT INTO agentkit_schema VALUES (?)", (SCHEMA_VERSION,))

    def _touch(self, conn: sqlite3.Connection, session: str, bump: bool) -> None:
        now = self._clock()
        conn.execute(
            "INSERT INTO sessions (id, title, created, updated) VALUES (?, NULL, ?, ?) "
            + ("ON CONFLICT(id) DO UPDATE SET updated = excluded.updated" if bump else
               "ON CONFLICT(id) DO NOTHING"),
            (session, now, now),
        )  # fmt: skip

    def close(self) -> None:
        """Close the pooled connections (the store reopens them when used again)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> SQLiteHistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the HistoryStore protocol --------------------------------------------------

    def messages(self, session: str) -> list[Message]:
        check_session(session)
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE session = ? ORDER BY seq", (session,)
            ).fetchall()
        return [_message(row) for row in rows]

    def append(self, session: str, messages: Sequence[Message]) -> None:
        check_session(session)
        rows = [_row(m) for m in as_message_list(messages)]
        now = self._clock()
        with self._transaction(write=True) as conn:
            self._touch(conn, session, bump=True)
            (start,) = conn.execute(
                "SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session = ?", (session,)
            ).fetchone()
            conn.executemany(
                f"INSERT INTO messages (session, seq, {_COLUMNS}, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(session, start + i, *row, now) for i, row in enumerate(rows)],
            )

    def clear(self, session: str) -> None:
        check_session(session)
        with self._transaction(write=True) as conn:
            for table, column in (("messages", "session"), ("session_values", "session")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (session,))
            conn.execute("DELETE FROM sessions WHERE id = ?", (session,))

    def sessions(self) -> list[str]:
        with self._connection() as conn:
            rows = conn.execute("SELECT id FROM sessions ORDER BY created, rowid").fetchall()
        return [row[0] for row in rows]

    # --- metadata, feedback and values ----------------------------------------------

    _INFO = (
        "SELECT s.id, s.title, s.created, s.updated, "
        "(SELECT COUNT(*) FROM messages m WHERE m.session = s.id), "
        "(SELECT content FROM messages m WHERE m.session = s.id AND m.role = 'user' "
        "ORDER BY seq LIMIT 1) FROM sessions s"
    )

    @staticmethod
    def _info(row: Sequence[Any]) -> SessionInfo:
        sid, title, created, updated, count, first = row
        return SessionInfo(sid, title or derived_title(first), created, updated, count)

    def session_info(self, session: str) -> SessionInfo | None:
        """Title, timestamps and message count of ``session`` (``None`` if unknown)."""
        check_session(session)
        with self._connection() as conn:
            row = conn.execute(self._INFO + " WHERE s.id = ?", (session,)).fetchone()
        return None if row is None else self._info(row)

    def list_sessions(self, limit: int | None = None) -> list[SessionInfo]:
        """Sessions, most recently updated first (at most ``limit``)."""
        with self._connection() as conn:
            rows = conn.execute(
                self._INFO + " ORDER BY s.updated DESC, s.id LIMIT ?",
                (-1 if limit is None else limit,),
            ).fetchall()
        return [self._info(row) for row in rows]

    def set_title(self, session: str, title: str | None) -> None:
        """Name a session (``None`` goes back to the derived title)."""
        check_session(session)
        with self._transaction(write=True) as conn:
            self._touch(conn, session, bump=False)
            conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, session))

    def set_feedback(self, session: str, index: int, value: Any) -> None:
        """Attach feedback (e.g. ``1``/``-1``, or a dict with a comment; ``None`` removes it)
        to message ``index`` of ``session`` (negative counts from the end)."""
        check_session(session)
        with self._transaction(write=True) as conn:
            seqs = [r[0] for r in conn.execute(
                "SELECT seq FROM messages WHERE session = ? ORDER BY seq", (session,)
            )]  # fmt: skip
            seq = seqs[resolve_index(index, len(seqs), session)]
            conn.execute(
                "UPDATE messages SET feedback = ? WHERE session = ? AND seq = ?",
                (None if value is None else _dumps(value), session, seq),
            )

    def get_value(self, session: str, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key`` for ``session`` (memories keep summaries here)."""
        check_session(session)
        with self._connection() as conn:
            row = conn.execute(
                "SELECT value FROM session_values WHERE session = ? AND key = ?", (session, key)
            ).fetchone()
        return json.loads(row[0]) if row else default

    def set_value(self, session: str, key: str, value: Any) -> None:
        check_session(session)
        text = _dumps(value)
        with self._transaction(write=True) as conn:
            self._touch(conn, session, bump=False)
            conn.execute(
                "INSERT INTO session_values (session, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(session, key) DO UPDATE SET value = excluded.value",
                (session, key, text),
            )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "sqlite_history", "path": str(self.path)}
        if self.timeout != 30.0:
            data["timeout"] = self.timeout
        return data

    def __repr__(self) -> str:
        return f"SQLiteHistoryStore({str(self.path)!r})"
