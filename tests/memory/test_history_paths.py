"""A history path that cannot hold a SQLite file fails at once, naming the path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.memory import SQLiteHistoryStore


def test_a_folder_is_not_a_history_file(tmp_path: Path) -> None:
    folder = tmp_path / "history.sqlite"
    folder.mkdir()
    with pytest.raises(UsageError, match=r"history\.sqlite.*cannot be opened") as info:
        SQLiteHistoryStore(folder)
    assert "a SQLite file" in str(info.value)


def test_another_kind_of_file_is_not_a_history_file_and_is_left_alone(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello world " * 100, encoding="utf-8")
    with pytest.raises(UsageError, match=r"notes\.txt.*not a database"):
        SQLiteHistoryStore(notes)
    assert notes.read_text(encoding="utf-8") == "hello world " * 100


def test_a_file_in_the_way_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "app").write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="app"):
        SQLiteHistoryStore(tmp_path / "app" / "history.sqlite")
