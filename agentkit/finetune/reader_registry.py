"""A registry of fine-tuned span readers, so the ``extractive`` model and the reader chain
find the trained reader by name.

Stored like the adapter registry (a JSON file of names -> folders with their manifests) in
``$AGENTKIT_CACHE_DIR/readers/registry.json`` (else ``~/.cache/agentkit/readers``). The
reader ``agentkit finetune reader`` trains by default is :data:`DEFAULT_READER`.
"""

from __future__ import annotations

from pathlib import Path

from agentkit.core.errors import UsageError
from agentkit.finetune.registry import AdapterRegistry, default_root

DEFAULT_READER = "squad-minilm"


def default_reader_root() -> Path:
    """``$AGENTKIT_CACHE_DIR/readers``, else ``~/.cache/agentkit/readers``."""
    return default_root("readers")


class ReaderRegistry(AdapterRegistry):
    """Names for fine-tuned reader folders."""

    kind = "reader"
    made_by = "`agentkit finetune reader`"
    required = (("config.json",), ("reader.json",))

    def find(self, name: str = DEFAULT_READER) -> Path | None:
        """The folder of ``name`` when it is registered and still on disk, else ``None``."""
        try:
            if name not in self:
                return None
            path = self.get(name).path
        except UsageError:
            return None
        return path if (path / "config.json").exists() else None
