"""MCP both ways: agentkit tools served over stdio and HTTP (``agentkit mcp serve``), read by
the official ``mcp`` client and by :class:`MCPToolset` inside a ``ToolCallingAgent``; and a
third-party MCPServer script's tools used by an agentkit agent."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentkit.agents.tool_calling import ToolCallingAgent
from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, ToolCall
from agentkit.interop.mcp import MCPToolset
from agentkit.llms.fake import FakeListModel

mcp = pytest.importorskip("mcp")


pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
AGENTKIT_MCP = [sys.executable, "-m", "agentkit.cli", "mcp", "serve", "--tools", "calculator,today"]

THIRD_PARTY = '''
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather")


@server.tool()
def forecast(city: str) -> str:
    """The forecast for a city."""
    return f"{city}: sunny, 21 C"


@server.tool()
def broken(city: str) -> str:
    """Always fails."""
    raise ToolError(f"no station near {city}")


if __name__ == "__main__":
    server.run()
'''


def scripted(*replies: ChatResult | str) -> FakeListModel:
    return FakeListModel(list(replies))


def test_agentkit_tools_round_trip_through_stdio_into_an_agent() -> None:
    with MCPToolset(AGENTKIT_MCP) as toolset:
        tools = {t.name: t for t in toolset.tools()}
        assert set(tools) == {"calculator", "today"}
        assert tools["calculator"].args_schema["required"] == ["expression"]
        model = scripted(
            ChatResult("", [ToolCall("c1", "calculator", {"expression": "2 + 3 * 4"})]),
            ChatResult("", [ToolCall("c2", "calculator", {"expression": "import os"})]),
            "The answer is 14",
        )
        agent = ToolCallingAgent(model, list(tools.values()))
        result = agent.invoke("What is 2 + 3 * 4?")
        assert result["output"] == "The answer is 14"
        first, second = result["steps"]
        assert first.observation == "14" and first.error is None
        # the server's error comes back as an observation the model can read
        assert "cannot evaluate" in second.observation and second.error
        assert asyncio.run(agent.ainvoke("again?"))["steps"][0].observation == "14"


def test_official_client_lists_and_calls_agentkit_tools() -> None:
    params = mcp.StdioServerParameters(command=AGENTKIT_MCP[0], args=AGENTKIT_MCP[1:])

    async def session() -> tuple[list[str], str, bool, bool]:
        async with mcp.Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            good = await client.call_tool("calculator", {"expression": "6*7"})
            bad = await client.call_tool("calculator", {"expression": 12})
            unknown = await client.call_tool("rm_rf", {})
            return names, good.content[0].text, bad.is_error, unknown.is_error

    names, text, bad, unknown = asyncio.run(session())
    assert names == ["calculator", "today"]
    assert text == "42"
    assert bad and unknown


def test_third_party_server_tools_in_an_agent(tmp_path: Path) -> None:
    script = tmp_path / "weather_server.py"
    script.write_text(THIRD_PARTY, encoding="utf-8")
    with MCPToolset([sys.executable, str(script)]) as toolset:
        tools = toolset.tools()
        assert sorted(t.name for t in tools) == ["broken", "forecast"]
        model = scripted(
            ChatResult(
                "",
                [
                    ToolCall("a", "forecast", {"city": "Oslo"}),
                    ToolCall("b", "broken", {"city": "Oslo"}),
                ],
            ),
            "Sunny in Oslo",
        )
        result = ToolCallingAgent(model, tools).invoke("Weather in Oslo?")
    assert result["output"] == "Sunny in Oslo"
    by_tool = {s.tool: s for s in result["steps"]}
    assert by_tool["forecast"].observation == "Oslo: sunny, 21 C"
    assert "no station near Oslo" in by_tool["broken"].observation
    # the model saw both results as tool messages
    seen = model.calls[1]
    assert next(m.content for m in seen if m.role == "tool") == "Oslo: sunny, 21 C"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "mcp.log").open("wb")
    process = subprocess.Popen(
        [*AGENTKIT_MCP[:-1], "calculator", "--http", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "mcp.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url, timeout=1)
                break
            assert time.monotonic() < deadline, "the MCP HTTP server did not start"
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


def test_several_servers_at_once_stdio_and_http(http_server: str, tmp_path: Path) -> None:
    script = tmp_path / "weather_server.py"
    script.write_text(THIRD_PARTY, encoding="utf-8")
    with MCPToolset(http_server, [sys.executable, str(script)], prefix=True) as toolset:
        tools = {t.name: t for t in toolset.tools()}
        assert set(tools) == {"server0_calculator", "server1_forecast", "server1_broken"}
        assert tools["server0_calculator"].invoke({"expression": "1+1"}) == "2"
        assert tools["server1_forecast"].invoke({"city": "Rome"}) == "Rome: sunny, 21 C"


def test_bad_servers_are_refused() -> None:
    with pytest.raises(UsageError, match="http"):
        MCPToolset("ftp://example.org")
    with pytest.raises(UsageError):
        MCPToolset()
    with pytest.raises(Exception, match="could not connect"):
        MCPToolset([sys.executable, "-c", "import sys; sys.exit(3)"], timeout=20).start()
    refused = subprocess.run(
        [*AGENTKIT_MCP, "--http", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "loopback" in refused.stderr
    empty = subprocess.run(AGENTKIT_MCP[:-2], capture_output=True, text=True, timeout=120)
    assert empty.returncode == 1 and "nothing to serve" in empty.stderr


def test_an_index_search_is_served_as_a_tool(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "plague.md").write_text("# Plague\n\nThe Black Death reached Crimea in 1343.\n")
    (docs / "amazon.md").write_text("# Amazon\n\nThe Amazon rainforest covers the basin.\n")
    index = tmp_path / "idx"
    built = CliRunner().invoke(
        app, ["ingest", str(docs), "--index", str(index), "--embedder", "hashing"]
    )
    assert built.exit_code == 0, built.output
    command = [*AGENTKIT_MCP[:-2], "--index", str(index), "--k", "1"]
    with MCPToolset(command) as toolset:
        (search,) = toolset.tools()
        assert search.name == "search_index"
        found = search.invoke({"query": "When did the Black Death reach Crimea?"})
    assert "1343" in found and "Amazon" not in found
