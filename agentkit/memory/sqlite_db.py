"""The SQLite conventions agentkit's file stores share (chat history, agent checkpoints).

A store's file is in WAL mode, so readers never block the writer. Connections run in
autocommit mode with a busy timeout, so concurrent writers (threads or processes) wait their
turn, and every write is one ``BEGIN IMMEDIATE`` transaction: committed whole, or rolled back
when anything in it raises.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection to ``path`` that waits up to ``timeout`` seconds for a writer's lock
    (usable from any thread: pooled connections move between threads)."""
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode, retrying for up to ``timeout`` seconds: the switch needs
    a moment alone with the file, which another connection may hold."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def transaction(conn: sqlite3.Connection, write: bool = True) -> Iterator[sqlite3.Connection]:
    """One transaction on ``conn``: committed when the block ends, rolled back if it raises.
    A write (``BEGIN IMMEDIATE``) takes the write lock up front, so it never fails halfway
    for want of it."""
    conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
