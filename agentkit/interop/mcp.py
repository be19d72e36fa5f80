"""MCP servers' tools as agentkit tools: :class:`MCPToolset` (extra ``mcp``, ``mcp>=2``).

::

    with MCPToolset(["python", "weather_server.py"], "http://127.0.0.1:9000/mcp") as mcp:
        agent = ToolCallingAgent(model, [*mcp.tools(), calculator])
        agent.invoke("Weather in Oslo?")

Each server is a stdio command (a list of strings, or ``mcp.StdioServerParameters``) or a
streamable-HTTP URL. The MCP client sessions live on ONE background thread running its own
event loop, each session on one long-lived task that enters and leaves it (anyio's
cancel-scope rule: a session is closed by the task that opened it); tool calls from any
thread or event loop are handed to that loop. A tool that reports an error (``is_error``)
or fails to answer raises :class:`~agentkit.tools.ToolExecutionError`, which agents turn
into an observation the model reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from agentkit.core.config import RunConfig
from agentkit.core.errors import MissingDependencyError, RunError, UsageError
from agentkit.tools.base import Tool, ToolExecutionError

ServerLike = str | Sequence[str] | Any


def _mcp() -> Any:
    try:
        import mcp
    except ImportError as exc:
        raise MissingDependencyError("mcp", "mcp", "MCP tools") from exc
    return mcp


def server_params(server: ServerLike) -> Any:
    """What ``mcp.Client`` takes: a URL string, or stdio parameters from a command list."""
    mcp = _mcp()
    if isinstance(server, str):
        if not server.startswith(("http://", "https://")):
            raise UsageError(
                f"an MCP server is an http(s) URL or a command list such as "
                f"['python', 'server.py'], got {server!r}"
            )
        return server
    if isinstance(server, mcp.StdioServerParameters):
        return server
    if isinstance(server, Sequence) and server and all(isinstance(a, str) for a in server):
        return mcp.StdioServerParameters(command=server[0], args=list(server[1:]))
    raise UsageError(
        f"an MCP server is an http(s) URL, a command list or StdioServerParameters, got {server!r}"
    )


def result_text(result: Any) -> str:
    """A ``CallToolResult`` as text: its text blocks, else its structured content as JSON."""
    parts = []
    for block in result.content or ():
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource" and hasattr(block.resource, "text"):
            parts.append(block.resource.text)
        else:
            parts.append(f"[{kind or 'content'} block]")
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False, default=str)
    return "\n".join(parts)


class _Session:
    """One server's client, opened and closed by one task on the toolset's loop."""

    def __init__(self, server: Any, timeout: float) -> None:
        self.server = server
        self.timeout = timeout
        self.client: Any = None
        self.tools: list[Any] = []
        self.stop: asyncio.Event | None = None

    async def hold(self, ready: Future[None]) -> None:
        mcp = _mcp()
        self.stop = asyncio.Event()
        try:
            async with mcp.Client(self.server, read_timeout_seconds=self.timeout) as client:
                self.client = client
                listed = await client.list_tools()
                self.tools = list(listed.tools)
                ready.set_result(None)
                await self.stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            elif not isinstance(exc, asyncio.CancelledError | Exception):
                raise
        finally:
            self.client = None


class MCPToolset:
    """Tools of one or more MCP servers (see the module docs). Use as a context manager,
    or call :meth:`start` and :meth:`close`."""

    def __init__(self, *servers: ServerLike, prefix: bool = False, timeout: float = 30.0) -> None:
        if not servers:
            raise UsageError("MCPToolset needs at least one server (a command list or a URL)")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise UsageError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.sessions = [_Session(server_params(s), float(timeout)) for s in servers]
        self.prefix = prefix
        self.timeout = float(timeout)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: list[asyncio.Future[None]] = []

    def start(self) -> MCPToolset:
        """Connect to every server (blocking until each has listed its tools)."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="mcp-client", daemon=True)
        self._thread.start()
        try:
            for session in self.sessions:
                ready: Future[None] = Future()
                task = asyncio.run_coroutine_threadsafe(session.hold(ready), loop)
                self._tasks.append(task)  # type: ignore[arg-type]
                ready.result(timeout=self.timeout)
        except BaseException as exc:
            self.close()
            raise RunError(f"could not connect to MCP server: {type(exc).__name__}: {exc}") from exc
        return self

    def close(self) -> None:
        """Close every session (on the tasks that opened them) and stop the loop."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        for session in self.sessions:
            if session.stop is not None:
                loop.call_soon_threadsafe(session.stop.set)
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                task.result(timeout=self.timeout)  # type: ignore[call-arg]
        self._tasks.clear()
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(self.timeout)
        loop.close()

    def __enter__(self) -> MCPToolset:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tools(self) -> list[Tool]:
        """Every server's tools (``server<i>_<name>`` when ``prefix=True``)."""
        self.start()
        out: list[Tool] = []
        for index, session in enumerate(self.sessions):
            for spec in session.tools:
                name = f"server{index}_{spec.name}" if self.prefix else spec.name
                out.append(MCPTool(self, index, spec, name))
        return out

    def submit(self, index: int, name: str, args: Mapping[str, Any]) -> Future[Any]:
        """Call tool ``name`` of server ``index`` on the toolset's loop."""
        loop = self._loop
        client = self.sessions[index].client
        if loop is None:
            raise ToolExecutionError(f"MCP tool {name!r}: the toolset is closed", name)
        if client is None:
            raise ToolExecutionError(
                f"MCP tool {name!r}: the connection to its server is closed (did it exit?)", name
            )
        coro = client.call_tool(name, dict(args), read_timeout_seconds=self.timeout)
        return asyncio.run_coroutine_threadsafe(coro, loop)


class MCPTool(Tool):
    """One tool of an MCP server; its JSON schema is the server's ``input_schema``."""

    def __init__(self, toolset: MCPToolset, index: int, spec: Any, name: str) -> None:
        self.toolset = toolset
        self.index = index
        self.remote_name = spec.name
        self.name = name
        self.description = spec.description or f"The MCP tool {spec.name}."
        self.args_schema = dict(spec.input_schema or {"type": "object", "properties": {}})

    @contextlib.contextmanager
    def _answer(self) -> Iterator[None]:
        """Around waiting for the server's answer: a failure other than a
        :class:`ToolExecutionError` becomes one naming the tool."""
        try:
            yield
        except ToolExecutionError:
            raise
        except Exception as exc:
            raise ToolExecutionError(
                f"tool {self.name!r} failed on its MCP server: {type(exc).__name__}: {exc}",
                self.name,
            ) from exc

    def _text(self, result: Any) -> str:
        text = result_text(result)
        if result.is_error:
            raise ToolExecutionError(f"tool {self.name!r} reported an error: {text}", self.name)
        return text

    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        future = self.toolset.submit(self.index, self.remote_name, args)
        with self._answer():
            result = future.result(timeout=self.toolset.timeout + 5)
        return self._text(result)

    async def arun(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        future = self.toolset.submit(self.index, self.remote_name, args)
        with self._answer():
            result = await asyncio.wrap_future(future)
        return self._text(result)
