"""Tool calls whose arguments are not a JSON object: the model is told and retries.

Malformed arguments are the model's mistake: the agent answers that call with an error
observation (same tool call id) and the run goes on. A server reply that cannot be read at
all (not JSON, no ``choices``, a broken stream) is not the model's fault and still raises.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

pytest.importorskip("httpx")

from agentkit.agents import create_tool_agent
from agentkit.core.errors import ModelOutputError
from agentkit.llms import ChatResult, FakeListModel, Message, ToolCall, Usage, model_requests
from agentkit.llms.base import BaseChatModel
from agentkit.llms.openai_compat import OpenAICompatModel
from agentkit.llms.params import GenerationParams
from agentkit.tools import calculator
from tests.llms.fake_openai_server import (  # noqa: F401  (fixtures)
    FakeOpenAIServer,
    Step,
    completion,
    openai_server_fixture,
    server_fixture,
    sse_stream,
)

BAD = '{"expression": 2+'  # what a model wrote: cut off, and 2+ is not a JSON value
USAGE = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


@pytest.fixture(autouse=True)
def _requests_allowed() -> Iterator[None]:
    with model_requests(True):
        yield


def make(server: FakeOpenAIServer) -> OpenAICompatModel:
    return OpenAICompatModel("fake-model", server.base_url, timeout=5.0, max_retries=0)


def wire_calls(calls: Sequence[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [
        {"id": i, "type": "function", "function": {"name": name, "arguments": arguments}}
        for i, name, arguments in calls
    ]


def tool_reply(*calls: tuple[str, str, str]) -> Step:
    """A ``chat.completion`` whose message carries ``(id, name, arguments text)`` calls."""
    data = completion("fake-model", "", "tool_calls", USAGE)
    data["choices"][0]["message"] = {
        "role": "assistant", "content": None, "tool_calls": wire_calls(calls),
    }  # fmt: skip
    return Step(json.dumps(data))


def answer(text: str) -> Step:
    return Step(json.dumps(completion("fake-model", text, "stop", USAGE)))


def streamed_tool_reply(*calls: tuple[str, str, str]) -> Step:
    """The same calls streamed as OpenAI does: id and name first, then argument pieces."""
    events = []
    for index, (call_id, name, arguments) in enumerate(calls):
        head = {"index": index, "id": call_id, "type": "function"}
        events.append([{**head, "function": {"name": name, "arguments": ""}}])
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            events.append([{"index": index, "function": {"arguments": piece}}])
    lines = [
        {"choices": [{"index": 0, "delta": {"tool_calls": e}, "finish_reason": None}]}
        for e in events
    ]
    lines.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    text = "".join(f"data: {json.dumps(line)}\n\n" for line in lines) + "data: [DONE]\n\n"
    return Step(text, sse=True)


def streamed_answer(text: str) -> Step:
    return Step(sse_stream("fake-model", [text], "stop", None), sse=True)


class Streamed(BaseChatModel):
    """Plays the model by streaming the wrapped one and joining the chunks (as an app that
    shows tokens while it runs an agent would)."""

    def __init__(self, inner: OpenAICompatModel) -> None:
        super().__init__()
        self.inner = inner

    def bind_tools(self, schemas: list[dict[str, Any]]) -> Streamed:
        return Streamed(self.inner.bind(tools=schemas))

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        joined = functools.reduce(operator.add, self.inner.stream_chunks(messages, params))
        return ChatResult(joined.content, joined.tool_calls, joined.usage or Usage())


def check_error_step(step: Any, call_id: str) -> None:
    assert (step.tool, step.tool_input, step.tool_call_id) == ("calculator", BAD, call_id)
    assert step.error is not None and "not valid JSON" in step.error
    observation = step.observation
    assert observation.startswith("Error: the arguments of your call to tool 'calculator'")
    assert "not valid JSON (Expecting ',' delimiter: line 1 column 17" in observation
    assert BAD in observation  # the model sees what it wrote
    assert "one JSON object" in observation and '"required": ["expression"]' in observation


def check_retry_request(body: dict[str, Any], call_id: str, observation: str) -> None:
    """The request after the bad call: that call (arguments as a valid "{}"), then its error."""
    assistant_message, tool_message = body["messages"][-2:]
    assert assistant_message["tool_calls"] == wire_calls([(call_id, "calculator", "{}")])
    assert tool_message == {"role": "tool", "content": observation, "tool_call_id": call_id}


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
def test_invalid_json_arguments_are_sent_back_and_the_model_retries(
    server: FakeOpenAIServer, streaming: bool
) -> None:
    if streaming:
        server.enqueue(
            streamed_tool_reply(("c1", "calculator", BAD)),
            streamed_tool_reply(("c2", "calculator", '{"expression": "2+2"}')),
            streamed_answer("2+2 is 4."),
        )
        model: BaseChatModel = Streamed(make(server))
    else:
        server.enqueue(
            tool_reply(("c1", "calculator", BAD)),
            tool_reply(("c2", "calculator", '{"expression": "2+2"}')),
            answer("2+2 is 4."),
        )
        model = make(server)
    result = create_tool_agent(model, [calculator]).invoke("What is 2+2?")
    assert (result["output"], result["stopped_reason"]) == ("2+2 is 4.", None)
    bad, good = result["steps"]
    check_error_step(bad, "c1")
    assert (good.tool_input, good.observation, good.error) == ({"expression": "2+2"}, "4", None)
    bodies = server.bodies()
    assert len(bodies) == 3
    check_retry_request(bodies[1], "c1", bad.observation)
    assert bodies[2]["messages"][-1] == {"role": "tool", "content": "4", "tool_call_id": "c2"}


def test_agent_stream_yields_the_error_step(server: FakeOpenAIServer) -> None:
    server.enqueue(tool_reply(("c1", "calculator", BAD)), answer("I could not compute it."))
    chunks = list(create_tool_agent(make(server), [calculator]).stream("What is 2+?"))
    [step_chunk] = [c for c in chunks if "step" in c]
    check_error_step(step_chunk["step"], "c1")
    assert chunks[-1]["output"] == "I could not compute it."


@pytest.mark.parametrize("streaming", [False, True], ids=["invoke", "stream"])
def test_a_bad_call_in_a_parallel_reply_does_not_stop_the_good_one(
    server: FakeOpenAIServer, streaming: bool
) -> None:
    calls = [("c1", "calculator", '{"expression": "1+1"}'), ("c2", "calculator", BAD)]
    reply = streamed_tool_reply(*calls) if streaming else tool_reply(*calls)
    server.enqueue(reply, streamed_answer("2") if streaming else answer("2"))
    model = Streamed(make(server)) if streaming else make(server)
    result = create_tool_agent(model, [calculator]).invoke("1+1 and 2+?")
    good, bad = result["steps"]
    assert (good.tool_call_id, good.observation, good.error) == ("c1", "2", None)
    check_error_step(bad, "c2")
    messages = server.bodies()[1]["messages"]
    assert messages[-3]["tool_calls"] == wire_calls(
        [("c1", "calculator", '{"expression": "1+1"}'), ("c2", "calculator", "{}")]
    )
    assert [(m["tool_call_id"], m["content"]) for m in messages[-2:]] == [
        ("c1", "2"), ("c2", bad.observation),
    ]  # fmt: skip
    assert result["output"] == "2"


def test_a_json_value_that_is_not_an_object_is_reported_too(server: FakeOpenAIServer) -> None:
    server.enqueue(tool_reply(("c1", "calculator", '["2+2"]')), answer("done"))
    [step] = create_tool_agent(make(server), [calculator]).invoke("2+2?")["steps"]
    assert step.tool_input == '["2+2"]' and step.error is not None
    assert "not a JSON object (got a JSON array)" in step.observation


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Step("<html>Bad gateway</html>"), "not JSON"),
        (Step('{"object": "list", "data": []}'), "no 'choices'"),
    ],
)
def test_unreadable_server_replies_still_raise(
    server: FakeOpenAIServer, reply: Step, message: str
) -> None:
    server.enqueue(reply)
    with pytest.raises(ModelOutputError, match=message):
        create_tool_agent(make(server), [calculator]).invoke("2+2?")
    assert len(server.bodies()) == 1  # nothing was sent back to the model


def test_a_malformed_stream_still_raises(server: FakeOpenAIServer) -> None:
    server.enqueue(Step('data: {"choices": [{"delta": {"tool_calls": [\n\n', sse=True))
    with pytest.raises(ModelOutputError, match="malformed stream chunk"):
        create_tool_agent(Streamed(make(server)), [calculator]).invoke("2+2?")
    assert len(server.bodies()) == 1


# --- the same with the fake models -------------------------------------------------------


def test_fake_models_script_malformed_calls() -> None:
    model = FakeListModel(
        [
            ChatResult("", [ToolCall.parse("c1", "calculator", BAD)]),
            # a spec-style dict: arguments as the model's text, as OpenAI sends them
            {"text": "", "tool_calls": [{"id": "c2", "name": "calculator", "arguments": "[1]"}]},
            ChatResult("", [ToolCall("c3", "calculator", {"expression": "2+2"})]),
            ChatResult("4"),
        ]
    )
    result = create_tool_agent(model, [calculator]).invoke("2+2?")
    assert result["output"] == "4"
    first, second, third = result["steps"]
    check_error_step(first, "c1")
    assert "not a JSON object (got a JSON array)" in second.observation
    assert (third.observation, third.error) == ("4", None)
    retry = model.calls[1]
    assert retry[-2].tool_calls == [ToolCall.parse("c1", "calculator", BAD)]
    assert (retry[-1].role, retry[-1].tool_call_id) == ("tool", "c1")


def test_unknown_tool_with_malformed_arguments_gets_the_unknown_tool_message() -> None:
    model = FakeListModel([ChatResult("", [ToolCall.parse("c1", "calc", BAD)]), ChatResult("ok")])
    [step] = create_tool_agent(model, [calculator]).invoke("2+2?")["steps"]
    assert step.error == "unknown tool 'calc'" and "Available tools: calculator" in step.observation
    assert step.tool_input == BAD


def test_malformed_calls_without_ids_get_distinct_ids() -> None:
    calls = [ToolCall.parse("", "calculator", BAD), ToolCall("", "calculator", {"expression": "1"})]
    model = FakeListModel([ChatResult("", calls), ChatResult("1")])
    bad, good = create_tool_agent(model, [calculator]).invoke("q")["steps"]
    assert (bad.tool_call_id, good.tool_call_id) == ("call_0", "call_1")
    assert bad.error is not None and good.error is None
    sent = model.calls[1][-3].tool_calls
    assert [c.id for c in sent] == ["call_0", "call_1"] and sent[0].raw_arguments == BAD
