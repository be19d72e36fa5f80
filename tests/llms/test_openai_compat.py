"""OpenAICompatModel against the local fake server: conformance, the wire format, recorded
OpenAI and Ollama payloads (completions, streams, tool calls), structured output, presets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("httpx")

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.llms import (
    GenerationParams,
    Message,
    ToolCall,
    assistant,
    model_requests,
    system,
    tool,
    user,
)
from agentkit.llms.openai_compat import OpenAICompatModel
from agentkit.testing.chat_model import ChatModelConformance
from tests.llms.fake_openai_server import (  # noqa: F401  (fixtures)
    FakeOpenAIServer,
    Step,
    openai_server_fixture,
    server_fixture,
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}


@pytest.fixture(autouse=True)
def _requests_allowed() -> Iterator[None]:
    with model_requests(True):
        yield


def make(server: FakeOpenAIServer, **kwargs: Any) -> OpenAICompatModel:
    kwargs.setdefault("timeout", 5.0)
    return OpenAICompatModel("fake-model", server.base_url, **kwargs)


def joined(chunks: list[Message]) -> Message:
    out = chunks[0]
    for chunk in chunks[1:]:
        out = out + chunk
    return out


class TestOpenAICompatConformance(ChatModelConformance):
    @pytest.fixture(autouse=True)
    def _live(self, server: FakeOpenAIServer) -> None:
        self.server = server

    def make_model(self, responses: list[str]) -> OpenAICompatModel:
        self.server.script(responses, prompts=self.prompts)
        return make(self.server, max_retries=0)


# --- the wire format ----------------------------------------------------------------------


def test_request_body_maps_messages_tool_calls_and_params(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_completion.json"))
    call = ToolCall("call_1", "get_weather", {"city": "Paris"})
    messages = [
        system("Be brief."),
        user("Weather in Paris?"),
        assistant("", [call]),
        tool('{"temp": 21}', "call_1", "get_weather"),
    ]
    params = GenerationParams(
        temperature=0, top_p=0.9, top_k=20, max_new_tokens=32, stop=("\n\n",), seed=7
    )
    make(server).generate(messages, params)
    body = server.bodies()[0]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"},
    ]
    assert body["model"] == "fake-model" and "stream" not in body
    expected = {"temperature": 0, "top_p": 0.9, "top_k": 20, "max_tokens": 32, "seed": 7}
    assert {k: body[k] for k in expected} == expected
    assert body["stop"] == ["\n\n"]


def test_unset_params_are_not_sent(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_completion.json"))
    make(server).invoke("hi")
    assert set(server.bodies()[0]) == {"model", "messages"}


def test_bound_params_reach_the_server(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_completion.json"))
    make(server).bind(temperature=0.2, max_new_tokens=5).invoke("hi")
    body = server.bodies()[0]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 5


def test_api_key_and_extra_headers_are_sent(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_completion.json"), Step.fixture("openai_completion.json"))
    make(server, api_key="sk-test", extra_headers={"X-Title": "agentkit-tests"}).invoke("hi")
    headers = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    assert headers["authorization"] == "Bearer sk-test"
    assert headers["x-title"] == "agentkit-tests"


def test_base_url_and_key_from_environment(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("AGENTKIT_OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("AGENTKIT_OPENAI_API_KEY", "sk-agentkit")
    server.enqueue(Step.fixture("openai_completion.json"))
    model = OpenAICompatModel("fake-model")
    assert model.base_url == server.base_url
    model.invoke("hi")
    headers = {k.lower(): v for k, v in server.requests[0]["headers"].items()}
    assert headers["authorization"] == "Bearer sk-agentkit"


def test_no_key_sends_no_authorization(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "AGENTKIT_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    server.enqueue(Step.fixture("openai_completion.json"))
    make(server).invoke("hi")
    assert "authorization" not in {k.lower() for k in server.requests[0]["headers"]}


# --- recorded OpenAI and Ollama payloads -------------------------------------------------


def test_recorded_completion(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_completion.json"))
    message = make(server).invoke("What is the capital of France?")
    assert message.content == "The capital of France is Paris."
    assert message.usage is not None and message.usage.as_dict()["total_tokens"] == 22
    assert message.metadata["finish_reason"] == "stop"
    assert message.metadata["model"] == "gpt-4o-mini-2024-07-18"


def test_recorded_stream(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_stream.sse"))
    chunks = list(make(server).stream("What is the capital of France?"))
    assert [c.content for c in chunks[:-1]] == [
        "The",
        " capital",
        " of France",
        " is",
        " Paris",
        ".",
    ]
    message = joined(chunks)
    assert message.content == "The capital of France is Paris."
    assert message.usage is not None
    assert (message.usage.prompt_tokens, message.usage.completion_tokens) == (14, 8)
    assert message.metadata["finish_reason"] == "stop"
    body = server.bodies()[0]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_recorded_tool_calls(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_tool_calls.json"))
    model = make(server).bind(tools=[WEATHER], tool_choice="get_weather")
    message = model.invoke("Weather and time in Paris?")
    assert message.content == ""
    assert message.tool_calls == [
        ToolCall(
            "call_TvXQ4nYH6hZ3p1oX1M2Qx9Ae", "get_weather", {"city": "Paris", "unit": "celsius"}
        ),
        ToolCall("call_0lS5CqE3u8Q1dXbU7n6Yk2Zr", "get_time", {"timezone": "Europe/Paris"}),
    ]
    assert message.metadata["finish_reason"] == "tool_calls"
    body = server.bodies()[0]
    assert body["tools"] == [{"type": "function", "function": WEATHER}]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_recorded_streamed_tool_call_deltas(server: FakeOpenAIServer) -> None:
    server.enqueue(Step.fixture("openai_tool_calls_stream.sse"))
    model = make(server).bind(tools=[{"type": "function", "function": WEATHER}])
    message = joined(list(model.stream("Weather and time in Paris?")))
    assert [(c.name, c.arguments) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris", "unit": "celsius"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]
    assert message.tool_calls[1].id == "call_0lS5CqE3u8Q1dXbU7n6Yk2Zr"
    assert message.usage is not None and message.usage.total_tokens == 133
    assert message.metadata["finish_reason"] == "tool_calls"


def test_recorded_ollama_payloads(server: FakeOpenAIServer) -> None:
    server.enqueue(
        Step.fixture("ollama_completion.json"),
        Step.fixture("ollama_stream.sse"),
        Step.fixture("ollama_tool_calls_stream.sse"),
    )
    model = OpenAICompatModel.ollama("llama3.2", base_url=server.base_url, timeout=5)
    expected = "The sky is blue because of Rayleigh scattering."
    assert model.invoke("Why is the sky blue?").content == expected
    streamed = joined(list(model.stream("Why is the sky blue?")))
    assert streamed.content == expected
    assert streamed.usage is not None and streamed.usage.completion_tokens == 10
    called = joined(list(model.bind(tools=[WEATHER]).stream("Weather in Toronto?")))
    assert called.tool_calls == [ToolCall("call_n4wmwpq4", "get_weather", {"city": "Toronto"})]
    assert server.bodies()[0]["model"] == "llama3.2"


def test_async_stream_of_tool_calls_and_shared_client(server: FakeOpenAIServer) -> None:
    server.enqueue(
        Step.fixture("openai_tool_calls_stream.sse"), Step.fixture("openai_completion.json")
    )
    model = make(server)

    async def run() -> tuple[Message, str, int]:
        chunks = [c async for c in model.astream("Weather?")]
        text = (await model.agenerate([user("hi")])).text
        clients = len(model._transport._aclients)
        await model.aclose()
        return joined(chunks), text, clients

    message, text, clients = asyncio.run(run())
    assert [c.name for c in message.tool_calls] == ["get_weather", "get_time"]
    assert text == "The capital of France is Paris."
    assert clients == 1  # one AsyncClient for the event loop, reused across calls


def test_each_event_loop_gets_its_own_client_closed_at_shutdown(server: FakeOpenAIServer) -> None:
    server.script(["fine thanks"])
    model = make(server)

    async def call() -> Any:
        await model.ainvoke("how are you?")
        return model._transport._aclients[asyncio.get_running_loop()][0]

    first, second = asyncio.run(call()), asyncio.run(call())
    assert first is not second
    assert first.is_closed and second.is_closed  # closed when asyncio.run shut its loop down
    assert len(model._transport._aclients) <= 1  # entries of closed loops are dropped


# --- structured output ---------------------------------------------------------------------


def test_response_format_json_and_schemas(server: FakeOpenAIServer) -> None:
    from pydantic import BaseModel

    class Answer(BaseModel):
        city: str
        population: int

    server.enqueue(*[Step.fixture("openai_completion.json") for _ in range(3)])
    make(server, response_format="json").invoke("hi")
    make(server).bind(response_format=Answer).invoke("hi")
    schema = {"title": "City", "type": "object", "properties": {"name": {"type": "string"}}}
    make(server, response_format=schema).invoke("hi")
    formats = [b["response_format"] for b in server.bodies()]
    assert formats[0] == {"type": "json_object"}
    assert formats[1]["type"] == "json_schema"
    assert formats[1]["json_schema"]["name"] == "Answer"
    assert set(formats[1]["json_schema"]["schema"]["properties"]) == {"city", "population"}
    assert formats[2] == {"type": "json_schema", "json_schema": {"name": "City", "schema": schema}}


def test_invalid_bindings_raise_usage_errors() -> None:
    model = OpenAICompatModel("m", "http://127.0.0.1:9/v1")
    with pytest.raises(UsageError, match="response_format must be"):
        model.bind(response_format=42)
    with pytest.raises(UsageError, match="a tool must be a JSON schema"):
        model.bind(tools=["get_weather"])
    with pytest.raises(UsageError, match="tool_choice must be"):
        model.bind(tool_choice=3)
    with pytest.raises(UsageError, match="allowed: temperature"):
        model.bind(temprature=1)


# --- construction, presets, spec -----------------------------------------------------------


def test_constructor_validates_arguments() -> None:
    with pytest.raises(UsageError, match="timeout must be"):
        OpenAICompatModel("m", "http://localhost:1/v1", timeout=0)
    with pytest.raises(UsageError, match="max_retries"):
        OpenAICompatModel("m", "http://localhost:1/v1", max_retries=-1)
    with pytest.raises(UsageError, match="http"):
        OpenAICompatModel("m", "localhost:11434")
    with pytest.raises(UsageError, match="model name"):
        OpenAICompatModel("", "http://localhost:1/v1")


def test_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OpenAICompatModel.ollama("llama3.2").base_url == "http://localhost:11434/v1"
    assert OpenAICompatModel.vllm("http://gpu:8000/", "Qwen/Qwen2-0.5B").base_url == (
        "http://gpu:8000/v1"
    )
    assert OpenAICompatModel.vllm("http://gpu:8000/v1", "q").model == "q"
    assert OpenAICompatModel.llamacpp("http://localhost:8080").base_url == (
        "http://localhost:8080/v1"
    )
    for name in ("OPENAI_API_KEY", "AGENTKIT_OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        OpenAICompatModel.openai("gpt-4o-mini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert OpenAICompatModel.openai().base_url == "https://api.openai.com/v1"


def test_spec_round_trip_leaves_secrets_out() -> None:
    model = OpenAICompatModel(
        "llama3.2",
        "http://localhost:11434/v1",
        api_key="sk-secret",
        timeout=12,
        params={"temperature": 0},
        extra_headers={"X-Title": "demo", "X-Api-Key": "hidden"},
        response_format="json",
        tools=[WEATHER],
        tool_choice="auto",
    )
    data = model.to_dict()
    assert "sk-secret" not in json.dumps(data) and "hidden" not in json.dumps(data)
    assert data["extra_headers"] == {"X-Title": "demo"}
    loaded = spec.load(data)
    assert isinstance(loaded, OpenAICompatModel)
    assert loaded.to_dict() == data
    assert loaded.params.temperature == 0 and loaded.timeout == 12
