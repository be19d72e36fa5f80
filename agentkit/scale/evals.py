"""Evals on a Ray actor pool, written into the same resumable run folder as a local run.

The driver is the local :class:`~agentkit.evals.runner.EvalRunner`: it selects the
examples, skips those already in the journal, appends each record durably as it comes
back, and summarises. Only the record of each example (the chain's prediction and the
metrics' scores, :meth:`EvalRunner.run_one`) is made on a worker. Each actor builds the
chain and the metrics from their specs once; examples go to the actors in small batches
(so a row costs well under a millisecond of Ray overhead) and their records stream back.
Killing the driver loses only the examples in flight: ``resume`` runs each example once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.refs import AllowImports
from agentkit.evals.records import Example
from agentkit.scale.cap import shared_cap
from agentkit.scale.cluster import connected
from agentkit.scale.pool import ActorPool
from agentkit.scale.specs import load_portable, policy_of, portable, raise_reported, reported

RUNNER_OPTIONS = (
    "input_map",
    "output_map",
    "concurrency",
    "timeout",
    "retries",
    "backoff",
    "stream",
    "keep_spans",
    "seed",
)
RUN_OPTIONS = ("limit", "sample", "resume", "report", "on_progress", "meta")  # of EvalRunner.run
BATCH_WAIT_S = 0.002  # how long a partial batch waits for more examples


def metrics_spec(
    names: str | Sequence[str],
    *,
    v2: bool = False,
    judge: Any = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    ks: Sequence[int] = (1, 5, 10),
) -> dict[str, Any]:
    """The metrics as data (the arguments of :func:`~agentkit.evals.build_metrics`, the
    judge model as its spec); workers build the same metrics from it."""
    listed = names.split(",") if isinstance(names, str) else list(names)
    return {
        "names": [str(n) for n in listed],
        "v2": bool(v2),
        "judge": portable(judge, "judge") if judge is not None else None,
        "prices": {k: dict(v) for k, v in prices.items()} if prices else None,
        "ks": [int(k) for k in ks],
    }


def build_from(data: Mapping[str, Any], policy: bool | list[str]) -> list[Any]:
    """The metrics of a :func:`metrics_spec`."""
    from agentkit.evals.metrics import build_metrics

    judge = load_portable(data["judge"], policy, "$.judge") if data.get("judge") else None
    return build_metrics(
        data["names"],
        v2=data["v2"],
        judge=judge,
        model=judge,
        prices=data.get("prices"),
        ks=tuple(data["ks"]),
    )


class EvalWorker:
    """The actor: one runner (chain and metrics built from specs) for the actor's life."""

    def __init__(
        self,
        chain: dict[str, Any],
        metrics: dict[str, Any],
        options: dict[str, Any],
        policy: bool | list[str],
        cap: Any = None,
    ) -> None:
        self.specs = (chain, metrics, options, policy)
        self.runner: Any = None
        self.cap = cap

    async def ready(self) -> str | None:
        """Build the runner; the error, as text, if that fails."""
        from agentkit.evals.runner import EvalRunner

        chain, metrics, options, policy = self.specs
        try:
            graph = load_portable(chain, policy, "$.chain")
            self.runner = EvalRunner(graph, build_from(metrics, policy), **options)
        except UsageError as e:
            return reported(e)
        return None

    async def run_batch(
        self, items: list[tuple[int, dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The records of a batch, or the UsageError (as text) that stops the run."""
        try:
            done = await asyncio.gather(*(self._one(i, _example(e)) for i, e in items))
        except UsageError as e:
            return [], reported(e)
        return list(done), None

    async def _one(self, index: int, example: Example) -> dict[str, Any]:
        if self.cap is None:
            return await self.runner.run_one(index, example)
        await self.cap.acquire.remote()
        try:
            return await self.runner.run_one(index, example)
        finally:
            await self.cap.release.remote()


def _example(data: dict[str, Any]) -> Example:
    return Example(
        id=data["id"],
        question=data["question"],
        answers=tuple(data.get("answers", ())),
        contexts=tuple(data.get("contexts", ())),
        relevant_ids=tuple(data.get("relevant_ids", ())),
        category=data.get("category"),
        metadata=data.get("metadata", {}),
    )


class RayEvalExecutor(ActorPool):
    """Runs example records on ``actors`` Ray actors: ``await executor(index, example)``
    is the ``execute`` hook of :meth:`EvalRunner.run`. Examples that arrive together are
    sent together, up to ``batch`` per call; each actor runs its batch concurrently.
    ``max_calls`` caps the examples in flight across every actor (and every driver that
    names the same ``cap_name``): the rate limit of a served model."""

    worker, what, building = EvalWorker, "eval", "building the chain and metrics"

    def __init__(
        self,
        chain: Any,
        metrics: dict[str, Any],
        options: dict[str, Any],
        *,
        actors: int = 2,
        cpus_per_actor: float = 1.0,
        gpus_per_actor: float = 0.0,
        batch: int = 8,
        max_calls: int | None = None,
        cap_name: str = "default",
        allow_imports: AllowImports = None,
    ) -> None:
        super().__init__(actors, cpus_per_actor, gpus_per_actor)
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise UsageError(f"batch must be a positive integer, got {batch!r}")
        unknown = sorted(set(options) - set(RUNNER_OPTIONS))
        if unknown:
            raise UsageError(
                f"{unknown[0]!r} cannot be sent to Ray workers; "
                f"allowed: {', '.join(RUNNER_OPTIONS)}"
            )
        self.policy = policy_of(allow_imports)
        self.chain = portable(chain, "chain")
        self.metrics, self.options = metrics, dict(options)
        self.batch, self.max_calls, self.cap_name = batch, max_calls, cap_name
        self._load: list[int] = []
        self._pending: list[tuple[int, Example, asyncio.Future[dict[str, Any]]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    def worker_args(self) -> tuple[Any, ...]:
        cap = shared_cap(self.cap_name, self.max_calls) if self.max_calls else None
        return self.chain, self.metrics, self.options, self.policy, cap

    def on_ready(self, answers: list[Any]) -> None:
        self._load = [0] * self.actors  # examples in flight per actor

    async def __call__(self, index: int, example: Example) -> dict[str, Any]:
        if not self._pool:
            raise UsageError("the RayEvalExecutor is not started; use it in a 'with' block")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending.append((index, example, done))
        if len(self._pending) >= self.batch:
            self._dispatch()
        elif self._timer is None:
            self._timer = loop.call_later(BATCH_WAIT_S, self._dispatch)
        return await done

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            items, self._pending = self._pending[: self.batch], self._pending[self.batch :]
            n = self._load.index(min(self._load))  # the least busy actor
            self._load[n] += len(items)
            payload = [(i, ex.to_dict()) for i, ex, _ in items]
            ref = self._pool[n].run_batch.remote(payload)
            # held until done (the loop keeps weak references only); _collect drops it
            self._tasks.add(asyncio.ensure_future(self._collect(n, ref, [f for _, _, f in items])))

    async def _collect(self, n: int, ref: Any, futures: list[asyncio.Future[Any]]) -> None:
        try:
            records, failure = await ref
            raise_reported(failure, "running an example")
        except BaseException as e:
            for future in futures:
                if not future.done():
                    future.set_exception(e)
            return
        finally:
            self._load[n] -= len(futures)
            self._tasks.discard(asyncio.current_task())
        for future, record in zip(futures, records, strict=True):
            if not future.done():
                future.set_result(record)


def ray_run_eval(
    chain: Any,
    dataset: Any,
    metrics: str | Sequence[str],
    out_dir: str | Path | None = None,
    *,
    judge: Any = None,
    prices: Mapping[str, Mapping[str, float]] | None = None,
    ks: Sequence[int] = (1, 5, 10),
    address: str | None = None,
    actors: int | None = None,
    cpus_per_actor: float = 1.0,
    gpus_per_actor: float = 0.0,
    concurrency: int = 8,
    max_calls: int | None = None,
    allow_imports: AllowImports = None,
    runtime_env: dict[str, Any] | None = None,
    **options: Any,
) -> Any:
    """:func:`~agentkit.evals.run_eval` with the examples run on Ray actors: the same
    records, run folder, journal and resume. ``metrics`` are names (as for
    ``build_metrics``, with ``judge``, ``prices``, ``ks``); ``concurrency`` is examples at
    once per actor; ``max_calls`` caps examples in flight across the cluster. ``options``
    are those of :meth:`EvalRunner.run` (limit, sample, resume, report, on_progress,
    meta) and of the :class:`EvalRunner` (input_map, output_map as data, timeout...)."""
    from agentkit.evals.runner import EvalRunner

    run = {name: options.pop(name) for name in RUN_OPTIONS if name in options}
    for name in ("input_map", "output_map"):
        value = options.get(name)
        if callable(value):
            raise UsageError(
                f"{name} is a function ({value!r:.60}), which cannot travel to Ray workers; "
                f"give {name} as a mapping or field name"
            )
    spec = metrics_spec(metrics, v2=dataset.has_unanswerable, judge=judge, prices=prices, ks=ks)
    local = build_from(spec, policy_of(allow_imports))
    runner = EvalRunner(chain, local, concurrency=concurrency, **options)  # checks options
    sent = {**options, "concurrency": concurrency}
    with connected(address, runtime_env=runtime_env) as ray:
        count = actors or max(
            1, int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_actor, 1e-9))
        )
        executor = RayEvalExecutor(
            chain,
            spec,
            sent,
            actors=count,
            cpus_per_actor=cpus_per_actor,
            gpus_per_actor=gpus_per_actor,
            batch=max(1, concurrency // 2),
            max_calls=max_calls,
            allow_imports=allow_imports,
        )
        runner.concurrency = count * concurrency  # examples in flight on the driver
        with executor:
            return asyncio.run(runner.run(dataset, out_dir, execute=executor, **run))
