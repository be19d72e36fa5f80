"""Both history stores pass the shared conformance suite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentkit.memory import InMemoryHistoryStore, SQLiteHistoryStore
from agentkit.memory.conformance import HistoryStoreConformance


class TestInMemoryHistoryStore(HistoryStoreConformance):
    def make_store(self, tmp_path: Path, clock: Callable[[], float]) -> Any:
        return InMemoryHistoryStore(clock=clock)


class TestSQLiteHistoryStore(HistoryStoreConformance):
    def make_store(self, tmp_path: Path, clock: Callable[[], float]) -> Any:
        return SQLiteHistoryStore(tmp_path / "history.db", clock=clock)
