"""The shared SQLite conventions of the file stores (agentkit.memory.sqlite_db)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from agentkit.memory.sqlite_db import connect, transaction, use_wal


def test_a_failed_transaction_leaves_nothing_and_a_good_one_commits(tmp_path: Path) -> None:
    with closing(connect(tmp_path / "x.db", 1.0)) as conn:
        use_wal(conn, 1.0)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        with transaction(conn):
            conn.execute("CREATE TABLE t (v INTEGER)")
        with pytest.raises(ZeroDivisionError), transaction(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise ZeroDivisionError  # a crash in the middle of a write
        assert not conn.in_transaction
        with transaction(conn):
            conn.execute("INSERT INTO t VALUES (2)")
    with closing(connect(tmp_path / "x.db", 1.0)) as other:  # another connection sees it
        assert other.execute("SELECT v FROM t").fetchall() == [(2,)]


def test_a_second_writer_waits_then_gives_up_with_a_locked_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with closing(connect(path, 0.1)) as first, closing(connect(path, 0.1)) as second:
        use_wal(first, 0.1)
        with transaction(first):
            with pytest.raises(sqlite3.OperationalError, match="locked"), transaction(second):
                pass
            assert not second.in_transaction
        with transaction(second, write=False):  # readers are not blocked by WAL writers
            assert second.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
