"""File helpers: atomic writes (text, bytes, JSON) and versioned JSON manifests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.core.files import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    read_manifest_json,
)


def test_atomic_writes_create_folders_replace_files_and_leave_no_temp(tmp_path: Path) -> None:
    text, blob, data = tmp_path / "a" / "t.txt", tmp_path / "b" / "x.bin", tmp_path / "m.json"
    atomic_write_text(text, "old")
    atomic_write_text(text, "héllo\n")
    atomic_write_bytes(blob, b"\x00\x01")
    atomic_write_json(data, {"format": "f", "n": [1, 2]})
    assert text.read_text(encoding="utf-8") == "héllo\n"
    assert blob.read_bytes() == b"\x00\x01"
    assert data.read_text(encoding="utf-8").endswith("}\n")
    assert json.loads(data.read_text(encoding="utf-8")) == {"format": "f", "n": [1, 2]}
    assert not list(tmp_path.rglob(".*.tmp"))


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"ok": True})
    with pytest.raises(TypeError):
        atomic_write_text(target, 3)  # type: ignore[arg-type]
    assert json.loads(target.read_text(encoding="utf-8")) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_read_manifest_json_checks_format_and_version(tmp_path: Path) -> None:
    path = tmp_path / "idx" / "index.json"
    atomic_write_json(path, {"format": "agentkit.index", "version": 1, "x": 2})
    assert read_manifest_json(path, "agentkit.index", 1, "index", "Re-index.")["x"] == 2
    with pytest.raises(UsageError, match=r"has index format version 1; .* reads version 2\. Re"):
        read_manifest_json(path, "agentkit.index", 2, "index", "Re-index.")
    with pytest.raises(UsageError, match=r"is not an agentkit store manifest\. Rebuild"):
        read_manifest_json(path, "agentkit.store", 1, "store", "Rebuild.")
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match=r"unreadable or corrupt .*Re-index"):
        read_manifest_json(path, "agentkit.index", 1, "index", "Re-index.")
    with pytest.raises(UsageError, match="unreadable or corrupt"):
        read_manifest_json(tmp_path / "missing.json", "agentkit.index", 1, "index", "Re-index.")


def test_atomic_writes_get_the_usual_file_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    target = tmp_path / "shared.json"
    atomic_write_json(target, {"a": 1})
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
