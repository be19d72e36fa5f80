"""Index folders as the front ends name them: open one (an error that says how to build
it with ``agentkit ingest``), tell whether a folder is one, and the embedder of a new one.

What an index answers with is the index's own pipeline,
:meth:`~agentkit.retrievers.index.Index.qa_chain` (hybrid BM25 + dense retrieval).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from agentkit.core.errors import UsageError

if TYPE_CHECKING:
    from agentkit.retrievers.base import Embedder
    from agentkit.retrievers.index import Index


def make_embedder(name: str) -> Embedder:
    """The embedder of a new index: ``default`` (the bundled MiniLM behind the on-disk
    cache) or ``hashing`` (model-free, for tests and quick trials)."""
    if name == "hashing":
        from agentkit.retrievers.embeddings import HashingEmbedder

        return HashingEmbedder()
    if name == "default":
        from agentkit.retrievers.embeddings import default_embedder

        return default_embedder()
    raise UsageError(f"unknown embedder {name!r}; use 'default' (MiniLM) or 'hashing'")


def index_embedder(folder: str | Path, new: str = "default") -> Embedder:
    """The embedder of the index in ``folder`` (rebuilt from its manifest), or for a new
    index :func:`make_embedder` of ``new``."""
    from agentkit.retrievers.ingest.manifest import embedder_from, read_manifest

    path = Path(folder).expanduser()
    manifest = read_manifest(path) if path.is_dir() else None
    return embedder_from(path, manifest) if manifest is not None else make_embedder(new)


def is_index(folder: str | Path) -> bool:
    """Whether ``folder`` holds an index built by ``agentkit ingest``."""
    from agentkit.retrievers.ingest import MANIFEST

    return (Path(folder) / MANIFEST).is_file()


def open_index(folder: str | Path) -> Index:
    """The index in ``folder``, or a UsageError saying how to build one."""
    from agentkit.retrievers.index import Index

    path = Path(folder).expanduser()
    if not is_index(path):
        raise UsageError(
            f"no index in {path}; build one with: agentkit ingest <files or folders> --index {path}"
        )
    return Index.open(path)
