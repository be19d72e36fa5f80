"""A registry of fine-tuned embedding models, so retrievers can use one by name.

Stored like the adapter registry (a JSON file of names -> folders with their manifests) in
``$AGENTKIT_CACHE_DIR/embedders/registry.json`` (else ``~/.cache/agentkit/embedders``).
``registered_embedder("scifact-minilm")`` gives a ``SentenceTransformerEmbedder`` for a
``VectorRetriever``; in a YAML spec use ``{type: registered_embedder, name: ...}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentkit.core import spec
from agentkit.finetune.registry import AdapterRegistry, default_root


def default_embedder_root() -> Path:
    """``$AGENTKIT_CACHE_DIR/embedders``, else ``~/.cache/agentkit/embedders``."""
    return default_root("embedders")


class EmbedderRegistry(AdapterRegistry):
    """Names for fine-tuned embedding model folders."""

    kind = "embedder"
    made_by = "`agentkit finetune embeddings` (or SentenceTransformer.save())"
    required = (("modules.json", "config.json"),)


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
