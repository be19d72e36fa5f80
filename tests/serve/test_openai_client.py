"""The official ``openai`` client against ``agentkit serve`` (a subprocess on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import openai
import pytest

from tests.serve.server_process import Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base, api_key="unused", timeout=30, max_retries=0)


def test_models_are_listed(server: Server) -> None:
    ids = {m.id for m in client(server).models.list()}
    assert {"echo", "qa", "agent", "emb"} <= ids
    assert client(server).models.retrieve("qa").owned_by == "agentkit-chain"


def test_sync_chat_maps_developer_role_and_limits(server: Server) -> None:
    reply = client(server).chat.completions.create(
        model="echo",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "hello there"}]},
        ],
        temperature=0.2,
    )
    assert reply.choices[0].message.content == "echo [system,user] hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None and reply.usage.completion_tokens == 4
    cut = client(server).chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two three"}], max_tokens=2
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.choices[0].message.content == "echo [user]"
    stopped = client(server).chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "one two three"}],
        max_completion_tokens=50,
        stop=["two"],
    )
    assert stopped.choices[0].message.content == "echo [user] one "


def test_each_request_is_traced(server: Server) -> None:
    client(server).chat.completions.create(
        model="qa", messages=[{"role": "user", "content": "traced?"}]
    )
    assert server.trace is not None
    spans = [json.loads(line) for line in server.trace.read_text().splitlines()]
    roots = [s for s in spans if s["name"] == "serve:qa"]
    assert roots and roots[-1]["metadata"]["served"] == "qa"
    kids = {s["name"] for s in spans if s["parent_id"] == roots[-1]["id"]}
    assert "FunctionModel(_echo)" in kids


def test_async_chat(server: Server) -> None:
    async def ask() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=server.base, api_key="unused", timeout=30, max_retries=0
        ) as aclient:
            replies = await asyncio.gather(
                *(
                    aclient.chat.completions.create(
                        model="qa", messages=[{"role": "user", "content": f"q{i}"}]
                    )
                    for i in range(2)
                )
            )
        return [r.choices[0].message.content or "" for r in replies]

    assert asyncio.run(ask()) == ["echo [system,user] Q: q0", "echo [system,user] Q: q1"]


def test_streaming_with_usage(server: Server) -> None:
    stream = client(server).chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo [user] stream me please"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 4
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5


def test_tool_call_round_trip(server: Server) -> None:
    api = client(server)
    messages: list[dict[str, object]] = [{"role": "user", "content": "weather in Oslo?"}]
    first = api.chat.completions.create(model="echo", messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Oslo"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
    second = api.chat.completions.create(model="echo", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "The weather is sunny"
    streamed = list(
        api.chat.completions.create(
            model="echo", messages=messages[:1], tools=[WEATHER_TOOL], stream=True
        )
    )
    deltas = [c.choices[0].delta for c in streamed if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert calls[0].function.name == "get_weather" and calls[0].index == 0
    assert streamed[-1].choices[0].finish_reason == "tool_calls"


def test_chain_gets_question_and_history(server: Server) -> None:
    reply = client(server).chat.completions.create(
        model="qa",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
    )
    # the prompt's history placeholder got the earlier turns; the question the last one
    assert reply.choices[0].message.content == "echo [system,user,assistant,user] Q: second"


def test_agent_streams_steps_then_answer(server: Server) -> None:
    chunks = list(
        client(server).chat.completions.create(
            model="agent", messages=[{"role": "user", "content": "6 times 7?"}], stream=True
        )
    )
    events = [c.model_extra["agentkit"]["event"] for c in chunks if c.model_extra.get("agentkit")]
    assert events[0]["type"] == "agent_step"
    assert events[0]["step"]["tool"] == "calculator" and events[0]["step"]["observation"] == "42"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "It is 42"
    first_event = next(i for i, c in enumerate(chunks) if c.model_extra.get("agentkit"))
    first_text = next(i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content)
    assert first_event < first_text
    whole = client(server).chat.completions.create(
        model="agent", messages=[{"role": "user", "content": "6 times 7?"}]
    )
    assert whole.choices[0].message.content == "It is 42"


def test_embeddings_float_and_base64(server: Server) -> None:
    api = client(server)
    default = api.embeddings.create(model="emb", input=["red apple", "green apple"])
    as_floats = api.embeddings.create(model="emb", input="red apple", encoding_format="float")
    assert len(default.data) == 2 and len(default.data[0].embedding) == 16
    assert default.data[0].embedding == pytest.approx(as_floats.data[0].embedding)
    with pytest.raises(openai.BadRequestError, match="not an embedder"):
        api.embeddings.create(model="echo", input="x")


def test_errors_are_openai_shaped(server: Server) -> None:
    api = client(server)
    with pytest.raises(openai.NotFoundError, match="not served"):
        api.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError, match="n=1"):
        api.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}], n=2)
    with pytest.raises(openai.BadRequestError, match="text only"):
        api.chat.completions.create(
            model="echo",
            messages=[
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
            ],
        )
    with pytest.raises(openai.InternalServerError, match="the model is down"):
        api.chat.completions.create(model="down", messages=[{"role": "user", "content": "x"}])
    raw = httpx.post(f"{server.base}/chat/completions", content=b"{not json", timeout=10)
    assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"
    deep = b"[" * 50_000
    assert (
        httpx.post(f"{server.base}/chat/completions", content=deep, timeout=10).status_code == 413
    )
    assert httpx.get(f"{server.url}/nowhere", timeout=10).json()["error"]["message"]


def test_oversize_body_is_refused(server: Server) -> None:
    big = {"model": "echo", "messages": [{"role": "user", "content": "x" * 30_000}]}
    answer = httpx.post(f"{server.base}/chat/completions", json=big, timeout=10)
    assert answer.status_code == 413
    assert "limit of 20000 bytes" in answer.json()["error"]["message"]

    def chunks() -> object:
        yield b'{"model": "echo", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"y" * 1000
        yield b'"}]}'

    chunked = httpx.post(f"{server.base}/chat/completions", content=chunks(), timeout=10)
    assert chunked.status_code == 413


def test_failure_mid_stream_is_an_error_event(server: Server) -> None:
    stream = client(server).chat.completions.create(
        model="failing", messages=[{"role": "user", "content": "x"}], stream=True
    )
    seen: list[str] = []
    with pytest.raises(openai.APIError, match="crashed mid-stream"):
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                seen.append(chunk.choices[0].delta.content)
    assert "".join(seen) == "partial answer "


def test_concurrency_over_the_limit_gets_429(server: Server) -> None:
    results: list[int] = []

    def slow_call() -> None:
        body = {"model": "slow", "messages": [{"role": "user", "content": "x"}]}
        results.append(
            httpx.post(f"{server.base}/chat/completions", json=body, timeout=60).status_code
        )

    threads = [threading.Thread(target=slow_call) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/healthz", timeout=5).json()["in_flight"] < 2:
        assert time.monotonic() < deadline, "the two slow requests never got in flight"
        time.sleep(0.05)
    third = client(server).with_options(max_retries=0)
    with pytest.raises(openai.RateLimitError, match="too many requests"):
        third.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
    for thread in threads:
        thread.join(60)
    assert results == [200, 200]
