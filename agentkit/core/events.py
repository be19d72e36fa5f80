"""The typed event stream of a run: ``stream_events`` / ``astream_events`` on every Runnable.

A run with events carries an :class:`EventSink` in its config (``RunConfig.events``). The
tracing machinery that wraps every node reports :class:`NodeStart`, :class:`NodeEnd` and
:class:`NodeError` (with run ids and parent run ids, so consumers can rebuild the tree);
a node of kind ``"retriever"`` also reports :class:`Retrieved` and a node of kind ``"tool"``
:class:`ToolCall` / :class:`ToolResult`; chat models report each :class:`Token` as they
generate (they stream whenever a run has events) and agents each :class:`AgentStep`. The
last event is :class:`Output`, the run's result (what ``invoke`` returns). When the run
fails, the stream raises the run's exception after the :class:`NodeError` events.

Events are frozen dataclasses; ``event.type`` names the kind (``"node_start"``, ...).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from agentkit.core.config import ConfigLike, ensure_config

if TYPE_CHECKING:
    from agentkit.core.runnable import Runnable
    from agentkit.core.tracing import Span


class _Event:
    """The root of the events: ``class X(_Event, type="x")`` sets ``X.type``."""

    __slots__ = ()
    type: ClassVar[str]

    def __init_subclass__(cls, type: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if type is not None:  # None: an intermediate base, or dataclass's slotted copy
            cls.type = type


@dataclass(frozen=True, slots=True)
class _NodeRun(_Event):
    """Where a node's run stands in the run tree: the fields of its start, end and error."""

    run_id: str
    parent_run_id: str | None
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class NodeStart(_NodeRun, type="node_start"):
    """A node started. ``parent_run_id`` is the run id of the node that called it
    (``None`` for the root); ``input`` is the node's input as given."""

    input: Any


@dataclass(frozen=True, slots=True)
class NodeEnd(_NodeRun, type="node_end"):
    """A node finished with ``output`` (a streamed node: its joined chunks so far)."""

    output: Any


@dataclass(frozen=True, slots=True)
class NodeError(_NodeRun, type="error"):
    """A node failed; it ends the node (there is no :class:`NodeEnd` for it). ``error``
    is ``"<ExceptionType>: <message>"``; ``exception`` is the exception itself. A caller
    may still recover (a retry, a fallback, a tool failure shown to the agent)."""

    error: str
    exception: BaseException = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class _NodeReport(_Event):
    """The node a tracing report is about: its run id and name."""

    run_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Retrieved(_NodeReport, type="retrieved"):
    """A retriever node returned ``documents`` (best first) for ``query``. Every node of
    kind ``"retriever"`` reports, so a hybrid retriever's parts do too: the one whose
    ``NodeStart`` has the chain as parent is the chain's retrieval."""

    query: Any
    documents: list[Any]


@dataclass(frozen=True, slots=True)
class ToolCall(_NodeReport, type="tool_call"):
    """A tool node starts on ``input`` (its arguments as given); ``name`` is the tool's."""

    input: Any


@dataclass(frozen=True, slots=True)
class ToolResult(_NodeReport, type="tool_result"):
    """A tool node returned ``output`` (a failing tool gives a :class:`NodeError`)."""

    output: Any


@dataclass(frozen=True, slots=True)
class _SelfReport(_Event):
    """The node that reports from inside its own run: its run id (``None`` in a run
    without tracing) and name."""

    run_id: str | None
    name: str


@dataclass(frozen=True, slots=True)
class Token(_SelfReport, type="token"):
    """A piece of a chat model's reply. ``run_id``/``name`` are the model node's;
    ``text`` is the piece's text and ``chunk`` the message chunk itself."""

    text: str
    chunk: Any = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class AgentStep(_SelfReport, type="agent_step"):
    """An agent recorded a step (an :class:`agentkit.agents.Step`: thought, tool, input,
    observation, seconds, error)."""

    step: Any


@dataclass(frozen=True, slots=True)
class Output(_Event, type="output"):
    """The run's result (what ``invoke`` returns); always the last event."""

    run_id: str | None
    output: Any


Event = (
    NodeStart | NodeEnd | NodeError | Token | Retrieved | ToolCall | ToolResult | AgentStep | Output
)


class EventStreamClosed(BaseException):
    """Raised inside a run whose event reader has stopped reading: the run ends at its next
    event instead of running on unseen. Like ``asyncio.CancelledError`` it is not an
    ``Exception``, so retries, fallbacks and error-catching flows let it through."""


