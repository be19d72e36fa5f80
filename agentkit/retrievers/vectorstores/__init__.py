"""Vector stores behind the :class:`~agentkit.retrievers.base.VectorStore` protocol:
:class:`FaissStore` (exact, HNSW, IVF; FAISS GPU when present) and :class:`TorchStore`
(exact matrix-product search in torch, CUDA or CPU). Both keep documents in one SQLite
docstore and save atomically to a folder; :func:`load_store` opens either kind.
FAISS and torch are imported on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.vectorstores.common import BaseVectorStore
from agentkit.retrievers.vectorstores.docstore import DocStore
from agentkit.retrievers.vectorstores.faiss_store import FaissStore
from agentkit.retrievers.vectorstores.persist import store_kind
from agentkit.retrievers.vectorstores.torch_store import TorchStore


def load_store(path: str | Path, **options: Any) -> BaseVectorStore:
    """Open a saved store of either kind (``options`` go to its ``load``)."""
    kind = store_kind(path)
    if kind == FaissStore.store_name:
        return FaissStore.load(path, **options)
    if kind == TorchStore.store_name:
        return TorchStore.load(path, **options)
    raise UsageError(f"{path} holds an unknown store kind {kind!r}; it was not written by agentkit")


__all__ = ["BaseVectorStore", "DocStore", "FaissStore", "TorchStore", "load_store"]
