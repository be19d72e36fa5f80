"""Ingestion on Ray: loading and splitting in Ray tasks, embedding on an actor pool.

Everything that decides what the index holds (which files changed, chunk ids, which texts
need vectors, deletions, the crash-safe commits) is the local
:class:`~agentkit.retrievers.ingest.Ingestor`, run here on the driver: a Ray-built index is
the same index, incremental the same way, and local and Ray runs may alternate on it. The
work runs on the cluster: files are read, hashed, parsed and split in Ray tasks
(:class:`~agentkit.scale.split.RayPreparer`) and each flush of new chunk texts is split over
the embedding actors. The index folder must be on storage the driver writes; the files must
be readable at the same paths on the workers (or pass ``load_on_workers=False``).

Large indexes: ``store=ivf_store(nlist, pq_m=...)`` builds a FAISS IVF (or IVF-PQ) index
trained once on a sample, the embedded shards added to it as they come back.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.refs import AllowImports
from agentkit.scale.cluster import connected
from agentkit.scale.embed import distributed
from agentkit.scale.split import RayPreparer

if TYPE_CHECKING:
    from agentkit.retrievers.base import Embedder, VectorStore
    from agentkit.retrievers.ingest import IngestReport

SHARD = 64  # texts per actor per flush


def default_actors(ray: Any, cpus_per_actor: float, gpus_per_actor: float) -> int:
    """As many actors as the cluster's CPUs (or GPUs, when actors take GPUs) allow."""
    resources = ray.cluster_resources()
    if gpus_per_actor > 0:
        count = int(resources.get("GPU", 0) // gpus_per_actor)
        if count < 1:
            raise UsageError(
                f"the Ray cluster has {resources.get('GPU', 0):g} GPUs; --gpus-per-actor "
                f"{gpus_per_actor:g} fits no actor (pass --gpus-per-actor 0 for CPU actors)"
            )
        return count
    return max(1, int(resources.get("CPU", 1) // max(cpus_per_actor, 1e-9)))


def ray_ingest(
    paths: str | os.PathLike[str] | list[str | os.PathLike[str]] | list[Path],
    index_dir: str | Path,
    embedder: Embedder | None = None,
    *,
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    gpus_per_actor: float = 0.0,
    allow_imports: AllowImports = None,
    runtime_env: dict[str, Any] | None = None,
    load_on_workers: bool | None = None,
    **options: Any,
) -> tuple[IngestReport, int]:
    """:meth:`Ingestor.ingest` on Ray; returns the report and the number of chunks in the
    index. ``options`` go to the :class:`Ingestor` (glob, exclude, store, progress,
    commit_every...); ``batch_size`` defaults to 64 texts per actor. Files are loaded and
    split in Ray tasks when ``load_on_workers`` (default: unless custom ``loaders`` are
    given, which cannot travel: those load on the driver; True refuses them)."""
    from agentkit.retrievers.ingest import Ingestor

    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    missing = [str(p) for p in items if not Path(p).expanduser().exists()]
    if missing:  # before a cluster is started for nothing
        raise UsageError(f"{missing[0]} does not exist; pass existing files or folders")
    if embedder is None:
        from agentkit.retrievers.embeddings import default_embedder

        embedder = default_embedder()  # the model loads on the actors, not here
    loaders = options.get("loaders")
    if load_on_workers is None:
        load_on_workers = not loaders
    if load_on_workers:  # what cannot travel is refused before a cluster starts
        from agentkit.retrievers.loaders import DirectoryLoader
        from agentkit.retrievers.splitters import RecursiveSplitter

        preparer = RayPreparer(allow_imports=allow_imports)
        chosen = DirectoryLoader(".", loaders=loaders).loaders if loaders else {}
        preparer.check(options.get("splitter") or RecursiveSplitter(), [chosen])
        options["prepare"] = preparer
    with connected(address, runtime_env=runtime_env) as ray:
        count = (
            actors if actors is not None else default_actors(ray, cpus_per_actor, gpus_per_actor)
        )
        used, pool = distributed(
            embedder,
            actors=count,
            cpus_per_actor=cpus_per_actor,
            gpus_per_actor=gpus_per_actor,
            allow_imports=allow_imports,
        )
        try:
            options.setdefault("batch_size", SHARD * count)
            ingestor = Ingestor(index_dir, used, **options)
            report = ingestor.ingest(paths)
        finally:
            pool.close()
    return report, len(ingestor.store) if ingestor.store is not None else 0


def ivf_store(
    nlist: int = 256,
    *,
    pq_m: int = 0,
    pq_bits: int = 8,
    train_size: int | None = None,
    nprobe: int = 16,
) -> Callable[[int], VectorStore]:
    """A store factory for a new large index (``store=`` of :func:`ray_ingest` or an
    :class:`Ingestor`): a FAISS IVF index of ``nlist`` lists, with PQ codes of ``pq_m``
    sub-quantizers (0: full vectors), trained on a sample of ``train_size`` vectors (see
    :class:`~agentkit.retrievers.vectorstores.ivfpq.IVFPQStore`). Checked here, at once."""
    from agentkit.retrievers.vectorstores.ivfpq import IVFPQStore

    made = partial(
        IVFPQStore, nlist=nlist, nprobe=nprobe, pq_m=pq_m, pq_bits=pq_bits, train_size=train_size
    )
    made(64 * pq_m if isinstance(pq_m, int) and pq_m > 0 else 64)  # fail now, not later
    return made
