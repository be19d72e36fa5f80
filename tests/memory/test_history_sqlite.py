"""SQLite history: concurrency across threads and processes, persistence, schema."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from agentkit.core import UsageError, spec
from agentkit.llms.messages import assistant, user
from agentkit.memory import InMemoryHistoryStore, SQLiteHistoryStore

WORKER = Path(__file__).parent / "history_worker.py"


def test_8_threads_x_200_messages_on_8_sessions_lose_nothing_and_mix_nothing(
    tmp_path: Path,
) -> None:
    store = SQLiteHistoryStore(tmp_path / "h.db")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(100):  # 100 turns = 200 messages
                store.append(
                    f"session-{n}", [user(f"t{n} m{2 * i}"), assistant(f"t{n} m{2 * i + 1}")]
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(store.sessions()) == sorted(f"session-{n}" for n in range(8))
    for n in range(8):
        contents = [m.content for m in store.messages(f"session-{n}")]
        assert contents == [f"t{n} m{j}" for j in range(200)]
        assert store.session_info(f"session-{n}").message_count == 200
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone() == (1600,)


@pytest.mark.slow
def test_processes_appending_to_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteHistoryStore(path).close()  # schema created once; workers also race on opening
    workers = ["w0", "w1", "w2"]
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(path), w, "60"]) for w in workers]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    store = SQLiteHistoryStore(path)
    shared = [m.content for m in store.messages("shared")]
    assert len(shared) == 2 * 60 * len(workers)
    # turns are atomic: every user message is directly followed by its own reply
    for question, answer in zip(shared[::2], shared[1::2], strict=True):
        assert answer == question + "!"
    for w in workers:
        mine = [c for c in shared[::2] if c.startswith(f"{w}:")]
        assert mine == [f"{w}:{i}" for i in range(60)]
        assert [m.content for m in store.messages(f"own-{w}")] == [f"{w}:{i}" for i in range(60)]


def test_history_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "h.db"
    with SQLiteHistoryStore(path) as store:
        store.append("s", [user("hello"), assistant("hi")])
        store.set_title("s", "Greeting")
        store.set_value("s", "summary", {"summary": "greetings", "folded": 2})
    reopened = SQLiteHistoryStore(path)
    assert [m.content for m in reopened.messages("s")] == ["hello", "hi"]
    assert reopened.session_info("s").title == "Greeting"
    assert reopened.get_value("s", "summary") == {"summary": "greetings", "folded": 2}


def test_file_uses_wal_and_records_its_schema_version(tmp_path: Path) -> None:
    SQLiteHistoryStore(tmp_path / "h.db").append("s", [user("x")])
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM agentkit_schema").fetchall() == [(1,)]
        columns = {row[1] for row in conn.execute("PRAGMA table_info(messages)")}
    assert {"session", "seq", "role", "content", "tool_calls", "metadata", "created"} <= columns


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    SQLiteHistoryStore(tmp_path / "h.db").close()
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("UPDATE agentkit_schema SET version = 99")
    with pytest.raises(UsageError, match="schema version 99"):
        SQLiteHistoryStore(tmp_path / "h.db")


def test_in_memory_database_is_refused() -> None:
    with pytest.raises(UsageError, match="InMemoryHistoryStore"):
        SQLiteHistoryStore(":memory:")


def test_stores_round_trip_through_specs(tmp_path: Path) -> None:
    store = SQLiteHistoryStore(tmp_path / "h.db", timeout=5)
    store.append("s", [user("kept")])
    loaded = spec.load(store.to_dict())
    assert isinstance(loaded, SQLiteHistoryStore) and loaded.timeout == 5.0
    assert [m.content for m in loaded.messages("s")] == ["kept"]
    memory_store = InMemoryHistoryStore()
    memory_store.append("s", [user("lost")])
    fresh = spec.load(memory_store.to_dict())
    assert isinstance(fresh, InMemoryHistoryStore) and fresh.messages("s") == []
