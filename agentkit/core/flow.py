"""Write a node's logic once, run it sync, async or streamed.

A *flow* is a generator that yields operations (:class:`Call`, :class:`Stream`,
:class:`Emit`, :class:`Gather`, :class:`Sleep`) and receives their results.
:func:`run_flow` performs them with blocking calls, :func:`arun_flow` with ``await``, and
:func:`stream_flow` / :func:`astream_flow` stream: ``Stream`` ops run their node streamed
and ``Emit`` ops hand a chunk to the caller. Exceptions from an operation are thrown back
into the generator at its ``yield``, so ``try``/``except`` in a flow handles them the same
way in every mode; but once a ``Stream`` op has forwarded a chunk, its error ends the
stream instead (output the caller has seen cannot be taken back, so a retry or fallback
would duplicate it). This is how composites and chains avoid sync/async and
invoke/stream twin copies.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.core.streams import iterate_in_thread, join_chunks

In = TypeVar("In")
Out = TypeVar("Out")


class Call(NamedTuple):
    """Run ``runnable`` on ``input``; the flow receives its output."""

    runnable: Runnable[Any, Any]
    input: Any
    config: RunConfig


class Stream(NamedTuple):
    """Like :class:`Call`; when the flow runs streamed, the node streams and each chunk is
    forwarded to the caller (``chunk[pick]`` of dict chunks, skipping those without it, when
    ``pick`` is set; as ``{key: chunk}`` when ``key`` is set); the flow then receives the
    joined chunks (``None`` when there were none)."""

    runnable: Runnable[Any, Any]
    input: Any
    config: RunConfig
    key: str | None = None
    pick: str | None = None


class Emit(NamedTuple):
    """Hand ``chunk`` to the caller of a streamed run (ignored by ``invoke``/``ainvoke``)."""

    chunk: Any


class Gather(NamedTuple):
    """Run several calls concurrently; the flow receives their outputs in order. On a
    failure: async, the other calls are cancelled; sync, calls not started yet are
    cancelled and running ones finish; then the first failure is raised."""

    calls: Sequence[Call]
    max_concurrency: int | None = None


class Sleep(NamedTuple):
    """Wait ``seconds`` (``time.sleep`` or ``asyncio.sleep``)."""

    seconds: float


Op = Call | Stream | Emit | Gather | Sleep
FlowGen = Generator[Op, Any, Any]


class _NotAnOp(UsageError):
    """A flow yielded something that is not an operation (a bug in the flow)."""


def _not_an_op(value: Any) -> _NotAnOp:
    shown = repr(value)
    shown = shown if len(shown) <= 200 else shown[:197] + "..."
    return _NotAnOp(
        f"a flow yielded {shown} ({type(value).__name__}), which is not an operation; "
        "yield Call, Stream, Emit, Gather or Sleep (agentkit.core.flow)"
    )


def _gather(calls: Sequence[Call], max_concurrency: int | None) -> list[Any]:
    calls = list(calls)
    if len(calls) <= 1 or max_concurrency == 1:
        return [c.runnable.invoke(c.input, c.config) for c in calls]
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    workers = min(len(calls), max_concurrency or 16)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(c.runnable.invoke, c.input, c.config) for c in calls]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()  # not started yet: never starts; running: finishes
            error = failed[0].exception()
            assert error is not None
            raise error
        return [f.result() for f in futures]


def _perform(op: Any) -> Any:
    kind = type(op)
    if kind is Call or kind is Stream:
        return op.runnable.invoke(op.input, op.config)
    if kind is Gather:
        return _gather(op.calls, op.max_concurrency)
    if kind is Sleep:
        time.sleep(op.seconds)
        return None
    if kind is Emit:
        return None
    raise _not_an_op(op)


async def _agather(calls: Sequence[Call], max_concurrency: int | None) -> list[Any]:
    import asyncio

    if not calls:
        return []
    limit = max_concurrency
    semaphore = asyncio.Semaphore(limit) if limit and limit < len(calls) else None

    async def one(c: Call) -> Any:
        if semaphore is None:
            return await c.runnable.ainvoke(c.input, c.config)
        async with semaphore:
            return await c.runnable.ainvoke(c.input, c.config)

    tasks = [asyncio.ensure_future(one(c)) for c in calls]
    try:
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:  # the caller was cancelled: so are the branches
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    if failed:  # cancel the siblings and let their finally blocks run, then raise
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        error = failed[0].exception()
        assert error is not None
        raise error
    return [t.result() for t in tasks]


async def _aperform(op: Any) -> Any:
    import asyncio

    kind = type(op)
    if kind is Call or kind is Stream:
        return await op.runnable.ainvoke(op.input, op.config)
    if kind is Gather:
        return await _agather(op.calls, op.max_concurrency)
    if kind is Sleep:
        await asyncio.sleep(op.seconds)
        return None
    if kind is Emit:
        return None
    raise _not_an_op(op)


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
        except _NotAnOp:
            gen.close()
            raise
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
        except _NotAnOp:
            gen.close()
            raise
        except Exception as exc:
            value, error = None, exc


class _Tail:
    """What a streamed flow has emitted, to decide its last chunk."""

    __slots__ = ("emitted", "keys")

    def __init__(self) -> None:
        self.emitted = False
        self.keys: set[Any] | None = set()  # None once a chunk was not a dict

    def saw(self, chunk: Any) -> None:
        self.emitted = True
        if self.keys is not None:
            if isinstance(chunk, Mapping):
                self.keys.update(chunk)
            else:
                self.keys = None

    def last(self, output: Any) -> list[Any]:
        """Nothing emitted: the output is the one chunk. Dict chunks and a dict output: the
        keys not streamed yet (the output itself when none was), so chunks join to it."""
        if not self.emitted:
            return [output]
        if self.keys is None or not isinstance(output, Mapping):
            return []
        if not self.keys & output.keys():
            return [output]
        rest = {k: v for k, v in output.items() if k not in self.keys}
        return [rest] if rest else []


_SKIP: Any = object()
_DONE: Any = object()


class _StreamRun:
    """One streamed run of a flow: everything :func:`stream_flow` and :func:`astream_flow`
    share. The drivers differ only in how an op is performed and a node streamed
    (blocking or awaited); :meth:`source` / :meth:`asource` do that part."""

    __slots__ = ("chunks", "error", "forwarded", "gen", "last", "tail", "value")

    def __init__(self, gen: FlowGen) -> None:
        self.gen = gen
        self.tail = _Tail()
        self.value: Any = None
        self.error: BaseException | None = None
        self.chunks: list[Any] = []
        self.forwarded = False
        self.last: list[Any] = []

    def next_op(self) -> Any:
        """Send the flow the last result (or throw it the last error): its next op, or
        ``_DONE`` once it has returned (then :attr:`last` holds the closing chunks)."""
        try:
            op = self.gen.send(self.value) if self.error is None else self.gen.throw(self.error)
        except StopIteration as stop:
            self.last = self.tail.last(stop.value)
            return _DONE
        self.value, self.error, self.chunks, self.forwarded = None, None, [], False
        return op

    def emitted(self, chunk: Any) -> Any:
        """``chunk`` goes to the caller: it can no longer be taken back."""
        self.forwarded = True
        self.tail.saw(chunk)
        return chunk

    def shaped(self, op: Stream, chunk: Any) -> Any:
        """A chunk of ``op``'s node as the caller gets it (``_SKIP``: not forwarded)."""
        self.chunks.append(chunk)
        if op.pick is not None and isinstance(chunk, Mapping):
            if op.pick not in chunk:
                return _SKIP
            chunk = chunk[op.pick]
        return self.emitted(chunk if op.key is None else {op.key: chunk})

    def joined(self) -> None:
        """``op``'s node finished: the flow receives its joined chunks."""
        self.value = join_chunks(self.chunks) if self.chunks else None

    def failed(self, error: Exception) -> None:
        """An op failed: thrown back into the flow, unless its output was already forwarded
        (no retry or fallback may repeat it) or the flow yielded a non-op (a bug)."""
        if self.forwarded or isinstance(error, _NotAnOp):
            raise error
        self.error = error

    def source(self, op: Any) -> Iterator[Any]:
        """Perform ``op`` with blocking calls, yielding what goes to the caller."""
        if isinstance(op, Emit):
            yield self.emitted(op.chunk)
        elif isinstance(op, Stream):
            for chunk in op.runnable.stream(op.input, op.config):
                if (out := self.shaped(op, chunk)) is not _SKIP:
                    yield out
            self.joined()
        else:
            self.value = _perform(op)

    async def asource(self, op: Any) -> AsyncIterator[Any]:
        """:meth:`source` on the event loop (``astream``, ``ainvoke``, ``asyncio.sleep``)."""
        if isinstance(op, Emit):
            yield self.emitted(op.chunk)
        elif isinstance(op, Stream):
            async for chunk in op.runnable.astream(op.input, op.config):
                if (out := self.shaped(op, chunk)) is not _SKIP:
                    yield out
            self.joined()
        else:
            self.value = await _aperform(op)


