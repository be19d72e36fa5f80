"""Embedders: :class:`HashingEmbedder` (deterministic fake), :class:`SentenceTransformerEmbedder`
(the bundled all-MiniLM-L6-v2 by default; ONNX Runtime on the CPU, torch on CUDA, see
:mod:`~agentkit.retrievers.embeddings.backend`) and :class:`CachedEmbedder` (SQLite cache).

Importing this package registers their spec builders; heavy dependencies load on first use.
"""

from __future__ import annotations

from pathlib import Path

from agentkit.retrievers.embeddings.cached import CachedEmbedder, default_cache_dir
from agentkit.retrievers.embeddings.hashing import HashingEmbedder
from agentkit.retrievers.embeddings.sentence_transformer import (
    DEFAULT_MODEL,
    SentenceTransformerEmbedder,
    bundled_model_path,
)


def default_embedder(cache_dir: str | Path | None = None) -> CachedEmbedder:
    """The bundled all-MiniLM-L6-v2 behind the on-disk embedding cache."""
    return CachedEmbedder(SentenceTransformerEmbedder(), cache_dir)


__all__ = [
    "DEFAULT_MODEL",
    "CachedEmbedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "bundled_model_path",
    "default_cache_dir",
    "default_embedder",
]

# the spec loader imports this package: register the "vector_retriever" type with it
from agentkit.retrievers import vector as _vector  # noqa: E402, F401
