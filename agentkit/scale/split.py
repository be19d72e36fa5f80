"""Loading and splitting on Ray: files are read, hashed, parsed and split in Ray tasks of a
few files each (:func:`~agentkit.retrievers.ingest.prepare.prepare_file`, the local code),
and their results come back in file order to the driver's ingestion run, which decides and
writes exactly as locally.

The splitter travels as its spec; the workers use agentkit's own loaders (custom
``loaders`` cannot travel: they have no spec). The files must be readable at the same paths
on every node (shared storage), as the index folder must be for the driver.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.refs import AllowImports
from agentkit.scale.cluster import ray_module
from agentkit.scale.specs import load_portable, policy_of, portable, raise_reported, reported

if TYPE_CHECKING:
    from agentkit.retrievers.ingest.prepare import FileTask, Prepared
    from agentkit.retrievers.splitters import Splitter

Item = tuple[str, str, str | None]  # path, source, stored hash


def split_files(
    splitter: dict[str, Any], policy: bool | list[str], max_bytes: int, items: list[Item]
) -> tuple[int, list[Prepared] | str]:
    """The task: this worker's pid and the prepared files of ``items`` in order (or the
    UsageError that stops the run, as text)."""
    from agentkit.retrievers.ingest.prepare import prepare_file
    from agentkit.retrievers.loaders import DirectoryLoader

    try:
        built = load_portable(splitter, policy, "$.splitter")
        loader = DirectoryLoader(".", max_bytes=max_bytes)
        return os.getpid(), [prepare_file(Path(p), s, loader, built, h) for p, s, h in items]
    except UsageError as e:
        return os.getpid(), reported(e)


class RayPreparer:
    """A :data:`~agentkit.retrievers.ingest.prepare.Preparer` running on Ray: files in
    tasks of up to ``files_per_task``, at most ``window`` tasks in flight (default: two per
    CPU of the cluster), results in file order. ``cpus_per_task`` defaults to 0 so that the
    tasks run beside an embedding pool that holds every CPU. ``tasks`` and ``pids`` record
    how many tasks ran and in which worker processes."""

    def __init__(
        self,
        *,
        files_per_task: int = 16,
        window: int | None = None,
        cpus_per_task: float = 0.0,
        allow_imports: AllowImports = None,
    ) -> None:
        for name, value in (("files_per_task", files_per_task), ("window", window)):
            if name == "window" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(cpus_per_task, bool) or not isinstance(cpus_per_task, int | float):
            raise UsageError(f"cpus_per_task must be a number >= 0, got {cpus_per_task!r}")
        if not 0 <= cpus_per_task < math.inf:
            raise UsageError(f"cpus_per_task must be a number >= 0, got {cpus_per_task!r}")
        self.files_per_task, self.window, self.cpus = files_per_task, window, float(cpus_per_task)
        self.policy = policy_of(allow_imports)
        self.tasks = 0
        self.pids: set[int] = set()

    def __call__(self, tasks: Sequence[FileTask], splitter: Splitter) -> Iterator[Prepared]:
        spec = self.check(splitter, [lo.loaders for _, _, lo, _ in tasks])
        return self._run(tasks, spec, min((lo.max_bytes for _, _, lo, _ in tasks), default=1))

    def check(self, splitter: Splitter, loaders: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The splitter's spec, checked to load as the workers will load it; a SpecError
        naming what cannot travel (an unspecced splitter, a custom loader)."""
        from agentkit.retrievers.loaders.directory import DEFAULT_LOADERS

        for mapping in loaders:
            custom = sorted(k for k, v in mapping.items() if DEFAULT_LOADERS.get(k) is not v)
            if custom:
                raise SpecError(
                    "loaders",
                    f"the loader for {custom[0]!r} ({mapping[custom[0]]!r:.60}) cannot travel "
                    "to Ray workers (loaders have no spec); drop the custom loaders or pass "
                    "load_on_workers=False to load and split on the driver",
                )
        spec = portable(splitter, "splitter")
        load_portable(spec, self.policy, "$.splitter")  # a spec the workers can load
        return spec

    def _run(
        self, tasks: Sequence[FileTask], spec: dict[str, Any], max_bytes: int
    ) -> Iterator[Prepared]:
        if not tasks:
            return
        ray = ray_module()
        window = self.window or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        size = max(1, min(self.files_per_task, math.ceil(len(tasks) / window)))
        remote = ray.remote(num_cpus=self.cpus, max_retries=2)(split_files)
        items = [(str(p), s, h) for p, s, _, h in tasks]
        batches = [items[i : i + size] for i in range(0, len(items), size)]
        flying: deque[Any] = deque()
        sent = 0
        while sent < len(batches) or flying:
            while sent < len(batches) and len(flying) < window:
                flying.append(remote.remote(spec, self.policy, max_bytes, batches[sent]))
                sent += 1
            pid, done = ray.get(flying.popleft())
            self.tasks += 1
            self.pids.add(pid)
            if isinstance(done, str):
                raise_reported(done, "loading and splitting files")
            yield from done
