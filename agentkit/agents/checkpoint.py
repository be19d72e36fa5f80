""":class:`SQLiteCheckpointer`: where durable agent runs keep their state, as JSON in SQLite.

A checkpoint is data, never code: the run's state (the input values, the steps so far, the
tool-calling conversation) and a journal of the calls of the turn in progress (the model's
reply, each tool call's start and result, pending decisions) are JSON strings in two tables
of one SQLite file in WAL mode. Every write is one ``BEGIN IMMEDIATE`` transaction, so a
kill leaves each record either committed whole or absent. Loading a checkpoint imports
nothing and runs nothing; a damaged record is a :class:`CheckpointError` naming the file
and the thread (see docs/durable-agents.md).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.memory.sqlite_db import connect, transaction, use_wal
from agentkit.memory.sqlite_store import check_history_file

CALL_STATES = ("started", "done", "awaiting", "decided", "interrupted", "resuming")
THREAD_STATES = ("running", "interrupted", "done")
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS agent_threads (
        thread_id TEXT PRIMARY KEY, agent TEXT NOT NULL, status TEXT NOT NULL,
        state TEXT NOT NULL, pending TEXT, created REAL NOT NULL, updated REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS agent_calls (
        thread_id TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL,
        updated REAL NOT NULL, PRIMARY KEY (thread_id, key))""",
)


class CheckpointError(UsageError):
    """A checkpoint cannot be used (damaged, unknown thread, another agent's run)."""


@dataclass
class ThreadRecord:
    """One thread as stored: its status, state, pending interrupt and call journal."""

    thread_id: str
    agent: str
    status: str
    state: dict[str, Any]
    pending: dict[str, Any] | None
    calls: dict[str, dict[str, Any]]


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"a durable agent run keeps its state as JSON, and this value is not JSON-safe "
            f"({exc}); give the agent inputs and tools whose arguments are plain data"
        ) from exc


