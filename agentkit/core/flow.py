"""Write a node's logic once, run it sync or async.

A *flow* is a generator that yields operations (:class:`Call`, :class:`Gather`,
:class:`Sleep`) and receives their results; :func:`run_flow` performs them with blocking
calls and :func:`arun_flow` with ``await``. Exceptions from an operation are thrown back into
the generator at its ``yield``, so ``try``/``except`` in a flow handles them the same way in
both modes. This is how composites and chains avoid sync/async twin copies.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Generator, Sequence
from typing import Any, NamedTuple, TypeVar

from agentkit.core.config import ConfigLike, RunConfig
from agentkit.core.runnable import Runnable, traced

In = TypeVar("In")
Out = TypeVar("Out")


class Call(NamedTuple):
    """Run ``runnable`` on ``input``; the flow receives its output."""

    runnable: Runnable[Any, Any]
    input: Any
    config: RunConfig


class Gather(NamedTuple):
    """Run several calls concurrently; the flow receives their outputs in order."""

    calls: Sequence[Call]
    max_concurrency: int | None = None


class Sleep(NamedTuple):
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``)."""

    seconds: float


Op = Call | Gather | Sleep
FlowGen = Generator[Op, Any, Any]


def _perform(op: Op) -> Any:
    if isinstance(op, Call):
        return op.runnable.invoke(op.input, op.config)
    if isinstance(op, Gather):
        calls = list(op.calls)
        if len(calls) == 1 or op.max_concurrency == 1:
            return [c.runnable.invoke(c.input, c.config) for c in calls]
        workers = min(len(calls), op.max_concurrency or 16)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(c.runnable.invoke, c.input, c.config) for c in calls]
            return [f.result() for f in futures]
    time.sleep(op.seconds)
    return None


async def _aperform(op: Op) -> Any:
    import asyncio

    if isinstance(op, Call):
        return await op.runnable.ainvoke(op.input, op.config)
    if isinstance(op, Gather):
        limit = op.max_concurrency
        if not limit or limit >= len(op.calls):
            coros = [c.runnable.ainvoke(c.input, c.config) for c in op.calls]
            return list(await asyncio.gather(*coros))
        semaphore = asyncio.Semaphore(limit)

        async def one(c: Call) -> Any:
            async with semaphore:
                return await c.runnable.ainvoke(c.input, c.config)

        return list(await asyncio.gather(*(one(c) for c in op.calls)))
    await asyncio.sleep(op.seconds)
    return None


def run_flow(gen: FlowGen) -> Any:
    """Drive a flow with blocking calls."""
    value: Any = None
    error: BaseException | None = None
    send, throw = gen.send, gen.throw
    while True:
        try:
            op = send(value) if error is None else throw(error)
        except StopIteration as stop:
            return stop.value
        error = None
        try:
            # a Call is the common case: inlined, as this loop is the hot path of every chain
            value = op.runnable.invoke(op.input, op.config) if type(op) is Call else _perform(op)
        except Exception as exc:
            value, error = None, exc


async def arun_flow(gen: FlowGen) -> Any:
    """Drive a flow on the event loop."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            op = gen.throw(error) if error is not None else gen.send(value)
        except StopIteration as stop:
            return stop.value
        error = None
        try:
            value = await _aperform(op)
        except Exception as exc:
            value, error = None, exc


class Flow(Runnable[In, Out]):
    """A Runnable whose logic is a flow: implement :meth:`flow`, get ``invoke`` and a native
    ``ainvoke`` (children run with ``ainvoke``, fan-out with ``asyncio.gather``)."""

    @abstractmethod
    def flow(self, input: In, config: RunConfig) -> FlowGen:
        """Yield operations; return the output."""

    @traced
    def invoke(self, input: In, config: ConfigLike = None) -> Out:
        return run_flow(self.flow(input, config))  # type: ignore[arg-type]

    @traced
    async def ainvoke(self, input: In, config: ConfigLike = None) -> Out:
        return await arun_flow(self.flow(input, config))  # type: ignore[arg-type]
