"""A registry of fine-tuned span readers, so the ``extractive`` model and the reader chain
find the trained reader by name.

Stored like the adapter registry (a JSON file of names -> folders with their manifests) in
``$AGENTKIT_CACHE_DIR/readers/registry.json`` (else ``~/.cache/agentkit/readers``). The
reader ``agentkit finetune reader`` trains by default is :data:`DEFAULT_READER`.
"""

from __future__ import annotations

import os
from pathlib import Path

from agentkit.core.errors import UsageError
from agentkit.finetune.folder_registry import FolderRegistry
from agentkit.finetune.registry import default_root

DEFAULT_READER = "squad-minilm"


def default_reader_root() -> Path:
    """``$AGENTKIT_CACHE_DIR/readers``, else ``~/.cache/agentkit/readers``."""
    return default_root().parent / "readers"


class ReaderRegistry(FolderRegistry):
    """Names for fine-tuned reader folders."""

    kind = "reader"
    missing_hint = "Train one with `agentkit finetune reader`"
    gone_hint = "train it again with `agentkit finetune reader`"

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        super().__init__(root if root is not None else default_reader_root())

    def check_folder(self, folder: Path) -> None:
        if not (folder / "config.json").exists() or not (folder / "reader.json").exists():
            raise UsageError(
                f"{folder} is not a saved reader (it needs config.json and reader.json); pass "
                "the folder `agentkit finetune reader` wrote"
            )

    def find(self, name: str = DEFAULT_READER) -> Path | None:
        """The folder of ``name`` when it is registered and still on disk, else ``None``."""
        try:
            if name not in self._store:
                return None
            path = self._store.get(name).path
        except UsageError:
            return None
        return path if (path / "config.json").exists() else None
