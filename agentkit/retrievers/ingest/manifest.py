"""An index folder: ``store/`` (the vector store's own atomic save) and ``index.json``
(which embedder and store class built it), written atomically before the first save."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.core.files import atomic_write_json, read_manifest_json
from agentkit.retrievers.base import Embedder, VectorStore

MANIFEST = "index.json"
STORE_DIR = "store"
FORMAT = "agentkit.index"
VERSION = 1
StoreFactory = Callable[[int], VectorStore]


def store_path(index_dir: str | Path) -> Path:
    return Path(index_dir) / STORE_DIR


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    """The manifest of an existing index, or ``None`` for a new one."""
    path = index_dir / MANIFEST
    if not path.is_file():
        if store_path(index_dir).exists():
            raise UsageError(
                f"{index_dir} holds a store/ folder but no {MANIFEST}, so it was not built by "
                "an Ingestor; ingest into a new index_dir"
            )
        return None
    return read_manifest_json(
        path, FORMAT, VERSION, "index", "Re-index into a new folder (another index_dir)"
    )


def check_embedder(index_dir: Path, manifest: dict[str, Any], embedder: Embedder) -> None:
    """A UsageError unless ``embedder`` is the model the index was built with."""
    built = manifest["embedder"]
    if (built["model_id"], built["dimension"]) != (embedder.model_id, embedder.dimension):
        raise UsageError(
            f"the index in {index_dir} was built with embedder {built['model_id']!r} "
            f"(dimension {built['dimension']}), not {embedder.model_id!r} (dimension "
            f"{embedder.dimension}); vectors of different models cannot be mixed. Re-index "
            "into a new folder (another index_dir), or pass the original embedder"
        )


def write_manifest(index_dir: Path, embedder: Embedder, store: VectorStore) -> None:
    try:
        embedder_spec: dict[str, Any] | None = spec.dump(embedder)
    except UsageError:
        embedder_spec = None
    cls = type(store)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "embedder": {
            "model_id": embedder.model_id,
            "dimension": embedder.dimension,
            "spec": embedder_spec,
        },
        "store": f"{cls.__module__}:{cls.__qualname__}",
    }
    atomic_write_json(index_dir / MANIFEST, data)


def embedder_from(index_dir: Path, manifest: dict[str, Any]) -> Embedder:
    """Rebuild the embedder recorded in the manifest."""
    recorded = manifest["embedder"].get("spec")
    if recorded is None:
        raise UsageError(
            f"the embedder of {index_dir} ({manifest['embedder']['model_id']!r}) cannot be "
            "rebuilt from its manifest; pass it: Index.open(index_dir, embedder=...)"
        )
    embedder: Embedder = spec.load(recorded)
    return embedder


def new_store(factory: str | StoreFactory, dimension: int) -> VectorStore:
    if factory == "faiss":
        from agentkit.retrievers.vectorstores import FaissStore

        return FaissStore(dimension)
    if isinstance(factory, str) or not callable(factory):
        raise UsageError(f"store must be 'faiss' or a factory, got {factory!r}")
    store = factory(dimension)
    if not isinstance(store, VectorStore) or not callable(getattr(type(store), "load", None)):
        raise UsageError(
            f"the store factory returned {type(store).__name__}, which is not a VectorStore "
            "with a load(path) classmethod; return e.g. FaissStore(dimension)"
        )
    if store.dimension != dimension:
        raise UsageError(
            f"the store factory made a store of dimension {store.dimension}, but the embedder "
            f"has dimension {dimension}; create it with the dimension it is given"
        )
    return store


def load_store(index_dir: Path, manifest: dict[str, Any]) -> VectorStore:
    """The committed store of an index (empty if nothing was committed yet)."""
    cls: Any = spec.resolve_ref(manifest["store"], f"{index_dir / MANIFEST}:store")
    load = getattr(cls, "load", None)
    if not isinstance(cls, type) or not callable(load):
        raise UsageError(f"{manifest['store']!r} in {index_dir / MANIFEST} is not a store class")
    path = store_path(index_dir)
    if path.exists() or any(index_dir.glob(f".{STORE_DIR}.old-*")):
        store: VectorStore = load(path)
        return store
    created: VectorStore = cls(manifest["embedder"]["dimension"])
    return created
