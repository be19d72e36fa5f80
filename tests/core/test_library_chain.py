"""The core driving the library's prompt, fake model and parser (the benchmark chain)."""

from __future__ import annotations

import asyncio
from typing import Any

from agentkit.core import InMemoryTracer, RunConfig, Runnable
from agentkit.llms.fake import FakeListModel
from agentkit.parsers import StrOutputParser
from agentkit.prompts import PromptTemplate


def make_chain(reply: str = "one two three") -> tuple[Runnable[Any, Any], FakeListModel]:
    model = FakeListModel([reply])
    return PromptTemplate("Say {x}") | model | StrOutputParser(), model


def test_invoke_ainvoke_and_batch() -> None:
    chain, model = make_chain()
    assert chain.invoke({"x": 1}) == "one two three"
    assert asyncio.run(chain.ainvoke({"x": 2})) == "one two three"
    assert chain.batch([{"x": 3}, {"x": 4}]) == ["one two three"] * 2
    assert [m[-1].content for m in model.calls] == ["Say 1", "Say 2", "Say 3", "Say 4"]


def test_tokens_stream_through_the_parser() -> None:
    chain, _ = make_chain()
    assert list(chain.stream({"x": 1})) == ["one", " two", " three"]

    async def consume() -> list[str]:
        return [c async for c in chain.astream({"x": 1})]

    assert asyncio.run(consume()) == ["one", " two", " three"]


def test_traced_run_records_usage_on_the_model_span() -> None:
    chain, _ = make_chain()
    tracer = InMemoryTracer()
    chain.invoke({"x": 1}, RunConfig(tracers=(tracer,)))
    assert tracer.names() == ["Sequence", "PromptTemplate", "FakeListModel", "StrOutputParser"]
    model_span = next(s for s in tracer.spans if s.kind == "model")
    assert model_span.usage is not None and model_span.usage["completion_tokens"] == 3
