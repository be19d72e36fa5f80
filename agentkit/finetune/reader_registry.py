"""A registry of fine-tuned span readers, so the ``extractive`` model and the reader chain
find the trained reader by name.

Stored like the adapter registry (a JSON file of names -> folders with their manifests) in
``$AGENTKIT_CACHE_DIR/readers/registry.json`` (else ``~/.cache/agentkit/readers``). The
reader ``agentkit finetune reader`` trains by default is :data:`DEFAULT_READER`.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.finetune.registry import AdapterEntry, AdapterRegistry, default_root

DEFAULT_READER = "squad-minilm"


def default_reader_root() -> Path:
    """``$AGENTKIT_CACHE_DIR/readers``, else ``~/.cache/agentkit/readers``."""
    return default_root().parent / "readers"


class ReaderRegistry:
    """Names for fine-tuned reader folders."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self._store = AdapterRegistry(root if root is not None else default_reader_root())
        self.root = self._store.root

    def register(
        self, name: str, path: str | os.PathLike[str], manifest: dict[str, Any] | None = None
    ) -> AdapterEntry:
        """Register (or re-point) ``name`` to a saved reader folder."""
        folder = Path(path).expanduser()
        if not (folder / "config.json").exists() or not (folder / "reader.json").exists():
            raise UsageError(
                f"{folder} is not a saved reader (it needs config.json and reader.json); pass "
                "the folder `agentkit finetune reader` wrote"
            )
        return self._store.register(name, folder, manifest)

    def get(self, name: str) -> AdapterEntry:
        if name not in self._store:
            names = [e.name for e in self._store.list()]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(
                f"no reader named {name!r} in {self._store.file}{hint}; registered: "
                f"{', '.join(names) or 'none'}. Train one with `agentkit finetune reader`"
            )
        return self._store.get(name)

    def resolve(self, name_or_path: str | os.PathLike[str]) -> Path:
        """The folder of a registered name, or ``name_or_path`` itself when it is a folder."""
        candidate = Path(name_or_path).expanduser()
        if candidate.is_dir():
            return candidate.resolve()
        entry = self.get(str(name_or_path))
        if not entry.path.is_dir():
            raise UsageError(
                f"reader {entry.name!r} is registered at {entry.path}, which no longer exists; "
                "train it again with `agentkit finetune reader`"
            )
        return entry.path

    def find(self, name: str = DEFAULT_READER) -> Path | None:
        """The folder of ``name`` when it is registered and still on disk, else ``None``."""
        try:
            if name not in self._store:
                return None
            path = self._store.get(name).path
        except UsageError:
            return None
        return path if (path / "config.json").exists() else None

    def list(self) -> list[AdapterEntry]:
        return self._store.list()

    def remove(self, name: str) -> None:
        """Forget ``name`` (its folder stays on disk)."""
        self.get(name)
        self._store.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._store

    def __repr__(self) -> str:
        return f"ReaderRegistry({str(self.root)!r})"
