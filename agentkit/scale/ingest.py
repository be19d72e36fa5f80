"""Ingestion with the embedding on a Ray actor pool.

Everything that decides what the index holds (which files changed, chunk ids, which texts
need vectors, deletions, the crash-safe commits) is the local
:class:`~agentkit.retrievers.ingest.Ingestor`, run here on the driver: a Ray-built index is
the same index, incremental the same way, and local and Ray runs may alternate on it. Only
the embedding, the costly part, runs on the cluster: each flush of new chunk texts is split
over the actors. The index folder must be on storage the driver writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.refs import AllowImports
from agentkit.scale.cluster import connected
from agentkit.scale.embed import distributed

if TYPE_CHECKING:
    from agentkit.retrievers.base import Embedder
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
    **options: Any,
) -> tuple[IngestReport, int]:
    """:meth:`Ingestor.ingest` with the embedding on Ray; returns the report and the
    number of chunks in the index. ``options`` go to the :class:`Ingestor` (glob, exclude,
    loaders, progress, commit_every...); ``batch_size`` defaults to 64 texts per actor."""
    from agentkit.retrievers.ingest import Ingestor

    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    missing = [str(p) for p in items if not Path(p).expanduser().exists()]
    if missing:  # before a cluster is started for nothing
        raise UsageError(f"{missing[0]} does not exist; pass existing files or folders")
    if embedder is None:
        from agentkit.retrievers.embeddings import default_embedder

        embedder = default_embedder()  # the model loads on the actors, not here
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
