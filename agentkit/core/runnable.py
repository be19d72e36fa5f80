"""The :class:`Runnable`: one node of a chain graph.

A Runnable has one abstract method, :meth:`Runnable.invoke`. ``ainvoke``, ``batch``,
``abatch``, ``stream``, ``astream`` and ``transform`` are built on it and may be overridden
where a node can do better (native async, token streaming, true batching).

Every subclass gets tracing and timeouts automatically: ``__init_subclass__`` wraps the
``invoke``, ``ainvoke``, ``stream``, ``astream``, ``transform`` and ``atransform`` it defines
with :func:`traced`, which makes a span (and reports events, see
:mod:`agentkit.core.events`) when the run config has tracers or an event sink, applies
``timeout`` to ``invoke``/``ainvoke``, and costs one attribute read when there is nothing
to do. The wrapped method always receives a :class:`RunConfig`.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar, Unpack

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import RunTimeoutError, SpecError
from agentkit.core.options import check_options
from agentkit.core.streams import (
    _joined_or_list,
    iterate_in_thread,
    join_chunks,
    transform_in_thread,
)
from agentkit.core.tracing import Span, end_span, start_span

if TYPE_CHECKING:
    from agentkit.core.events import Event
    from agentkit.core.graph import Graph

In = TypeVar("In")
Out = TypeVar("Out")
F = TypeVar("F", bound=Callable[..., Any])


class BatchOptions(TypedDict, total=False):
    """The keyword options of :meth:`Runnable.batch` and :meth:`Runnable.abatch`."""

    max_concurrency: int | None
    """The most inputs running at once (default: the config's ``max_concurrency``)."""
    return_exceptions: bool
    """Return an input's exception in its place instead of raising it (default ``False``)."""


class Runnable(ABC, Generic[In, Out]):
    """A node of a chain graph. Subclasses implement :meth:`invoke`."""

    kind: ClassVar[str] = "node"
    auto_trace: ClassVar[bool] = True  # False: a transparent wrapper that makes no span

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.auto_trace:
            return
        for method in TRACED_METHODS:
            fn = cls.__dict__.get(method)
            if inspect.isfunction(fn) and not getattr(fn, "__agentkit_traced__", False):
                setattr(cls, method, traced(fn))

    @property
    def name(self) -> str:
        return type(self).__name__

    @abstractmethod
    def invoke(self, input: In, config: ConfigLike = None) -> Out:
        """Run the node on one input."""

    async def ainvoke(self, input: In, config: ConfigLike = None) -> Out:
        """Async run; by default ``invoke`` in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self.invoke, input, config)

    def batch(
        self, inputs: Sequence[In], config: ConfigLike = None, **options: Unpack[BatchOptions]
    ) -> list[Any]:
        """Run many inputs: at once where the node batches natively (see
        :meth:`_batch_natively`), else on a thread pool bounded by ``max_concurrency``
        (default: the config's, else 16). See :class:`BatchOptions`."""
        cfg, limit, return_exceptions = _batch_settings(config, options)
        native = self._batch_natively(
            inputs, cfg, options.get("max_concurrency"), return_exceptions
        )
        if native is not None:
            return native
        limit = limit or 16
        call = _catching(self.invoke) if return_exceptions else self.invoke
        if len(inputs) <= 1 or limit == 1:
            return [call(item, cfg) for item in inputs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(limit, len(inputs))) as pool:
            return list(pool.map(lambda item: call(item, cfg), inputs))

    def _batch_natively(
        self, inputs: Sequence[In], cfg: RunConfig, limit: int | None, return_exceptions: bool
    ) -> list[Any] | None:
        """The outputs of :meth:`batch` for a node that can answer many inputs at once (one
        batched model call), as ``batch`` returns them (``limit``: its ``max_concurrency``);
        ``None`` (the default) runs the inputs one by one."""
        return None

    async def abatch(
        self, inputs: Sequence[In], config: ConfigLike = None, **options: Unpack[BatchOptions]
    ) -> list[Any]:
        """Run many inputs concurrently on the event loop, at most ``max_concurrency`` at once
        (default: the config's, else no limit). See :class:`BatchOptions`."""
        import asyncio

        cfg, limit, return_exceptions = _batch_settings(config, options)
        semaphore = asyncio.Semaphore(limit) if limit else None

        async def one(item: In) -> Any:
            try:
                if semaphore is None:
                    return await self.ainvoke(item, cfg)
                async with semaphore:
                    return await self.ainvoke(item, cfg)
            except Exception as exc:
                if return_exceptions:
                    return exc
                raise

        return list(await asyncio.gather(*(one(item) for item in inputs)))

    def stream(self, input: In, config: ConfigLike = None) -> Iterator[Out]:
        """Yield the output in chunks; by default one chunk, the whole output."""
        yield self.invoke(input, config)

    def transform(self, chunks: Iterable[Any], config: ConfigLike = None) -> Iterator[Out]:
        """Stream from a stream of input chunks. By default the chunks are joined with ``+``
        and the node streams on the whole; streaming nodes (parsers) pass chunks through."""
        yield from self.stream(join_chunks(chunks), config)

    async def astream(self, input: In, config: ConfigLike = None) -> AsyncIterator[Out]:
        """Async stream. Nodes that only override ``stream`` are bridged through a thread."""
        if type(self).stream is Runnable.stream:
            yield await self.ainvoke(input, config)
            return
        async for chunk in iterate_in_thread(lambda: self.stream(input, config)):
            yield chunk

    async def atransform(
        self, chunks: AsyncIterator[Any], config: ConfigLike = None
    ) -> AsyncIterator[Out]:
        """Async :meth:`transform`: by default the chunks are joined and the node streams on
        the whole with :meth:`astream` (natively async where the node is); a node that
        overrides only the sync ``transform`` (a streaming parser) runs it in a worker
        thread, fed chunk by chunk."""
        if type(self).transform is not Runnable.transform:
            async for out in transform_in_thread(lambda it: self.transform(it, config), chunks):
                yield out
            return
        async for out in self.astream(join_chunks([c async for c in chunks]), config):
            yield out

    # --- events ----------------------------------------------------------------------

    def stream_events(self, input: In, config: ConfigLike = None) -> Iterator[Event]:
        """Run ``invoke`` on a worker thread and yield its typed events as they happen
        (node start/end, tokens, retrieved documents, tool calls, agent steps), then
        :class:`~agentkit.core.events.Output`. See :mod:`agentkit.core.events`."""
        from agentkit.core.events import stream_events

        return stream_events(self, input, config)

    def astream_events(self, input: In, config: ConfigLike = None) -> AsyncIterator[Event]:
        """Async :meth:`stream_events`: ``ainvoke`` runs as a task on the event loop."""
        from agentkit.core.events import astream_events

        return astream_events(self, input, config)

    # --- composition -----------------------------------------------------------------

    def __or__(self, other: Any) -> Runnable[In, Any]:
        from agentkit.core.compose import Sequence as Seq
        from agentkit.core.compose import coerce

        return Seq(self, coerce(other))

    def __ror__(self, other: Any) -> Runnable[Any, Out]:
        from agentkit.core.compose import Sequence as Seq
        from agentkit.core.compose import coerce

        return Seq(coerce(other), self)

    def pipe(self, *others: Any) -> Runnable[In, Any]:
        from agentkit.core.compose import Sequence as Seq
        from agentkit.core.compose import coerce

        return Seq(self, *(coerce(o) for o in others))

    def with_retry(
        self,
        attempts: int = 3,
        backoff: float = 0.0,
        on: tuple[type[BaseException], ...] = (Exception,),
    ) -> Runnable[In, Out]:
        """Retry up to ``attempts`` times on the given exception types, sleeping
        ``backoff * 2**n`` seconds between tries."""
        from agentkit.core.compose import Retry

        return Retry(self, attempts=attempts, backoff=backoff, on=on)

    def with_fallbacks(
        self, fallbacks: Sequence[Any], on: tuple[type[BaseException], ...] = (Exception,)
    ) -> Runnable[In, Out]:
        """Try the fallbacks in order when this node raises one of ``on``."""
        from agentkit.core.compose import Fallbacks, coerce

        return Fallbacks(self, [coerce(f) for f in fallbacks], on=on)

    def with_config(self, config: ConfigLike = None, **fields: Any) -> Runnable[In, Out]:
        """Bind run-config fields (tags, metadata, run_name, timeout, configurable, ...)."""
        from agentkit.core.compose import Configured

        if isinstance(config, RunConfig):
            from agentkit.core.errors import UsageError

            raise UsageError("with_config takes a dict or keyword fields, not a RunConfig")
        patch = {**(config or {}), **fields}
        return Configured(self, patch)

    def bind(self, **params: Any) -> Runnable[In, Out]:
        """A copy of this node with parameters fixed (models: generation params)."""
        return self._with_params(params)

    def _with_params(self, params: Mapping[str, Any]) -> Runnable[In, Out]:
        from agentkit.core.errors import UsageError

        raise UsageError(f"{self.name} takes no bound parameters (got {sorted(params)})")

    # --- introspection and serialisation ---------------------------------------------

    def graph(self) -> Graph:
        """Nodes and edges of this graph; ``.to_mermaid()`` and ``.to_ascii()`` render it."""
        from agentkit.core.graph import Graph

        return Graph.single(self)

    def to_dict(self) -> dict[str, Any]:
        """A plain-data spec of this node (see :mod:`agentkit.core.spec`)."""
        raise SpecError(
            "$",
            f"{type(self).__name__} cannot be serialised; implement to_dict/from_spec and "
            "register it with @agentkit.core.spec.register",
        )

    def __repr__(self) -> str:
        return f"<{self.name}>"


def _batch_settings(
    config: ConfigLike, options: BatchOptions
) -> tuple[RunConfig, int | None, bool]:
    """A batch call's config, concurrency limit (``None``: not set) and whether it returns
    exceptions: what ``batch`` and ``abatch`` read the same way."""
    check_options(options, BatchOptions.__optional_keys__, "batch")
    cfg = ensure_config(config)
    limit = options.get("max_concurrency") or cfg.max_concurrency
    return cfg, limit, options.get("return_exceptions", False)


def _catching(fn: Callable[[Any, RunConfig], Any]) -> Callable[[Any, RunConfig], Any]:
    def call(item: Any, cfg: RunConfig) -> Any:
        try:
            return fn(item, cfg)
        except Exception as exc:
            return exc

    return call


# --- tracing: applied to every subclass by Runnable.__init_subclass__ ------------------

TRACED_METHODS = ("invoke", "ainvoke", "stream", "astream", "transform", "atransform")


def _timeout_error(node: Runnable[Any, Any], seconds: float) -> RunTimeoutError:
    return RunTimeoutError(
        f"{node.name} did not finish within {seconds} s; raise the limit with "
        ".with_config(timeout=...) or make the step faster"
    )


def traced(fn: F) -> F:
    """Wrap a node's ``invoke``, ``ainvoke``, ``stream``, ``astream``, ``transform`` or
    ``atransform`` with tracing, events and timeouts (``Runnable`` subclasses get this
    automatically). The wrapped function always receives a :class:`RunConfig`."""
    if getattr(fn, "__agentkit_traced__", False):
        return fn
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def ainvoke_wrapper(self: Any, input: Any, config: ConfigLike = None) -> Any:
            cfg = ensure_config(config)
            if cfg.plain or cfg.owner is self:
                return await fn(self, input, cfg)
            return await _traced_async(fn, self, input, cfg)

        ainvoke_wrapper.__agentkit_traced__ = True  # type: ignore[attr-defined]
        return ainvoke_wrapper  # type: ignore[return-value]
    if inspect.isasyncgenfunction(fn):
        slow: Callable[..., Any] = _traced_agen
    elif inspect.isgeneratorfunction(fn):
        slow = _traced_gen
    else:
        slow = _traced_sync

    @functools.wraps(fn)
    def wrapper(self: Any, input: Any, config: ConfigLike = None) -> Any:
        cfg = ensure_config(config)
        if cfg.plain or cfg.owner is self:  # no tracers, events, timeout; or a self-call
            return fn(self, input, cfg)
        return slow(fn, self, input, cfg)

    wrapper.__agentkit_traced__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _open(node: Runnable[Any, Any], input: Any, cfg: RunConfig) -> tuple[Span | None, RunConfig]:
    """Start a span when there are tracers or events; return it with the config for the
    children."""
    events = cfg.events
    if events is None and not cfg.tracers:
        return None, cfg.child(cfg.parent_run_id, node)
    span = start_span(node.name, node.kind, input, cfg)
    if events is not None:
        events.node_start(span, node, input)
    return span, cfg.child(span.id, node)


def _close(
    span: Span,
    node: Runnable[Any, Any],
    input: Any,
    cfg: RunConfig,
    output: Any = None,
    error: BaseException | None = None,
) -> None:
    end_span(span, cfg, output, error)
    if cfg.events is not None:
        cfg.events.node_end(span, node, input, output, error)


def _traced_sync(fn: Callable[..., Any], node: Any, input: Any, cfg: RunConfig) -> Any:
    if cfg.timeout is not None:
        import contextvars
        from concurrent.futures import ThreadPoolExecutor
        from concurrent.futures import TimeoutError as FutureTimeout

        inner = replace(cfg, timeout=None)
        pool = ThreadPoolExecutor(max_workers=1)
        ctx = contextvars.copy_context()
        future = pool.submit(ctx.run, _traced_sync, fn, node, input, inner)
        pool.shutdown(wait=False)
        try:
            return future.result(timeout=cfg.timeout)
        except FutureTimeout:
            raise _timeout_error(node, cfg.timeout) from None
    span, child = _open(node, input, cfg)
    if span is None:
        return fn(node, input, child)
    try:
        output = fn(node, input, child)
    except BaseException as exc:
        _close(span, node, input, cfg, error=exc)
        raise
    end_span(span, cfg, output)  # _close, inlined: this is the traced hot path
    if cfg.events is not None:
        cfg.events.node_end(span, node, input, output)
    return output


async def _traced_async(fn: Callable[..., Any], node: Any, input: Any, cfg: RunConfig) -> Any:
    if cfg.timeout is not None:
        import asyncio

        inner = replace(cfg, timeout=None)
        try:
            return await asyncio.wait_for(_traced_async(fn, node, input, inner), cfg.timeout)
        except asyncio.TimeoutError:
            raise _timeout_error(node, cfg.timeout) from None
    span, child = _open(node, input, cfg)
    if span is None:
        return await fn(node, input, child)
    try:
        output = await fn(node, input, child)
    except BaseException as exc:
        _close(span, node, input, cfg, error=exc)
        raise
    _close(span, node, input, cfg, output)
    return output


def _end_stream(
    span: Span | None,
    node: Any,
    input: Any,
    cfg: RunConfig,
    chunks: list[Any],
    error: BaseException | None = None,
) -> None:
    """End a streamed node's span: with the chunks produced (all of them, or those before
    the consumer stopped early, a ``GeneratorExit``), or with ``error``."""
    if span is None:
        return
    if error is None or isinstance(error, GeneratorExit):
        _close(span, node, input, cfg, _joined_or_list(chunks))
    else:
        _close(span, node, input, cfg, error=error)


def _traced_gen(fn: Callable[..., Any], node: Any, input: Any, cfg: RunConfig) -> Iterator[Any]:
    span, child = _open(node, input, cfg)
    chunks: list[Any] = []
    inner = fn(node, input, child)
    try:
        for chunk in inner:
            chunks.append(chunk)
            yield chunk
    except BaseException as exc:
        inner.close()  # the node's own stream ends (and its children's spans) before its span
        _end_stream(span, node, input, cfg, chunks, exc)
        raise
    _end_stream(span, node, input, cfg, chunks)


async def _traced_agen(
    fn: Callable[..., Any], node: Any, input: Any, cfg: RunConfig
) -> AsyncIterator[Any]:
    span, child = _open(node, input, cfg)
    chunks: list[Any] = []
    inner = fn(node, input, child)
    try:
        async for chunk in inner:
            chunks.append(chunk)
            yield chunk
    except BaseException as exc:
        await inner.aclose()  # the node's own stream ends before its span (as in _traced_gen)
        _end_stream(span, node, input, cfg, chunks, exc)
        raise
    _end_stream(span, node, input, cfg, chunks)
