"""An index folder: ``store/`` (the vector store's own atomic save) and ``index.json``
(which embedder and store class built it), written atomically before the first save.

``index.json`` is data, never code: its embedder is a spec of a registered embedder type,
loaded with every code reference refused, and its store names one of the known store
classes (:data:`STORE_CLASSES`, extended in code with :func:`register_store_class`). A
tampered or corrupt manifest ends in a :class:`UsageError` naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.core.files import atomic_write_json, read_manifest_json
from agentkit.retrievers.base import Embedder, VectorStore

MANIFEST = "index.json"
STORE_DIR = "store"
FORMAT = "agentkit.index"
VERSION = 1
StoreFactory = Callable[[int], VectorStore]
FIX = "Re-index into a new folder (another index_dir)"
# the embedder types an index manifest may name (wrappers nest one of these)
EMBEDDER_TYPES = (
    "hashing_embedder",
    "sentence_transformer_embedder",
    "cached_embedder",
    "registered_embedder",
)
# index.json "store" -> the class that loads it; only code adds entries
STORE_CLASSES: dict[str, Callable[[], type]] = {}


def _faiss() -> type:
    from agentkit.retrievers.vectorstores import FaissStore

    return FaissStore


def _torch() -> type:
    from agentkit.retrievers.vectorstores import TorchStore

    return TorchStore


def _ivfpq() -> type:
    from agentkit.retrievers.vectorstores.ivfpq import IVFPQStore

    return IVFPQStore


STORE_CLASSES["agentkit.retrievers.vectorstores.faiss_store:FaissStore"] = _faiss
STORE_CLASSES["agentkit.retrievers.vectorstores.torch_store:TorchStore"] = _torch
STORE_CLASSES["agentkit.retrievers.vectorstores.ivfpq:IVFPQStore"] = _ivfpq


def store_name(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register_store_class(cls: type) -> None:
    """Let index manifests name ``cls`` (a VectorStore with a ``load(path)`` classmethod),
    so an index built with a custom store factory can be opened again."""
    if not isinstance(cls, type) or not callable(getattr(cls, "load", None)):
        raise UsageError(f"{cls!r} is not a store class with a load(path) classmethod")
    STORE_CLASSES[store_name(cls)] = lambda: cls


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
    try:
        manifest = read_manifest_json(path, FORMAT, VERSION, "index", FIX)
    except RecursionError as e:
        raise UsageError(f"{path} is corrupt (nested too deeply). {FIX}") from e
    _check_fields(path, manifest)
    return manifest


def _check_fields(path: Path, manifest: dict[str, Any]) -> None:
    """Every field this module reads has the type it expects, or a UsageError naming it."""

    def bad(field: str, expected: str, value: Any) -> UsageError:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        return UsageError(f"{path} is corrupt: {field} must be {expected}, got {shown}. {FIX}")

    built = manifest.get("embedder")
    if not isinstance(built, dict):
        raise bad("'embedder'", "an object", built)
    if not isinstance(built.get("model_id"), str):
        raise bad("'embedder.model_id'", "a string", built.get("model_id"))
    dimension = built.get("dimension")
    if (
        isinstance(dimension, bool)
        or not isinstance(dimension, int)
        or not 0 < dimension <= 1 << 16
    ):
        raise bad("'embedder.dimension'", "an integer from 1 to 65536", dimension)
    if built.get("spec") is not None and not isinstance(built["spec"], dict):
        raise bad("'embedder.spec'", "an embedder spec object or null", built["spec"])
    store = manifest.get("store")
    if store not in STORE_CLASSES:
        raise UsageError(
            f"{path} is corrupt or from an unknown store: 'store' is {str(store)[:80]!r}, not one "
            f"of the known store classes ({', '.join(sorted(STORE_CLASSES))}); index.json never "
            f"imports code. {FIX}, or register a custom store class in code with "
            "agentkit.retrievers.ingest.manifest.register_store_class"
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
    if store_name(cls) not in STORE_CLASSES:
        register_store_class(cls)  # a custom store given in code: the caller trusts it
    data = {
        "format": FORMAT,
        "version": VERSION,
        "embedder": {
            "model_id": embedder.model_id,
            "dimension": embedder.dimension,
            "spec": embedder_spec,
        },
        "store": store_name(cls),
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
    try:
        embedder = spec.load_data(recorded, "embedder.spec", EMBEDDER_TYPES)
    except SpecError as e:
        raise UsageError(f"{index_dir / MANIFEST} is corrupt: {e}. {FIX}") from e
    if not isinstance(embedder, Embedder):
        raise UsageError(
            f"{index_dir / MANIFEST} is corrupt: embedder.spec builds a "
            f"{type(embedder).__name__}, not an embedder. {FIX}"
        )
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
    _check_fields(index_dir / MANIFEST, manifest)
    cls: Any = STORE_CLASSES[manifest["store"]]()
    load = cls.load
    path = store_path(index_dir)
    if path.exists() or any(index_dir.glob(f".{STORE_DIR}.old-*")):
        store: VectorStore = load(path)
        return store
    created: VectorStore = cls(manifest["embedder"]["dimension"])
    return created