def stream_flow(gen: FlowGen) -> Iterator[Any]:
    """Drive a flow with blocking calls, yielding the chunks it streams (see :class:`Stream`
    and :class:`Emit`), then its last chunk (see ``Flow.stream``)."""
    run = _StreamRun(gen)
    try:
        while (op := run.next_op()) is not _DONE:
            try:
                yield from run.source(op)
            except Exception as exc:
                run.failed(exc)
        yield from run.last
    finally:
        gen.close()


async def astream_flow(gen: FlowGen) -> AsyncIterator[Any]:
    """Async :func:`stream_flow` (nodes stream with ``astream``, calls use ``ainvoke``)."""
    run = _StreamRun(gen)
    try:
        while (op := run.next_op()) is not _DONE:
            try:
                async for chunk in run.asource(op):
                    yield chunk
            except Exception as exc:
                run.failed(exc)
        for chunk in run.last:
            yield chunk
    finally:
        gen.close()


class Flow(Runnable[In, Out]):
    """A Runnable whose logic is a flow: implement :meth:`flow`, get ``invoke``, a native
    ``ainvoke`` (children run with ``ainvoke``, fan-out as tasks that a failure cancels) and
    ``stream``/``astream`` (the chunks the flow streams; a flow that streams nothing yields
    its output as one chunk)."""

    @abstractmethod
    def flow(self, input: In, config: RunConfig) -> FlowGen:
        """Yield operations; return the output."""

    def invoke(self, input: In, config: ConfigLike = None) -> Out:
        return run_flow(self.flow(input, ensure_config(config)))

    async def ainvoke(self, input: In, config: ConfigLike = None) -> Out:
        return await arun_flow(self.flow(input, ensure_config(config)))

    def stream(self, input: In, config: ConfigLike = None) -> Iterator[Out]:
        yield from stream_flow(self.flow(input, ensure_config(config)))

    async def astream(self, input: In, config: ConfigLike = None) -> AsyncIterator[Out]:
        """The flow streamed on the event loop; a subclass that overrides only the sync
        ``stream`` has it bridged through a worker thread instead."""
        if type(self).stream is not Flow.stream:
            async for chunk in iterate_in_thread(lambda: self.stream(input, config)):
                yield chunk
            return
        async for chunk in astream_flow(self.flow(input, ensure_config(config))):
            yield chunk