class EventSink:
    """Where a run's events go (``RunConfig.events``). Nodes call :meth:`emit`; the tracing
    machinery calls :meth:`node_start` and :meth:`node_end`."""

    def __init__(self, put: Callable[[Any], None], root_parent: str | None = None) -> None:
        self._put = put
        self._closed = threading.Event()
        self._root_parent = root_parent
        self.root_run_id: str | None = None

    def emit(self, event: Event) -> None:
        if self._closed.is_set():
            raise EventStreamClosed("the event stream's reader stopped reading")
        self._put(event)

    def close(self) -> None:
        """The reader is gone: the run stops at its next event."""
        self._closed.set()

    def node_start(self, span: Span, node: Runnable[Any, Any], input: Any) -> None:
        if self.root_run_id is None and span.parent_id == self._root_parent:
            self.root_run_id = span.id
        self.emit(NodeStart(span.id, span.parent_id, span.name, node.kind, input))
        if node.kind == "tool":
            self.emit(ToolCall(span.id, node.name, input))

    def node_end(
        self,
        span: Span,
        node: Runnable[Any, Any],
        input: Any,
        output: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """Never raises for a closed stream: it runs while a node unwinds."""
        kind = node.kind
        if error is not None:
            text = f"{type(error).__name__}: {error}"
            self._put(NodeError(span.id, span.parent_id, span.name, kind, text, error))
            return
        if kind == "retriever" and isinstance(output, list):
            self._put(Retrieved(span.id, node.name, input, output))
        elif kind == "tool":
            self._put(ToolResult(span.id, node.name, output))
        self._put(NodeEnd(span.id, span.parent_id, span.name, kind, output))

    def token(self, run_id: str | None, name: str, chunk: Any) -> None:
        """Report a model's chunk (a message chunk or text) as a :class:`Token`."""
        text = chunk if isinstance(chunk, str) else getattr(chunk, "content", None)
        if isinstance(text, str) and text:
            self.emit(Token(run_id, name, text, chunk))


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE: Any = object()


def _received(item: Any) -> Event | None:
    """A queued item as the reader sees it: an event, ``None`` once the run is done, or
    the run's exception, raised."""
    if isinstance(item, _Failed):
        raise item.error
    return None if item is _DONE else item


def stream_events(
    node: Runnable[Any, Any], input: Any, config: ConfigLike = None
) -> Iterator[Event]:
    """Run ``node.invoke`` in a worker thread and yield its events as they happen."""
    import contextvars
    import queue

    cfg = ensure_config(config)
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    sink = EventSink(items.put, cfg.parent_run_id)
    run_config = replace(cfg, events=sink)

    def work() -> None:
        try:
            output = node.invoke(input, run_config)
            items.put(Output(sink.root_run_id, output))
        except BaseException as exc:  # handed to the reader
            items.put(_Failed(exc))
        items.put(_DONE)

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name="agentkit-events", daemon=True).start()
    try:
        while (event := _received(items.get())) is not None:
            yield event
    finally:
        sink.close()


async def astream_events(
    node: Runnable[Any, Any], input: Any, config: ConfigLike = None
) -> AsyncIterator[Event]:
    """Run ``node.ainvoke`` as a task and yield its events; the task is cancelled when the
    reader stops early."""
    import asyncio

    cfg = ensure_config(config)
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:  # events may come from worker threads (blocking nodes)
        loop.call_soon_threadsafe(items.put_nowait, item)

    sink = EventSink(put, cfg.parent_run_id)
    run_config = replace(cfg, events=sink)

    async def work() -> None:
        try:
            output = await node.ainvoke(input, run_config)
            put(Output(sink.root_run_id, output))
        except (Exception, EventStreamClosed) as exc:
            put(_Failed(exc))
        finally:
            put(_DONE)

    task = asyncio.create_task(work())
    try:
        while (event := _received(await items.get())) is not None:
            yield event
    finally:
        sink.close()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, EventStreamClosed, Exception):
                await task  # the cancelled run's end is of no interest to anyone


__all__ = [
    "AgentStep",
    "Event",
    "EventSink",
    "EventStreamClosed",
    "NodeEnd",
    "NodeError",
    "NodeStart",
    "Output",
    "Retrieved",
    "Token",
    "ToolCall",
    "ToolResult",
    "astream_events",
    "stream_events",
]
