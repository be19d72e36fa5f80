"""A concurrency cap shared by every actor of a cluster: a named Ray actor holding an
``asyncio.Semaphore``. Workers that call one served model take a slot per example, so
the model sees at most ``limit`` requests at once however many actors (or drivers using
the same ``name``) run."""

from __future__ import annotations

import asyncio
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.scale.cluster import ray_module

PREFIX = "agentkit-cap-"


class SharedCap:
    """The actor: ``acquire`` waits for a free slot, ``release`` frees one."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.slots = asyncio.Semaphore(limit)
        self.held = self.peak = 0

    async def acquire(self) -> None:
        await self.slots.acquire()
        self.held += 1
        self.peak = max(self.peak, self.held)

    async def release(self) -> None:
        self.held -= 1
        self.slots.release()

    async def stats(self) -> dict[str, int]:
        return {"limit": self.limit, "held": self.held, "peak": self.peak}


def shared_cap(name: str, limit: int) -> Any:
    """The cap named ``name`` on the connected cluster (created with ``limit`` slots when
    it does not exist yet; an existing one keeps its own limit)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise UsageError(f"the shared concurrency cap must be a positive integer, got {limit!r}")
    if not isinstance(name, str) or not name or len(name) > 100 or not name.isprintable():
        raise UsageError(f"the cap name must be printable text of 1-100 characters, got {name!r}")
    ray = ray_module()
    actor = ray.remote(num_cpus=0, max_concurrency=1000)(SharedCap)
    return actor.options(name=PREFIX + name, get_if_exists=True).remote(limit)
