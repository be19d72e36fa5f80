"""Streaming steps, memory across turns, async parity and tracing."""

from __future__ import annotations

import asyncio
from typing import Any

from agentkit.agents import Step, create_react_agent, create_tool_agent, result_to_dict
from agentkit.core import InMemoryTracer, RunConfig
from agentkit.llms import (
    ChatResult,
    FakeListModel,
    FunctionModel,
    GenerationParams,
    Message,
    ToolCall,
)
from agentkit.memory import BufferMemory
from agentkit.tools import calculator

REACT_SCRIPT = [
    "Thought: first\nAction: calculator\nAction Input: 2+2",
    "not parsable",
    "Thought: second\nAction: calculator\nAction Input: 4*10",
    "Final Answer: 40",
]


def react_agent(**options: Any) -> Any:
    return create_react_agent(FakeListModel(REACT_SCRIPT), [calculator], **options)


def tool_agent() -> Any:
    model = FakeListModel(
        [
            ChatResult("", [ToolCall("a", "calculator", {"expression": "2+2"})]),
            ChatResult("", [ToolCall("b", "calculator", {"expression": "4*10"})]),
            ChatResult("40"),
        ]
    )
    return create_tool_agent(model, [calculator])


def test_stream_yields_each_step_as_it_happens_then_the_result() -> None:
    calls_seen: list[int] = []
    model = FakeListModel(REACT_SCRIPT)
    agent = create_react_agent(model, [calculator])
    events = []
    for event in agent.stream("q"):
        calls_seen.append(len(model.calls))
        events.append(event)
    *step_events, final = events
    steps = [e["step"] for e in step_events]
    assert all(isinstance(s, Step) for s in steps) and len(steps) == 3
    assert [s.tool for s in steps] == ["calculator", None, "calculator"]
    # each step arrives before the model is called again
    assert calls_seen[:3] == [1, 2, 3]
    assert final["output"] == "40" and final["steps"] == steps


def test_streamed_chunks_merge_into_the_result_inside_a_chain() -> None:
    from agentkit.core.compose import Pick

    chain = react_agent() | Pick("output")
    assert list(chain.stream("q")) == ["40"]
    tracer = InMemoryTracer()
    list(react_agent().stream("q", RunConfig(tracers=(tracer,))))
    [root] = [s for s in tracer.spans if s.name == "ReActAgent"]
    assert root.error is None


def test_astream_matches_stream() -> None:
    async def collect() -> list[Any]:
        return [event async for event in react_agent().astream("q")]

    async_events = asyncio.run(collect())
    sync_events = list(react_agent().stream("q"))
    assert _plain(async_events) == _plain(sync_events)
    assert len(sync_events) == 4


def _plain(events: list[Any]) -> list[Any]:
    out = []
    for e in events:
        data = e["step"].to_dict() if "step" in e else result_to_dict(e)
        out.append(_no_seconds(data))
    return out


def _no_seconds(data: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in data.items() if k != "seconds"}
    if "steps" in data:
        data["steps"] = [_no_seconds(s) for s in data["steps"]]
    return data


def test_async_parity_for_both_agents() -> None:
    for make in (react_agent, tool_agent):
        sync = make().invoke("q")
        asynchronous = asyncio.run(make().ainvoke("q"))
        assert _no_seconds(result_to_dict(sync)) == _no_seconds(result_to_dict(asynchronous))
        assert sync["output"] == "40"


def test_memory_across_two_turns_for_both_agents() -> None:
    memory = BufferMemory()
    seen: list[list[Message]] = []

    def react_fn(messages: list[Message], params: GenerationParams) -> str:
        seen.append(messages)
        return "Final Answer: Nice to meet you, Ada." if len(seen) == 1 else "Final Answer: Ada"

    agent = create_react_agent(FunctionModel(react_fn), [calculator], memory=memory)
    config = {"configurable": {"session_id": "s1"}}
    agent.invoke("My name is Ada.", config)
    second = agent.invoke("What is my name?", config)
    assert second["output"] == "Ada"
    contents = [m.content for m in seen[1]]
    assert "My name is Ada." in contents and "Nice to meet you, Ada." in contents
    assert [m.content for m in memory.load("s1")] == [
        "My name is Ada.", "Nice to meet you, Ada.", "What is my name?", "Ada",
    ]  # fmt: skip
    assert memory.load("default") == []  # sessions are isolated

    tool_seen: list[list[Message]] = []

    def tool_fn(messages: list[Message], params: GenerationParams) -> ChatResult:
        tool_seen.append(messages)
        return ChatResult(f"turn {len(tool_seen)}")

    tool_memory = BufferMemory()
    tagent = create_tool_agent(FunctionModel(tool_fn), [calculator], memory=tool_memory)
    tagent.invoke("first")
    tagent.invoke("second")
    assert [m.content for m in tool_seen[1][1:]] == ["first", "turn 1", "second"]


def test_tracing_records_the_agent_model_and_tool_spans() -> None:
    tracer = InMemoryTracer()
    react_agent().invoke("q", RunConfig(tracers=(tracer,)))
    names = tracer.names()
    assert names.count("calculator") == 2
    assert "ReActAgent" in names and any("FakeListModel" in n for n in names)
    root = [s for s in tracer.spans if s.name == "ReActAgent"]
    assert len(root) == 1 and root[0].parent_id is None
