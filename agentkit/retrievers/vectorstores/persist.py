"""Atomic saving of a vector store folder, and its ``manifest.json``.

:func:`atomic_folder` writes a whole folder into a temporary sibling, then swaps it in with
two renames (old -> ``.<name>.old-*``, new -> ``<name>``). A crash at any point leaves the
previous save loadable: before the swap the old folder is untouched, and between the two
renames :func:`resolve_saved` finds the old one and puts it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.files import read_manifest_json

FORMAT = "agentkit.vectorstore"
VERSION = 1
MANIFEST = "manifest.json"


def _old_siblings(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.old-*"), key=lambda p: p.stat().st_mtime)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder to fill; on success it replaces ``path`` atomically."""
    target = Path(path)
    if target.parent.exists():
        resolve_saved(target)  # finish a swap that a crash interrupted
    occupied = target.exists() and not (target / MANIFEST).is_file()
    if occupied and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(
            f"{target} exists and is not a saved vector store; refusing to overwrite it. "
            "Save to a new or empty folder"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    old: Path | None = None
    try:
        yield tmp
        for child in tmp.iterdir():
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        _fsync_dir(tmp)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
            os.rmdir(old)
            os.rename(target, old)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def resolve_saved(path: Path) -> Path:
    """``path``, restoring the previous save if a crash left it renamed aside."""
    olds = _old_siblings(path)
    if not path.exists() and olds:
        os.rename(olds[-1], path)
        olds = olds[:-1]
    if (path / MANIFEST).is_file():
        for old in olds:
            shutil.rmtree(old, ignore_errors=True)
    return path


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link an unchanged file into a new save (a copy where links are not possible)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_manifest(folder: Path, store: str, **fields: Any) -> None:
    data = {"format": FORMAT, "version": VERSION, "store": store, **fields}
    (folder / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_manifest(path: str | Path, store: str) -> tuple[Path, dict[str, Any]]:
    """The folder and its manifest, checked to be a ``store`` save of a known version."""
    folder = Path(path)
    if not folder.exists():
        resolve_saved(folder)
    if not folder.is_dir():
        raise UsageError(f"no saved vector store at {folder}; create one with store.save(path)")
    resolve_saved(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise UsageError(
            f"{folder} is not a saved vector store (no {MANIFEST}); give the folder that "
            "store.save(path) wrote"
        )
    data = read_manifest_json(
        manifest_path,
        FORMAT,
        VERSION,
        "vector store",
        "Restore the folder, or rebuild the store with this version of agentkit",
    )
    if data.get("store") != store:
        raise UsageError(
            f"{folder} holds a {data.get('store')!r} store, not a {store!r} one; load it with "
            "agentkit.retrievers.vectorstores.load_store(path)"
        )
    return folder, data


@contextlib.contextmanager
def manifest_fields(folder: Path) -> Iterator[None]:
    """Turn a missing or ill-typed manifest field, read in the block, into a UsageError."""
    try:
        yield
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{folder}/{MANIFEST} is missing or has a bad field ({e})") from e


def store_kind(path: str | Path) -> str:
    """The ``store`` field of a saved folder's manifest (``"faiss"`` or ``"torch"``)."""
    folder = resolve_saved(Path(path))
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return str(data["store"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(
            f"{folder} is not a saved vector store (missing or corrupt {MANIFEST}); give the "
            "folder that store.save(path) wrote"
        ) from e


def is_saved(path: Path) -> bool:
    """Whether ``path`` holds a saved store's manifest."""
    return (path / MANIFEST).is_file()
