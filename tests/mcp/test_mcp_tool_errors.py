"""How an MCP tool reports a server that fails to answer: the same ToolExecutionError,
naming the tool, from ``run`` and ``arun`` (no server needed: a stub toolset hands out the
futures)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from types import SimpleNamespace
from typing import Any

import pytest

from agentkit.interop.mcp import MCPTool
from agentkit.tools.base import ToolExecutionError


class StubToolset:
    timeout = 1.0

    def __init__(self, outcome: BaseException | Any) -> None:
        self.outcome = outcome

    def submit(self, index: int, name: str, args: dict[str, Any]) -> Future[Any]:
        future: Future[Any] = Future()
        if isinstance(self.outcome, BaseException):
            future.set_exception(self.outcome)
        else:
            future.set_result(self.outcome)
        return future


def tool(outcome: BaseException | Any) -> MCPTool:
    spec = SimpleNamespace(name="remote", description=None, input_schema=None)
    return MCPTool(StubToolset(outcome), 0, spec, "weather")  # type: ignore[arg-type]


def both(t: MCPTool) -> list[BaseException]:
    """The error ``run`` and ``arun`` raise for the same failed call."""
    errors: list[BaseException] = []
    for call in (lambda: t.run({}), lambda: asyncio.run(t.arun({}))):
        with pytest.raises(ToolExecutionError) as info:
            call()
        errors.append(info.value)
    return errors


def test_a_transport_failure_names_the_tool_in_sync_and_async_runs() -> None:
    for error in both(tool(ConnectionResetError("\x1b[31mpeer reset"))):
        assert "tool 'weather' failed on its MCP server: ConnectionResetError" in str(error)
        assert isinstance(error.__cause__, ConnectionResetError)


def test_a_tool_execution_error_passes_through_unwrapped() -> None:
    original = ToolExecutionError("MCP tool 'remote': the toolset is closed", "remote")
    assert all(error is original for error in both(tool(original)))


def test_an_error_result_and_a_good_result() -> None:
    content = [SimpleNamespace(type="text", text="no station")]
    failed = SimpleNamespace(is_error=True, content=content, structured_content=None)
    assert all("reported an error: no station" in str(e) for e in both(tool(failed)))
    ok = SimpleNamespace(is_error=False, content=[SimpleNamespace(type="text", text="sunny")])
    assert tool(ok).run({}) == "sunny" and asyncio.run(tool(ok).arun({})) == "sunny"
