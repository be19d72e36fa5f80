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
from agentkit.scale.cluster import ray_module
from agentkit.scale.pool import ActorPool
from agentkit.scale.specs import load_portable, policy_of, portable, reported

if TYPE_CHECKING:
    import numpy as np

    from agentkit.retrievers.base import Embedder


MIN_SHARD = 16  # texts per call to an actor, at least


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


class RayEmbedder(ActorPool):
    """Embeds each batch split over ``actors`` Ray actors (use it as a context manager, or
    call :meth:`start` and :meth:`close`).

    Args:
        embedder: the embedder to run (its spec travels; it is never pickled), or its spec.
        actors: actors in the pool.
        cpus_per_actor / gpus_per_actor: Ray resources of each actor.
        allow_imports: the import policy the workers load the spec under (as for
            ``agentkit.load``; ``None``: the policy in force here).
    """

    worker, ready, what, building = EmbedWorker, "info", "embedding", "building the embedder"

    def __init__(
        self,
        embedder: Embedder | dict[str, Any],
        *,
        actors: int = 2,
        cpus_per_actor: float = 1.0,
        gpus_per_actor: float = 0.0,
        allow_imports: AllowImports = None,
    ) -> None:
        super().__init__(actors, cpus_per_actor, gpus_per_actor)
        self.spec = dict(embedder) if isinstance(embedder, dict) else portable(embedder, "embedder")
        self.policy = policy_of(allow_imports)
        self._info: tuple[str, int] | None = None

    def worker_args(self) -> tuple[Any, ...]:
        return self.spec, self.policy

    def on_ready(self, answers: list[Any]) -> None:
        self._info = answers[0]

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
        """The vectors of ``texts``, in order. The texts are cut into shards of at least
        :data:`MIN_SHARD` (about four per actor), and each actor is sent the next shard as
        soon as it finishes one, two in its queue: a slow actor (a busy node) takes fewer."""
        import numpy as np

        self._started()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ray = ray_module()
        size = max(MIN_SHARD, math.ceil(len(texts) / (4 * len(self._pool))))
        shards = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        done: list[Any] = [None] * len(shards)
        flying: dict[Any, tuple[int, int]] = {}  # ref -> (shard, actor)
        queued = 0

        def send(actor: int) -> None:
            nonlocal queued
            if queued < len(shards):
                flying[self._pool[actor].embed.remote(shards[queued])] = (queued, actor)
                queued += 1

        for _ in range(2):
            for actor in range(len(self._pool)):
                send(actor)
        while flying:
            ready, _ = ray.wait(list(flying), num_returns=1)
            shard, actor = flying.pop(ready[0])
            done[shard] = ray.get(ready[0])
            send(actor)
        return np.vstack(done).astype(np.float32, copy=False)

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
