"""The typed event stream: stream_events / astream_events on every Runnable."""

from __future__ import annotations

import asyncio
import dataclasses
import pickle
import threading
from typing import Any

import pytest

from agentkit.agents import create_tool_agent
from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core import Lambda, RunConfig, Runnable, UsageError
from agentkit.core.events import (
    AgentStep,
    Event,
    NodeEnd,
    NodeError,
    NodeStart,
    Output,
    Retrieved,
    Token,
    ToolCall,
    ToolResult,
)
from agentkit.llms import ChatResult, FakeListModel
from agentkit.llms import ToolCall as ModelToolCall
from agentkit.parsers import StrOutputParser
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.tools import calculator

DOCS = [
    Document("Paris is the capital of France.", id="fr"),
    Document("Berlin is the capital of Germany.", id="de"),
    Document("Bananas are rich in potassium.", id="banana"),
]


def simple_chain() -> Runnable[Any, Any]:
    return PromptTemplate("Say {word}") | FakeListModel(["one two three"]) | StrOutputParser()


def collect(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def check_nesting(events: list[Event]) -> None:
    """Every start is closed by its end or error, children inside their parents."""
    open_ids: list[str] = []
    for event in events:
        if isinstance(event, NodeStart):
            if open_ids:
                assert event.parent_run_id == open_ids[-1]
            open_ids.append(event.run_id)
        elif isinstance(event, NodeEnd | NodeError):
            assert open_ids and open_ids[-1] == event.run_id
            open_ids.pop()
    assert open_ids == []


def run_async(node: Runnable[Any, Any], value: Any, config: Any = None) -> list[Event]:
    async def go() -> list[Event]:
        return [e async for e in node.astream_events(value, config)]

    return asyncio.run(go())


def test_astream_events_over_prompt_model_parser_in_order() -> None:
    events = run_async(simple_chain(), {"word": "hi"})
    check_nesting(events)
    starts = [e for e in events if isinstance(e, NodeStart)]
    assert [(s.name, s.kind) for s in starts] == [
        ("Sequence", "sequence"),
        ("PromptTemplate", "prompt"),
        ("FakeListModel", "model"),
        ("StrOutputParser", "parser"),
    ]
    root = starts[0]
    assert root.parent_run_id is None and root.input == {"word": "hi"}
    assert all(s.parent_run_id == root.run_id for s in starts[1:])
    model = starts[2]
    tokens = [e for e in events if isinstance(e, Token)]
    assert len(tokens) > 1
    assert all(t.run_id == model.run_id and t.name == "FakeListModel" for t in tokens)
    assert "".join(t.text for t in tokens) == "one two three"
    types = collect(events)
    first_token, model_end = types.index("token"), types.index("node_end", types.index("token"))
    assert types[:5] == ["node_start", "node_start", "node_end", "node_start", "token"]
    assert all(t == "token" for t in types[first_token:model_end])
    assert types[model_end:] == ["node_end", "node_start", "node_end", "node_end", "output"]
    assert isinstance(events[-1], Output)
    assert events[-1].output == "one two three" and events[-1].run_id == root.run_id
    ends = {e.run_id: e for e in events if isinstance(e, NodeEnd)}
    assert ends[model.run_id].output.content == "one two three"


def test_sync_stream_events_gives_the_same_sequence() -> None:
    sync = list(simple_chain().stream_events({"word": "hi"}))
    assert collect(sync) == collect(run_async(simple_chain(), {"word": "hi"}))
    assert sync[-1] == Output(sync[0].run_id, "one two three")


def test_output_equals_invoke_and_config_is_kept() -> None:
    seen: list[Any] = []

    def spy(value: str, config: RunConfig) -> str:
        seen.append((config.get("user"), config.tags))
        return value.upper()

    chain = simple_chain() | Lambda(spy)
    config = {"configurable": {"user": "ann"}, "tags": ["t"]}
    events = list(chain.stream_events({"word": "x"}, config))
    assert events[-1].output == chain.invoke({"word": "x"}) == "ONE TWO THREE"
    assert seen[0] == ("ann", ("t",))


def test_retrieval_qa_reports_documents_then_tokens() -> None:
    qa = RetrievalQA.from_llm(
        FakeListModel(["Paris is the capital."]), BM25Retriever(DOCS, k=2, stemmer=None)
    )
    events = run_async(qa, {"query": "What is the capital of France?"})
    check_nesting(events)
    types = collect(events)
    assert types[0] == "node_start" and events[0].name == "RetrievalQA"
    retrieved = [e for e in events if isinstance(e, Retrieved)]
    assert len(retrieved) == 1
    assert retrieved[0].query == "What is the capital of France?"
    assert retrieved[0].documents[0].id == "fr"
    at = types.index("retrieved")
    assert types[at + 1] == "node_end" and events[at + 1].kind == "retriever"
    assert types.index("token") > at
    assert sum(t == "token" for t in types) > 1
    assert types[-2:] == ["node_end", "output"]
    assert events[-1].output["result"] == "Paris is the capital."
    assert [s["id"] for s in events[-1].output["sources"]] == ["fr", "de"]


def tool_agent() -> Runnable[Any, Any]:
    model = FakeListModel(
        [
            ChatResult("", [ModelToolCall("a", "calculator", {"expression": "2+2"})]),
            ChatResult("The answer is 4"),
        ]
    )
    return create_tool_agent(model, [calculator])


def test_tool_calling_agent_reports_tool_calls_results_and_steps() -> None:
    events = run_async(tool_agent(), "what is 2+2?")
    check_nesting(events)
    types = collect(events)
    assert events[0].type == "node_start" and events[0].kind == "agent"
    call = next(e for e in events if isinstance(e, ToolCall))
    result = next(e for e in events if isinstance(e, ToolResult))
    step = next(e for e in events if isinstance(e, AgentStep))
    assert call.name == "calculator" and call.input == {"expression": "2+2"}
    assert result.name == "calculator" and result.run_id == call.run_id and result.output == "4"
    assert step.step.tool == "calculator" and step.step.observation == "4"
    assert step.run_id == events[0].run_id
    i_call, i_result, i_step = (types.index(t) for t in ("tool_call", "tool_result", "agent_step"))
    assert types[i_call - 1] == "node_start" and events[i_call - 1].run_id == call.run_id
    assert types[i_result + 1] == "node_end" and events[i_result + 1].run_id == call.run_id
    assert i_call < i_result < i_step
    answer_tokens = [e.text for e in events[i_step:] if isinstance(e, Token)]
    assert "".join(answer_tokens) == "The answer is 4"
    assert events[-1].output["output"] == "The answer is 4"
    assert events[-1].output["steps"][0].tool_input == {"expression": "2+2"}


def test_sync_agent_events_match_async() -> None:
    assert collect(list(tool_agent().stream_events("2+2?"))) == collect(
        run_async(tool_agent(), "2+2?")
    )


def boom(value: Any) -> Any:
    raise ValueError(f"bad value {value!r}")


def test_a_failing_run_reports_the_error_then_raises_it() -> None:
    chain = Lambda(str.strip) | Lambda(boom)
    events: list[Event] = []
    with pytest.raises(ValueError, match="bad value"):
        for event in chain.stream_events("  x  "):
            events.append(event)
    assert collect(events) == [
        "node_start",
        "node_start",
        "node_end",
        "node_start",
        "error",
        "error",
    ]
    failed = events[4]
    assert isinstance(failed, NodeError) and failed.name == "boom"
    assert failed.error == "ValueError: bad value 'x'" and isinstance(failed.exception, ValueError)

    async def go() -> None:
        async for _ in chain.astream_events("  x  "):
            pass

    with pytest.raises(ValueError, match="bad value"):
        asyncio.run(go())


def test_a_recovered_failure_is_reported_and_the_run_goes_on() -> None:
    chain = Lambda(boom).with_fallbacks([Lambda(str.upper)])
    events = list(chain.stream_events("a"))
    assert "error" in collect(events)
    assert events[-1].output == "A"


def test_a_reader_that_stops_early_ends_the_sync_run() -> None:
    after: list[str] = []
    model = FakeListModel([" ".join(["word"] * 50)], token_latency=0.02)
    chain = model | Lambda(lambda m: after.append("ran") or m)
    stream = chain.stream_events("go")
    for event in stream:
        if isinstance(event, Token):
            break
    stream.close()  # type: ignore[attr-defined]
    worker = [t for t in threading.enumerate() if t.name == "agentkit-events"]
    for thread in worker:
        thread.join(10)
    assert after == []  # the run stopped at its next token; the last step never ran


def test_a_stopped_reader_is_not_retried_or_fallen_back_from() -> None:
    model = FakeListModel([" ".join(["word"] * 50)], token_latency=0.02)
    backup = FakeListModel(["backup"])
    chain = model.with_retry(attempts=3).with_fallbacks([backup])
    stream = chain.stream_events("go")
    for event in stream:
        if isinstance(event, Token):
            break
    stream.close()  # type: ignore[attr-defined]
    for thread in [t for t in threading.enumerate() if t.name == "agentkit-events"]:
        thread.join(10)
    assert len(model.calls) == 1 and backup.calls == []


def test_a_reader_that_stops_early_cancels_the_async_run() -> None:
    finished = threading.Event()
    cancelled = threading.Event()

    async def slow(value: str) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        finished.set()
        return value

    async def go() -> None:
        stream = (Lambda(str.strip) | Lambda(slow)).astream_events(" a ")
        async for event in stream:
            if isinstance(event, NodeStart) and event.name == "slow":
                break
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(go())
    assert cancelled.is_set() and not finished.is_set()


def test_events_work_on_a_plain_user_runnable() -> None:
    class Echo(Runnable[str, str]):
        def invoke(self, input: str, config: Any = None) -> str:
            return input * 2

    events = list(Echo().stream_events("ab"))
    assert [type(e) for e in events] == [NodeStart, NodeEnd, Output]
    assert events[0].name == "Echo" and events[1].output == "abab" and events[2].output == "abab"


@pytest.mark.parametrize("config", [{"no_such_field": 1}, 42, {"events": object()}])
def test_hostile_configs_are_refused_with_a_usage_error(config: Any) -> None:
    with pytest.raises(UsageError, match="config"):
        list(Lambda(str.upper).stream_events("a", config))


def test_hostile_values_pass_through_untouched() -> None:
    hostile = {"text": "\x00<script>{{ 7*7 }}</script>" * 1000, "nested": [[[[["deep"]]]]]}
    events = list(Lambda(lambda v: v).stream_events(hostile))
    assert events[0].input is hostile and events[-1].output is hostile


# the docs' table (docs/concepts.md): each event's `type` and fields, in order
DOCUMENTED = {
    NodeStart: ("node_start", ["run_id", "parent_run_id", "name", "kind", "input"]),
    NodeEnd: ("node_end", ["run_id", "parent_run_id", "name", "kind", "output"]),
    NodeError: ("error", ["run_id", "parent_run_id", "name", "kind", "error", "exception"]),
    Token: ("token", ["run_id", "name", "text", "chunk"]),
    Retrieved: ("retrieved", ["run_id", "name", "query", "documents"]),
    ToolCall: ("tool_call", ["run_id", "name", "input"]),
    ToolResult: ("tool_result", ["run_id", "name", "output"]),
    AgentStep: ("agent_step", ["run_id", "name", "step"]),
    Output: ("output", ["run_id", "output"]),
}


@pytest.mark.parametrize("kind", list(DOCUMENTED), ids=lambda k: k.__name__)
def test_each_event_has_its_documented_type_and_fields(kind: type) -> None:
    expected_type, names = DOCUMENTED[kind]
    assert kind.type == expected_type
    assert [f.name for f in dataclasses.fields(kind)] == names
    event = kind(*(f"v{i}" for i in range(len(names))))
    assert event.type == expected_type and not hasattr(event, "__dict__")  # slotted
    assert [getattr(event, name) for name in names] == [f"v{i}" for i in range(len(names))]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.run_id = "other"
    assert pickle.loads(pickle.dumps(event)).type == expected_type
