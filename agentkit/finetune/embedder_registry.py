"""A registry of fine-tuned embedding models, so retrievers can use one by name.

Stored like the adapter registry (a JSON file of names -> folders with their manifests) in
``$AGENTKIT_CACHE_DIR/embedders/registry.json`` (else ``~/.cache/agentkit/embedders``).
``registered_embedder("scifact-minilm")`` gives a ``SentenceTransformerEmbedder`` for a
``VectorRetriever``; in a YAML spec use ``{type: registered_embedder, name: ...}``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.finetune.registry import AdapterEntry, AdapterRegistry, default_root


def default_embedder_root() -> Path:
    """``$AGENTKIT_CACHE_DIR/embedders``, else ``~/.cache/agentkit/embedders``."""
    return default_root().parent / "embedders"


class EmbedderRegistry:
    """Names for fine-tuned embedding model folders."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self._store = AdapterRegistry(root if root is not None else default_embedder_root())
        self.root = self._store.root

    def register(
        self, name: str, path: str | os.PathLike[str], manifest: dict[str, Any] | None = None
    ) -> AdapterEntry:
        """Register (or re-point) ``name`` to a saved sentence-transformers folder."""
        folder = Path(path).expanduser()
        if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise UsageError(
                f"{folder} is not a saved embedding model (no modules.json or config.json); "
                "pass the folder SentenceTransformer.save() wrote"
            )
        return self._store.register(name, folder, manifest)

    def get(self, name: str) -> AdapterEntry:
        if name not in self._store:
            names = [e.name for e in self._store.list()]
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UsageError(
                f"no embedder named {name!r} in {self._store.file}{hint}; registered: "
                f"{', '.join(names) or 'none'}. Train one with `agentkit finetune embeddings` "
                "or register a folder with EmbedderRegistry().register(name, folder)"
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
                f"embedder {entry.name!r} is registered at {entry.path}, which no longer "
                "exists; train or register it again"
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
        return f"EmbedderRegistry({str(self.root)!r})"


def registered_embedder(
    name_or_path: str,
    *,
    registry: EmbedderRegistry | None = None,
    device: str | None = None,
    batch_size: int = 64,
) -> Any:
    """A ``SentenceTransformerEmbedder`` for a registered embedder name (or folder)."""
    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder

    folder = (registry if registry is not None else EmbedderRegistry()).resolve(name_or_path)
    return SentenceTransformerEmbedder(str(folder), device=device, batch_size=batch_size)


spec.add_builder(
    "registered_embedder",
    lambda ctx: registered_embedder(
        ctx.get("name", str),
        device=ctx.get("device", str, None),
        batch_size=ctx.get("batch_size", int, 64),
    ),
)
