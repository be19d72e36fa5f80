"""SSE parsing and stream accumulation of the OpenAI-compatible backend."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

pytest.importorskip("httpx")

from agentkit.core.errors import ModelOutputError
from agentkit.llms import ToolCall, model_requests
from agentkit.llms.openai_compat import ModelServerError, OpenAICompatModel
from agentkit.llms.openai_compat.sse import DONE, SSEParser, StreamState
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


def events(text: str) -> list[str]:
    parser = SSEParser()
    out = [p for p in (parser.feed(line) for line in text.split("\n")) if p is not None]
    last = parser.flush()
    return out + ([last] if last is not None else [])


def test_sse_parser_events_comments_and_multiline_data() -> None:
    text = ': keep-alive\n\nevent: message\ndata: {"a":\ndata: 1}\n\ndata:[DONE]\r\n\r\n'
    assert events(text) == ['{"a":\n1}', DONE]
    assert events("data: x") == ["x"]  # the last event without its blank line
    assert events("id: 3\nretry: 100\n\n") == []


def chunk(delta: dict, finish: str | None = None, **extra: object) -> str:
    data = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return json.dumps(data)


def test_stream_state_accumulates_text_tool_calls_and_usage() -> None:
    state = StreamState()
    assert state.feed(chunk({"role": "assistant", "content": ""}, model="m1")) is None
    first = state.feed(chunk({"content": "Hel"}))
    assert first is not None and first.content == "Hel"
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"x"'}}
    state.feed(chunk({"tool_calls": [call]}))
    state.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}))
    state.feed(chunk({}, "tool_calls"))
    state.feed(json.dumps({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}}))
    final = state.final()
    assert final.content == "" and final.tool_calls == [ToolCall("c1", "f", {"x": 1})]
    assert final.usage is not None and final.usage.total_tokens == 7
    assert final.metadata == {"model": "m1", "finish_reason": "tool_calls"}


def test_stream_state_accepts_calls_without_index_and_dict_arguments() -> None:
    state = StreamState()
    calls = [
        {"id": "a", "function": {"name": "f", "arguments": {"q": "x"}}},
        {"id": "b", "function": {"name": "g", "arguments": "{}"}},
    ]
    state.feed(chunk({"tool_calls": calls}))
    final = state.final()
    assert final.tool_calls == [ToolCall("a", "f", {"q": "x"}), ToolCall("b", "g", {})]
    assert final.metadata["finish_reason"] == "tool_calls"
    assert final.usage is None


def test_stream_state_keeps_a_call_with_bad_arguments_like_the_non_streamed_path() -> None:
    state = StreamState()
    pieces = ['{"expression": ', "2+"]
    first = {"index": 0, "id": "c1", "function": {"name": "calculator", "arguments": ""}}
    state.feed(chunk({"tool_calls": [first]}))
    for piece in pieces:
        state.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    good = {
        "index": 1,
        "id": "c2",
        "function": {"name": "calculator", "arguments": '{"expression": "1+1"}'},
    }
    state.feed(chunk({"tool_calls": [good]}, "tool_calls"))
    bad_call, good_call = state.final().tool_calls
    assert bad_call == ToolCall.parse("c1", "calculator", '{"expression": 2+')
    assert bad_call.raw_arguments == '{"expression": 2+' and bad_call.arguments_error
    assert good_call == ToolCall("c2", "calculator", {"expression": "1+1"})


def test_stream_state_rejects_bad_chunks() -> None:
    with pytest.raises(ModelOutputError, match="malformed stream chunk"):
        StreamState().feed('{"choices": [')
    with pytest.raises(ModelOutputError, match="not a JSON object"):
        StreamState().feed("[1, 2]")
    with pytest.raises(ModelServerError, match="overloaded"):
        StreamState().feed('{"error": {"message": "overloaded"}}')


def test_stream_without_done_or_final_blank_line(server: FakeOpenAIServer) -> None:
    text = (
        "".join(f"data: {chunk({'content': piece})}\n\n" for piece in ["one", " two"])
        + f"data: {chunk({'content': ' three'}, 'stop')}"
    )
    server.enqueue(Step(text, sse=True))
    model = OpenAICompatModel("m", server.base_url, timeout=5)
    chunks = list(model.stream("count"))
    assert "".join(c.content for c in chunks) == "one two three"
    assert chunks[-1].metadata["finish_reason"] == "stop"
