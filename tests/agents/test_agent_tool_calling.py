"""The tool-calling agent: native tool calls, tool messages, parallel calls."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from agentkit.agents import ToolCallingAgent, create_tool_agent
from agentkit.core.errors import UsageError
from agentkit.llms import ChatResult, FakeListModel, FunctionModel, ToolCall
from agentkit.llms.base import BaseChatModel
from agentkit.llms.messages import Message
from agentkit.llms.params import GenerationParams
from agentkit.tools import calculator, tool


def test_calculator_question_with_native_tool_calls() -> None:
    model = FakeListModel(
        [
            ChatResult(
                "Let me compute.", [ToolCall("c1", "calculator", {"expression": "25% of 300"})]
            ),
            ChatResult("25% of 300 is 75."),
        ]
    )
    result = create_tool_agent(model, [calculator]).invoke("What is 25% of 300?")
    assert result["output"] == "25% of 300 is 75."
    [step] = result["steps"]
    assert (step.tool, step.tool_input, step.observation, step.tool_call_id) == (
        "calculator", {"expression": "25% of 300"}, "75", "c1",
    )  # fmt: skip
    assert step.thought == "Let me compute."
    second = model.calls[1]
    assert [m.role for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2].tool_calls[0].id == "c1"
    assert (second[3].content, second[3].tool_call_id, second[3].name) == ("75", "c1", "calculator")


def test_parallel_tool_calls_run_concurrently_and_answer_each_call_id() -> None:
    barrier = threading.Barrier(3, timeout=5)
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    @tool
    def lookup(key: str) -> str:
        """Look a key up."""
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        barrier.wait()  # only passes when all three run at the same time
        with lock:
            state["now"] -= 1
        return f"value of {key}"

    calls = [ToolCall(f"id{i}", "lookup", {"key": k}) for i, k in enumerate("abc")]
    model = FakeListModel([ChatResult("", calls), ChatResult("done")])
    result = create_tool_agent(model, [lookup]).invoke("look up a, b and c")
    assert state["max"] == 3
    steps = result["steps"]
    assert [s.observation for s in steps] == ["value of a", "value of b", "value of c"]
    assert [s.error for s in steps] == [None, None, None]
    tool_messages = [m for m in model.calls[1] if m.role == "tool"]
    assert [(m.tool_call_id, m.content) for m in tool_messages] == [
        ("id0", "value of a"), ("id1", "value of b"), ("id2", "value of c"),
    ]  # fmt: skip


def test_parallel_async_tools_run_concurrently_in_ainvoke() -> None:
    state = {"now": 0, "max": 0}

    @tool
    async def fetch(key: str) -> str:
        """Fetch a key."""
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        for _ in range(5):
            await asyncio.sleep(0)  # yield to the other calls
        state["now"] -= 1
        return key.upper()

    calls = [ToolCall(f"id{i}", "fetch", {"key": k}) for i, k in enumerate("xyz")]
    model = FakeListModel([ChatResult("", calls), ChatResult("XYZ")])
    result = asyncio.run(create_tool_agent(model, [fetch]).ainvoke("fetch"))
    assert state["max"] == 3
    assert [s.observation for s in result["steps"]] == ["X", "Y", "Z"]


def test_unknown_tool_and_bad_arguments_in_a_parallel_batch() -> None:
    calls = [
        ToolCall("a", "nope", {}),
        ToolCall("b", "calculator", {"expr": "1"}),
        ToolCall("c", "calculator", {"expression": "1+1"}),
    ]
    model = FakeListModel([ChatResult("", calls), ChatResult("2")])
    result = create_tool_agent(model, [calculator]).invoke("q")
    unknown, invalid, ok = result["steps"]
    assert unknown.error == "unknown tool 'nope'" and "Available tools" in unknown.observation
    assert invalid.error is not None and "expression" in invalid.observation
    assert (ok.observation, ok.error) == ("2", None)
    assert len([m for m in model.calls[1] if m.role == "tool"]) == 3


class ToolAwareModel(BaseChatModel):
    """A model that takes tool schemas with bind_tools (as real backends do)."""

    is_fake = True

    def __init__(self, tools: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.tools = tools or []

    def bind_tools(self, schemas: list[dict[str, Any]]) -> ToolAwareModel:
        return ToolAwareModel(schemas)

    def generate(self, messages: Any, params: GenerationParams | None = None) -> ChatResult:
        if messages[-1].role == "tool":
            return ChatResult(f"got {messages[-1].content}")
        name = self.tools[0]["function"]["name"]
        return ChatResult("", [ToolCall("t1", name, {"expression": "3*3"})])


def test_tool_schemas_are_bound_to_models_that_accept_them() -> None:
    agent = create_tool_agent(ToolAwareModel(), [calculator])
    assert agent.invoke("3*3?")["output"] == "got 9"
    params_model = FakeListModel(["done"])
    assert create_tool_agent(params_model, [calculator]).invoke("q")["output"] == "done"


def test_a_real_model_without_tool_support_is_refused() -> None:
    class TextOnly(BaseChatModel):
        def generate(self, messages: Any, params: GenerationParams | None = None) -> ChatResult:
            return ChatResult("hi")

    with pytest.raises(UsageError, match="does not accept tools"):
        ToolCallingAgent(TextOnly(), [calculator])


def test_prompt_and_history_reach_the_model() -> None:
    seen: list[list[Message]] = []

    def fn(messages: list[Message], params: GenerationParams) -> str:
        seen.append(messages)
        return "fine"

    history = [Message("user", "earlier"), Message("assistant", "reply")]
    agent = create_tool_agent(FunctionModel(fn), [calculator])
    agent.invoke({"input": "now", "history": history})
    assert [m.content for m in seen[0][1:]] == ["earlier", "reply", "now"]


def test_graph_shows_the_model_and_the_tools() -> None:
    agent = create_tool_agent(FakeListModel(["x"]), [calculator])
    names = agent.graph().names()
    assert names[0] == "ToolCallingAgent"
    assert "FakeListModel" in names and "calculator" in names
