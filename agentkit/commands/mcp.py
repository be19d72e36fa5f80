"""``agentkit mcp serve --tools calculator,today --index idx``: agentkit tools and an index's
search as an MCP server (stdio by default; ``--http`` serves streamable HTTP on 127.0.0.1).
Extra ``mcp``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

mcp_app = typer.Typer(help="Model Context Protocol: serve agentkit tools to MCP clients.")


def server_tools(names: str, index: Path | None, k: int) -> list[Any]:
    """The registered tools named in ``names`` (comma-separated), plus ``search_index`` over
    ``index`` when given."""
    from agentkit.core.errors import UsageError
    from agentkit.tools import get_tool, retriever_tool

    tools = [get_tool(n.strip()) for n in names.split(",") if n.strip()]
    if index is not None:
        from agentkit.workspace.indexes import open_index

        opened = open_index(index)
        tools.append(
            retriever_tool(
                opened.retriever(k),
                name="search_index",
                description=f"Search the document index {index.name!r}; returns cited snippets.",
            )
        )
    if not tools:
        raise UsageError("nothing to serve: pass --tools calculator,today and/or --index DIR")
    return tools


@mcp_app.command("serve")
def serve(
    tools: str = typer.Option("", "--tools", help="Registered tool names, comma-separated."),
    index: Path = typer.Option(None, "--index", help="Serve this index's search as a tool."),
    k: int = typer.Option(4, "--k", min=1, max=50, help="Snippets per index search."),
    http: bool = typer.Option(False, "--http", help="Streamable HTTP instead of stdio."),
    host: str = typer.Option("127.0.0.1", "--host", help="With --http: a loopback address."),
    port: int = typer.Option(8001, "--port", min=1, max=65535),
    name: str = typer.Option("agentkit", "--name", help="The server name clients see."),
) -> None:
    """Expose agentkit tools (and an index's search) as an MCP server."""
    import anyio

    from agentkit.core.errors import UsageError
    from agentkit.serve.mcp_server import build_server, run_http, run_stdio
    from agentkit.serve.server import is_loopback

    server = build_server(server_tools(tools, index, k), name)
    if not http:
        anyio.run(run_stdio, server)
        return
    if not is_loopback(host):
        raise UsageError(
            f"the MCP HTTP server has no authentication, so it binds loopback only; got {host}"
        )
    from agentkit.commands.common import err

    err.print(f"MCP server at http://{host}:{port}/mcp", markup=False)
    run_http(server, host, port)


def register(app: typer.Typer) -> None:
    """Add ``agentkit mcp`` to ``app`` (once)."""
    if any(group.name == "mcp" for group in app.registered_groups):
        return
    app.add_typer(mcp_app, name="mcp")
