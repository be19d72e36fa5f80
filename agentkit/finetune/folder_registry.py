""":class:`FolderRegistry`: names for saved model folders (fine-tuned embedders, readers),
kept in an :class:`~agentkit.finetune.registry.AdapterRegistry` file of names -> folders with
their manifests. A registry of one kind says what a valid folder holds and how to make one."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.finetune.registry import AdapterEntry, AdapterRegistry


class FolderRegistry:
    """Register, look up and resolve named model folders of one ``kind``."""

    kind = "model"  # "embedder", "reader": the word in messages
    missing_hint = ""  # how to make one, after "no <kind> named ..."
    gone_hint = "register it again"  # after "... which no longer exists; "

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._store = AdapterRegistry(root)
        self.root = self._store.root

    def check_folder(self, folder: Path) -> None:
        """Raise a UsageError when ``folder`` is not a saved model of this kind."""

    def register(
        self, name: str, path: str | os.PathLike[str], manifest: dict[str, Any] | None = None
    ) -> AdapterEntry:
        """Register (or re-point) ``name`` to a saved folder."""
        folder = Path(path).expanduser()
        self.check_folder(folder)
        return self._store.register(name, folder, manifest)

    def get(self, name: str) -> AdapterEntry:
        if name not in self._store:
            names = [e.name for e in self._store.list()]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(
                f"no {self.kind} named {name!r} in {self._store.file}{hint}; registered: "
                f"{', '.join(names) or 'none'}. {self.missing_hint}"
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
                f"{self.kind} {entry.name!r} is registered at {entry.path}, which no longer "
                f"exists; {self.gone_hint}"
            )
        return entry.path

    def list(self) -> list[AdapterEntry]:
        return self._store.list()

    def remove(self, name: str) -> None:
        """Forget ``name`` (its folder stays on disk)."""
        self.get(name)
        self._store.remove(name)

    def __contains__(self, name: object) -> bool:
        return name in self._store

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r})"