class SQLiteCheckpointer:
    """Durable-run state in the SQLite file ``path`` (created with its folder if missing).

    ``timeout`` is how many seconds a writer waits for another one. One process at a time
    should drive a given thread; several threads may share one file.
    """

    def __init__(self, path: str | Path, timeout: float = 30.0) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file::memory:"):
            raise UsageError(
                "SQLiteCheckpointer needs a file path (a durable run must outlive the process)"
            )
        self.path = Path(path)
        self.timeout = float(timeout)
        try:
            check_history_file(self.path)  # a file of other data is never overwritten
        except UsageError as exc:
            raise UsageError(str(exc).replace("the chat history", "the checkpoint file")) from exc
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                use_wal(conn, self.timeout)
                with transaction(conn):
                    for statement in _SCHEMA:
                        conn.execute(statement)
        except (OSError, sqlite3.DatabaseError) as exc:
            raise UsageError(
                f"the checkpoint file {self.path} cannot be opened ({exc}); give the path of "
                "a SQLite file (created if missing) in a folder you can write to"
            ) from exc

    def _connect(self) -> closing[sqlite3.Connection]:
        return closing(connect(self.path, self.timeout))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn, transaction(conn):
            yield conn

    def _damaged(self, thread_id: str, what: str) -> CheckpointError:
        return CheckpointError(
            f"the checkpoint of thread {thread_id!r} in {self.path} is damaged ({what}); "
            "nothing was run. Restore the file, or delete the thread "
            "(SQLiteCheckpointer.delete) and start the run again"
        )

    # --- writes ----------------------------------------------------------------------

    def start(self, thread_id: str, agent: str, state: dict[str, Any]) -> None:
        """Begin a run on ``thread_id`` (replacing a finished one and its journal)."""
        text, now = _dumps(state), time.time()
        with self._write() as conn:
            conn.execute("DELETE FROM agent_calls WHERE thread_id = ?", (thread_id,))
            conn.execute(
                "INSERT OR REPLACE INTO agent_threads VALUES (?, ?, 'running', ?, NULL, ?, ?)",
                (thread_id, agent, text, now, now),
            )

    def save(
        self,
        thread_id: str,
        state: dict[str, Any],
        status: str = "running",
        pending: dict[str, Any] | None = None,
        clear_calls: bool = False,
    ) -> None:
        """Commit the state after a step (and drop the finished turn's journal)."""
        text = _dumps(state)
        shown = None if pending is None else _dumps(pending)
        with self._write() as conn:
            conn.execute(
                "UPDATE agent_threads SET status = ?, state = ?, pending = ?, updated = ? "
                "WHERE thread_id = ?",
                (status, text, shown, time.time(), thread_id),
            )
            if clear_calls:
                conn.execute("DELETE FROM agent_calls WHERE thread_id = ?", (thread_id,))

    def put_call(self, thread_id: str, key: str, status: str, data: dict[str, Any]) -> None:
        """Record one call of the turn in progress (its start, result or decision)."""
        text = _dumps(data)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO agent_calls VALUES (?, ?, ?, ?, ?)",
                (thread_id, key, status, text, time.time()),
            )

    def pause(self, thread_id: str, pending: dict[str, Any]) -> None:
        """Mark the thread as waiting (for a decision or a value)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE agent_threads SET status = 'interrupted', pending = ?, updated = ? "
                "WHERE thread_id = ?",
                (_dumps(pending), time.time(), thread_id),
            )

    def delete(self, thread_id: str) -> None:
        """Forget a thread and its journal."""
        with self._write() as conn:
            conn.execute("DELETE FROM agent_calls WHERE thread_id = ?", (thread_id,))
            conn.execute("DELETE FROM agent_threads WHERE thread_id = ?", (thread_id,))

    # --- reads -----------------------------------------------------------------------

    def threads(self) -> list[tuple[str, str]]:
        """``(thread_id, status)`` of every stored thread, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT thread_id, status FROM agent_threads ORDER BY created, rowid"
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def status(self, thread_id: str) -> str | None:
        """The thread's status (``running``, ``interrupted``, ``done``), ``None`` if unknown."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT status FROM agent_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def load(self, thread_id: str) -> ThreadRecord:
        """The thread's record, checked; a :class:`CheckpointError` when it is unknown or
        damaged."""
        try:
            with self._connect() as conn:
                row = conn.execute(
                    "SELECT agent, status, state, pending FROM agent_threads WHERE thread_id = ?",
                    (thread_id,),
                ).fetchone()
                calls = conn.execute(
                    "SELECT key, status, data FROM agent_calls WHERE thread_id = ?", (thread_id,)
                ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(thread_id, f"unreadable: {exc}") from exc
        if row is None:
            known = [t for t, _ in self.threads()][:10]
            raise CheckpointError(
                f"no thread {thread_id!r} in {self.path} (threads there: {known or 'none'}); "
                "start it with agent.invoke(input, {'configurable': {'thread_id': ...}})"
            )
        agent, status, state, pending = row
        if status not in THREAD_STATES:
            raise self._damaged(thread_id, f"unknown status {status!r}")
        record = ThreadRecord(
            thread_id,
            str(agent),
            str(status),
            self._object(thread_id, "state", state),
            None if pending is None else self._object(thread_id, "pending", pending),
            {},
        )
        for key, call_status, data in calls:
            if call_status not in CALL_STATES:
                raise self._damaged(thread_id, f"call {key!r} has unknown status {call_status!r}")
            entry = self._object(thread_id, f"call {key!r}", data)
            entry["status"] = call_status
            record.calls[str(key)] = entry
        return record

    def _object(self, thread_id: str, what: str, text: Any) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except (TypeError, ValueError, RecursionError) as exc:
            raise self._damaged(thread_id, f"the {what} is not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise self._damaged(thread_id, f"the {what} is not a JSON object")
        return value

    def __repr__(self) -> str:
        return f"SQLiteCheckpointer({str(self.path)!r})"
