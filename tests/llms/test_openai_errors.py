"""OpenAICompatModel failure handling: retries (429 / 5xx / connection errors, Retry-After),
timeouts against a server that never answers, HTTP errors, malformed replies and streams."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("httpx")

from agentkit.core.errors import ModelOutputError, RunError, RunTimeoutError, UsageError
from agentkit.llms import Message, ToolCall, assistant, model_requests, tool, user
from agentkit.llms.openai_compat import ModelServerError, OpenAICompatModel
from agentkit.llms.openai_compat.transport import (
    Endpoint,
    Transport,
    parse_retry_after,
    server_message,
)
from tests.llms.fake_openai_server import (  # noqa: F401  (fixtures)
    FakeOpenAIServer,
    Step,
    openai_server_fixture,
    server_fixture,
)


@pytest.fixture(autouse=True)
def _requests_allowed() -> Iterator[None]:
    with model_requests(True):
        yield


def make(server: FakeOpenAIServer, **kwargs: Any) -> OpenAICompatModel:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("backoff", 0.01)
    return OpenAICompatModel("fake-model", server.base_url, **kwargs)


# --- retries -------------------------------------------------------------------------------


def test_429_then_success_is_retried(server: FakeOpenAIServer) -> None:
    server.enqueue(
        Step.fixture("error_429.json", status=429, headers={"Retry-After": "0"}),
        Step.fixture("openai_completion.json"),
    )
    assert make(server).invoke("hi").content == "The capital of France is Paris."
    assert len(server.bodies()) == 2


def test_500_then_success_is_retried_async(server: FakeOpenAIServer) -> None:
    server.enqueue(
        Step.fixture("error_500.json", status=500), Step.fixture("openai_completion.json")
    )
    message = asyncio.run(make(server).ainvoke("hi"))
    assert message.content == "The capital of France is Paris."
    assert len(server.bodies()) == 2


def test_stream_is_retried_before_its_first_chunk(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("error_500.json", status=503), Step.fixture("openai_stream.sse"))
    chunks = list(make(server).stream("hi"))
    assert "".join(c.content for c in chunks) == "The capital of France is Paris."

    server.enqueue(Step.fixture("error_429.json", status=429), Step.fixture("openai_stream.sse"))

    async def collect() -> list[Message]:
        return [c async for c in make(server).astream("hi")]

    assert "".join(c.content for c in asyncio.run(collect())) == "The capital of France is Paris."


def test_retries_give_up_with_the_status(server: FakeOpenAIServer) -> None:
    server.enqueue(*[Step.fixture("error_500.json", status=503) for _ in range(3)])
    with pytest.raises(ModelServerError, match="after 2 retries") as info:
        make(server, max_retries=2).invoke("hi")
    assert info.value.status == 503
    assert "The server had an error" in str(info.value)
    assert len(server.bodies()) == 3


def test_retry_after_is_honoured() -> None:
    endpoint = Endpoint("http://127.0.0.1:9/v1/chat/completions", {}, 1.0, 3, 0.5)
    transport = Transport(endpoint)
    assert transport.wait_after_status(429, "{}", {"retry-after": "7"}, 0) == 7.0
    assert transport.wait_after_status(503, "{}", {"retry-after": "600"}, 0) == 60.0  # capped
    waits = [transport.wait_after_status(500, "{}", {}, attempt) for attempt in range(3)]
    assert 0.45 <= waits[0] <= 0.55 and 1.8 <= waits[2] <= 2.2  # backoff * 2**attempt
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_unreachable_server_is_retried_then_fails_clearly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = OpenAICompatModel("m", f"http://127.0.0.1:{port}/v1", max_retries=2, backoff=0.01)
    with pytest.raises(RunError, match="could not reach the model server") as info:
        model.invoke("hi")
    assert "after 3 attempts" in str(info.value) and f":{port}/v1" in str(info.value)


# --- timeouts ------------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out(server: FakeOpenAIServer) -> None:
    server.enqueue(Step(hang=10.0))
    model = make(server, timeout=0.3)
    with pytest.raises(RunTimeoutError, match=r"did not answer within 0\.3 s") as info:
        model.invoke("hi")
    message = str(info.value)
    assert server.base_url in message and "timeout=" in message
    assert len(server.bodies()) == 1  # timeouts are not retried


def test_timeouts_in_async_and_streaming_calls(server: FakeOpenAIServer) -> None:
    server.enqueue(Step(hang=10.0), Step(hang=10.0))
    model = make(server, timeout=0.3)
    with pytest.raises(RunTimeoutError, match="did not answer"):
        asyncio.run(model.ainvoke("hi"))
    with pytest.raises(RunTimeoutError, match="did not answer"):
        list(model.stream("hi"))


# --- HTTP errors and malformed replies ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fixture", "fragment"),
    [
        (401, "error_401.json", "OPENAI_API_KEY"),
        (404, None, "check the base URL"),
        (400, None, "rejected the request"),
    ],
)
def test_client_errors_say_how_to_fix_them(
    server: FakeOpenAIServer, status: int, fixture: str | None, fragment: str
) -> None:
    step = Step.fixture(fixture, status=status) if fixture else Step.error(status, "bad things")
    server.enqueue(step)
    with pytest.raises(UsageError, match=fragment):
        make(server).invoke("hi")
    assert len(server.bodies()) == 1  # not retried


def test_malformed_stream_chunk_raises_after_the_good_chunks(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("malformed_stream.sse"))
    received: list[str] = []
    with pytest.raises(ModelOutputError, match="malformed stream chunk") as info:
        for chunk in make(server).stream("hi"):
            received.append(chunk.content)
    assert received == ["The", " capital"]
    assert '" of Fr' in info.value.text


def test_error_payload_with_200_and_non_json_replies(server: FakeOpenAIServer) -> None:
    server.enqueue(
        Step('{"error": {"message": "model \\"nope\\" not found, try pulling it first"}}'),
        Step("<html>Bad gateway</html>"),
        Step('{"object": "list", "data": []}'),
    )
    model = make(server)
    with pytest.raises(ModelServerError, match="not found, try pulling it first"):
        model.invoke("hi")
    with pytest.raises(ModelOutputError, match="not JSON"):
        model.invoke("hi")
    with pytest.raises(ModelOutputError, match="no 'choices'"):
        model.invoke("hi")


def test_invalid_tool_arguments_become_a_malformed_call_not_an_error(
    server: FakeOpenAIServer,
) -> None:
    body = Step.fixture("openai_tool_calls.json").body.replace(
        '"{\\"timezone\\":\\"Europe/Paris\\"}"', '"{timezone: Europe/Paris"'
    )
    assert "{timezone: Europe/Paris" in body
    server.enqueue(Step(body))
    weather, time_call = make(server).invoke("time?").tool_calls
    assert (weather.arguments, weather.arguments_error) == (
        {"city": "Paris", "unit": "celsius"},
        None,
    )
    assert (time_call.id, time_call.name) == ("call_0lS5CqE3u8Q1dXbU7n6Yk2Zr", "get_time")
    assert (time_call.arguments, time_call.raw_arguments) == ({}, "{timezone: Europe/Paris")
    assert time_call.arguments_error is not None
    assert time_call.arguments_error.startswith("not valid JSON (Expecting property name")


def test_malformed_tool_call_goes_back_as_a_valid_json_object(server: FakeOpenAIServer) -> None:
    # vLLM json.loads every assistant tool call's arguments: the raw text would be a 400
    bad = ToolCall.parse("c1", "get_time", "{timezone: Europe/Paris")
    server.enqueue(Step.fixture("openai_completion.json"))
    make(server).invoke([user("time?"), assistant("", [bad]), tool("Error: ...", "c1")])
    sent = server.bodies()[0]["messages"][1]["tool_calls"][0]
    assert sent == {
        "id": "c1", "type": "function", "function": {"name": "get_time", "arguments": "{}"},
    }  # fmt: skip


def test_requests_are_forbidden_when_the_switch_is_off(server: FakeOpenAIServer) -> None:
    from agentkit.core.errors import ModelRequestsForbiddenError

    with model_requests(False), pytest.raises(ModelRequestsForbiddenError):
        make(server).generate([user("hi")])
    assert server.bodies() == []


def test_server_message_extraction() -> None:
    assert server_message('{"error": {"message": "quota"}}') == "quota"
    assert server_message('{"error": "plain"}') == "plain"
    assert server_message("") == "(empty body)"
    assert server_message("oops") == "oops"
