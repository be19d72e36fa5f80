"""Embedding on a Ray actor pool: each actor builds the embedder from its spec once (one
model load per actor, on a GPU when it is given one) and embeds the shards it is sent.

:class:`RayEmbedder` is an :class:`~agentkit.retrievers.base.Embedder`: anything that
embeds in batches (the :class:`~agentkit.retrievers.ingest.Ingestor` above all) uses it
unchanged. Its ``to_dict`` is the spec of the embedder it runs, so an index built through
it records the same embedder as one built locally, and later runs may mix the two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.core.refs import AllowImports
from agentkit.scale.cluster import ray_module, wait_ready
from agentkit.scale.specs import load_portable, policy_of, portable, raise_reported, reported

if TYPE_CHECKING:
    import numpy as np

    from agentkit.retrievers.base import Embedder


class EmbedWorker:
    """The actor: one embedder built from its spec, kept for the actor's life."""

    def __init__(self, data: dict[str, Any], policy: bool | list[str]) -> None:
        self.spec, self.policy = data, policy
        self.embedder: Any = None

    def info(self) -> tuple[str, int] | str:
        """Build the embedder: its (model id, dimension), or the error as text."""
        try:
            self.embedder = load_portable(self.spec, self.policy, "$.embedder")
            return str(self.embedder.model_id), int(self.embedder.dimension)
        except UsageError as e:
            return reported(e)

    def embed(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        return np.asarray(self.embedder.embed_batch(texts), dtype=np.float32)


class RayEmbedder:
    """Embeds each batch split over ``actors`` Ray actors (use it as a context manager, or
    call :meth:`start` and :meth:`close`).

    Args:
        embedder: the embedder to run (its spec travels; it is never pickled), or its spec.
        actors: actors in the pool.
        cpus_per_actor / gpus_per_actor: Ray resources of each actor.
        allow_imports: the import policy the workers load the spec under (as for
            ``agentkit.load``; ``None``: the policy in force here).
    """

    def __init__(
        self,
        embedder: Embedder | dict[str, Any],
        *,
        actors: int = 2,
        cpus_per_actor: float = 1.0,
        gpus_per_actor: float = 0.0,
        allow_imports: AllowImports = None,
    ) -> None:
        _check_pool(actors, cpus_per_actor, gpus_per_actor)
        self.spec = dict(embedder) if isinstance(embedder, dict) else portable(embedder, "embedder")
        self.actors, self.cpus, self.gpus = actors, float(cpus_per_actor), float(gpus_per_actor)
        self.policy = policy_of(allow_imports)
        self._pool: list[Any] = []
        self._info: tuple[str, int] | None = None

    def start(self) -> RayEmbedder:
        """Start the actors and wait until each has built its embedder."""
        if self._pool:
            return self
        ray = ray_module()
        actor = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus)(EmbedWorker)
        self._pool = [actor.remote(self.spec, self.policy) for _ in range(self.actors)]
        try:
            infos = wait_ready(ray, [a.info.remote() for a in self._pool], "embedding")
        except UsageError:
            self.close()
            raise
        failed = [i for i in infos if isinstance(i, str)]
        if failed:
            self.close()
            raise_reported(failed[0], "building the embedder")
        self._info = infos[0]
        return self

    def close(self) -> None:
        ray = ray_module()
        for actor in self._pool:
            ray.kill(actor)
        self._pool = []

    def __enter__(self) -> RayEmbedder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def model_id(self) -> str:
        return self._started()[0]

    @property
    def dimension(self) -> int:
        return self._started()[1]

    def _started(self) -> tuple[str, int]:
        if self._info is None:
            raise UsageError("the RayEmbedder is not started; use it in a 'with' block")
        return self._info

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts``, in order: one shard per actor, embedded at once."""
        import numpy as np

        self._started()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ray = ray_module()
        size = math.ceil(len(texts) / len(self._pool))
        shards = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        refs = [self._pool[n].embed.remote(shard) for n, shard in enumerate(shards)]
        return np.vstack(ray.get(refs)).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embed_batch([text])[0]]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_batch(texts).tolist()

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)

    def __repr__(self) -> str:
        return f"RayEmbedder({self.spec.get('type')!r}, actors={self.actors})"


def distributed(embedder: Embedder, **pool: Any) -> tuple[Embedder, RayEmbedder]:
    """``embedder`` run on a pool: a :class:`CachedEmbedder` keeps its cache here (hits
    never leave this machine) around a pool of its inner embedder. Returns the embedder to
    use and the (started) pool to close."""
    from agentkit.retrievers.embeddings.cached import CachedEmbedder

    if isinstance(embedder, CachedEmbedder):
        remote = RayEmbedder(embedder.inner, **pool).start()
        return CachedEmbedder(remote, embedder.cache_dir), remote
    remote = RayEmbedder(embedder, **pool).start()
    return remote, remote


def _check_pool(actors: int, cpus: float, gpus: float) -> None:
    if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
        raise UsageError(f"actors must be a positive integer, got {actors!r}")
    for name, value, low in (("cpus_per_actor", cpus, 0.0), ("gpus_per_actor", gpus, 0.0)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
            raise UsageError(f"{name} must be a number >= 0, got {value!r}")
        if math.isinf(value):
            raise UsageError(f"{name} must be finite, got {value!r}")
