"""A pool of Ray actors of one worker class, started together and checked once.

Each actor builds its components from specs when it answers its ``ready`` method: a string
answer is the error that stopped it (agentkit's errors do not survive Ray's pickling), any
other answer is handed to :meth:`ActorPool.on_ready`. Actors that are not all placed in
time, or that fail, are killed and the error is raised here.
"""

from __future__ import annotations

import math
from typing import Any, Self

from agentkit.core.errors import UsageError
from agentkit.scale.cluster import ray_module, wait_ready
from agentkit.scale.specs import raise_reported


def check_pool(actors: int, cpus: float, gpus: float) -> None:
    """A UsageError unless ``actors`` is a positive integer and the resources are >= 0."""
    if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
        raise UsageError(f"actors must be a positive integer, got {actors!r}")
    for name, value in (("cpus_per_actor", cpus), ("gpus_per_actor", gpus)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise UsageError(f"{name} must be a number >= 0, got {value!r}")
        if math.isinf(value):
            raise UsageError(f"{name} must be finite, got {value!r}")


class ActorPool:
    """``actors`` Ray actors of ``worker`` (use it as a context manager, or call
    :meth:`start` and :meth:`close`). A user of the pool sets ``worker``, ``ready`` (the
    method each actor answers once), ``what`` and ``building`` (for errors) and
    :meth:`worker_args`."""

    worker: type
    ready = "ready"
    what = "Ray"  # "<what> actors started within ..."
    building = "building its components"  # "a Ray worker failed (<building>)"

    def __init__(self, actors: int, cpus_per_actor: float, gpus_per_actor: float) -> None:
        check_pool(actors, cpus_per_actor, gpus_per_actor)
        self.actors, self.cpus, self.gpus = actors, float(cpus_per_actor), float(gpus_per_actor)
        self._pool: list[Any] = []

    def worker_args(self) -> tuple[Any, ...]:
        """The arguments each actor is made with (called in :meth:`start`)."""
        return ()

    def on_ready(self, answers: list[Any]) -> None:
        """Keep what the actors answered once they are all ready."""

    def start(self) -> Self:
        """Start the actors and wait until each has answered ``ready`` (no-op if started)."""
        if self._pool:
            return self
        ray = ray_module()
        actor = ray.remote(num_cpus=self.cpus, num_gpus=self.gpus)(self.worker)
        args = self.worker_args()
        self._pool = [actor.remote(*args) for _ in range(self.actors)]
        try:
            firsts = [getattr(a, self.ready).remote() for a in self._pool]
            answers = wait_ready(ray, firsts, self.what)
            raise_reported(next((a for a in answers if isinstance(a, str)), None), self.building)
        except UsageError:
            self.close()
            raise
        self.on_ready(answers)
        return self

    def close(self) -> None:
        ray = ray_module()
        for actor in self._pool:
            ray.kill(actor)
        self._pool = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
