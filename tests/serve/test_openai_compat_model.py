"""agentkit's own OpenAICompatModel against ``agentkit serve``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from agentkit.core.errors import RunError
from agentkit.core.messages import tool, user
from agentkit.llms import model_requests
from agentkit.llms.openai_compat import OpenAICompatModel
from tests.serve.server_process import Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(autouse=True)
def _local_requests() -> Iterator[None]:
    with model_requests(True):  # a real HTTP model, but the server is ours on 127.0.0.1
        yield


def model(server: Server, name: str = "echo") -> OpenAICompatModel:
    return OpenAICompatModel(name, base_url=server.base, api_key="unused", max_retries=0)


def test_invoke_stream_and_async(server: Server) -> None:
    echo = model(server)
    assert echo.invoke("hi there").content == "echo [user] hi there"
    chunks = list(echo.stream("stream this"))
    assert len(chunks) >= 3
    assert "".join(c.content for c in chunks) == "echo [user] stream this"
    assert asyncio.run(model(server, "qa").ainvoke("what")).content == "echo [system,user] Q: what"
    bound = echo.bind(max_new_tokens=1)
    result = bound.generate([user("a b c")])
    assert result.text == "echo" and result.finish_reason == "length"


def test_tool_calls_round_trip(server: Server) -> None:
    schema = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    echo = model(server).bind(tools=[schema])
    reply = echo.invoke("weather please")
    assert reply.tool_calls[0].name == "get_weather"
    assert reply.tool_calls[0].arguments == {"city": "Oslo"}
    answer = echo.invoke([user("weather please"), reply, tool("rainy", reply.tool_calls[0].id)])
    assert answer.content == "The weather is rainy"


def test_mid_stream_failure_raises(server: Server) -> None:
    with pytest.raises(RunError, match="crashed mid-stream"):
        list(model(server, "failing").stream("x"))
