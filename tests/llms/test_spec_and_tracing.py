"""Spec round trips of the fakes, and tracing spans that carry token usage."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import agentkit
from agentkit.core import InMemoryTracer, Lambda, RunConfig, spec
from agentkit.core.errors import SpecError
from agentkit.llms import (
    ChatResult,
    FakeListModel,
    FunctionModel,
    GenerationParams,
    Message,
    ToolCall,
)


def shout(messages: list[Message], params: GenerationParams) -> str:
    return messages[-1].content.upper()


def shout_pieces(messages: list[Message], params: GenerationParams) -> list[str]:
    return list(messages[-1].content.upper())


def test_fake_list_model_round_trips_through_yaml(tmp_path: Path) -> None:
    call = ToolCall("c1", "search", {"q": "paris"})
    model = FakeListModel(
        ["plain", ChatResult("", [call], finish_reason="tool_calls")],
        latency=0.001,
        params={"temperature": 0, "stop": ["\n"]},
    )
    data = model.to_dict()
    assert data["type"] == "fake_list_model"
    assert data["responses"][0] == "plain"
    assert data["responses"][1]["tool_calls"] == [call.to_dict()]
    assert data["params"] == {"temperature": 0, "stop": ["\n"]}
    path = agentkit.save(model, tmp_path / "model.yaml")
    loaded = agentkit.load(path)
    assert isinstance(loaded, FakeListModel)
    assert loaded.to_dict() == data
    assert loaded.invoke("q") == model.invoke("q")
    assert loaded.invoke("q").tool_calls == [call]


def test_function_model_round_trip() -> None:
    model = FunctionModel(shout, stream_fn=shout_pieces, token_latency=0.0001)
    data = model.to_dict()
    assert data["fn"].endswith(":shout") and data["stream_fn"].endswith(":shout_pieces")
    loaded = spec.load(data)
    assert isinstance(loaded, FunctionModel)
    assert loaded.invoke("hey").content == "HEY"
    assert [c.content for c in loaded.stream("ab")] == ["A", "B"]
    assert loaded.to_dict() == data


def test_lambdas_cannot_be_serialised() -> None:
    with pytest.raises(SpecError, match="only module-level functions"):
        FunctionModel(lambda m, p: "x").to_dict()


def test_invalid_specs_name_the_field() -> None:
    with pytest.raises(SpecError, match=r"\$\.responses\[1\]: expected a string or a ChatResult"):
        spec.load({"type": "fake_list_model", "responses": ["ok", 3]})
    with pytest.raises(SpecError, match="temperature must be >= 0"):
        spec.load({"type": "fake_list_model", "responses": ["ok"], "params": {"temperature": -1}})
    with pytest.raises(SpecError, match="unknown field 'latncy'"):
        spec.load({"type": "fake_list_model", "responses": ["ok"], "latncy": 1})
    with pytest.raises(SpecError, match=r"\$\.fn: required field is missing"):
        spec.load({"type": "function_model"})


def test_invoke_span_carries_usage() -> None:
    tracer = InMemoryTracer()
    model = FakeListModel(["four words of reply"])
    model.invoke("two words", RunConfig(tracers=(tracer,)))
    (span,) = tracer.spans
    assert span.kind == "model" and span.name == "FakeListModel"
    assert span.usage == {"prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}


def test_stream_async_and_batch_spans_carry_usage() -> None:
    tracer = InMemoryTracer()
    config = RunConfig(tracers=(tracer,))
    model = FakeListModel(["a b c"])
    list(model.stream("q", config))
    asyncio.run(model.ainvoke("q", config))

    async def consume() -> None:
        async for _ in model.astream("q", config):
            pass

    asyncio.run(consume())
    model.batch(["x", "y"], config)
    assert len(tracer.spans) == 5
    assert all(s.usage is not None and s.usage["completion_tokens"] == 3 for s in tracer.spans)


def test_model_span_is_a_child_in_a_chain() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(lambda q: f"Q: {q}", name="prompt") | FakeListModel(["answer"])
    result = chain.invoke("why?", RunConfig(tracers=(tracer,)))
    assert result.content == "answer"
    model_span = next(s for s in tracer.spans if s.kind == "model")
    assert model_span.parent_id is not None
    assert model_span.usage is not None and model_span.usage["prompt_tokens"] == 2
