"""agentkit tools as an MCP server (``agentkit mcp serve``; extra ``mcp``).

:func:`build_server` lists each tool with its JSON schema and runs calls through the tool's
own pipeline (argument checks, timeout, output limit). A tool's failure, bad arguments or
an unknown tool name come back as an ``is_error`` result whose text says what went wrong,
so the calling model can read it and retry. Serve over stdio (the default) or
streamable HTTP on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentkit.core.errors import MissingDependencyError, ModelOutputError, RunError, UsageError
from agentkit.tools.base import Tool


def _types() -> Any:
    try:
        import mcp_types
    except ImportError as exc:
        raise MissingDependencyError("mcp", "mcp", "agentkit mcp serve") from exc
    return mcp_types


def build_server(tools: Sequence[Tool], name: str = "agentkit") -> Any:
    """A low-level ``mcp.server.Server`` exposing ``tools``."""
    types = _types()
    from mcp.server import Server

    by_name = {t.name: t for t in tools}
    if len(by_name) != len(tools):
        raise UsageError("MCP tool names must be unique")
    listing = [
        types.Tool(name=t.name, description=t.description, input_schema=_object_schema(t))
        for t in tools
    ]

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=listing)

    async def call_tool(ctx: Any, params: Any) -> Any:
        tool = by_name.get(params.name)
        if tool is None:
            known = ", ".join(sorted(by_name))
            return _error(types, f"unknown tool {params.name!r}; available tools: {known}")
        try:
            text = await tool.ainvoke(dict(params.arguments or {}))
        except (ModelOutputError, RunError, UsageError) as exc:
            return _error(types, str(exc))
        return types.CallToolResult(content=[types.TextContent(text=text)])

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


def _object_schema(tool: Tool) -> dict[str, Any]:
    schema = dict(tool.args_schema or {})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    return schema


def _error(types: Any, message: str) -> Any:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


async def run_stdio(server: Any) -> None:
    """Serve MCP over this process's stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def run_http(server: Any, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve MCP over streamable HTTP at ``http://host:port/mcp`` (blocking)."""
    import uvicorn

    app = server.streamable_http_app(host=host)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()
