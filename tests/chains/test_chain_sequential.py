"""SimpleSequentialChain and SequentialChain: value passing, wiring checks, async, tracing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentkit.chains import LLMChain, SequentialChain, SimpleSequentialChain
from agentkit.core import InMemoryTracer, Lambda, RunConfig, UsageError, WiringError
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate


def step(template: str, reply: str, key: str = "text") -> LLMChain:
    return LLMChain(PromptTemplate(template), FakeListModel([reply]), output_key=key)


def review_chain(**kwargs: object) -> SequentialChain:
    return SequentialChain(
        [
            step("Translate: {review}", "It is good", "english"),
            step("Summarise: {english}", "Good", "summary"),
            step("Language of: {review}", "French", "language"),
            step("Reply to {summary} in {language}", "Merci", "reply"),
        ],
        input_variables=["review"],
        output_variables=["summary", "reply"],
        **kwargs,  # type: ignore[arg-type]
    )


def test_simple_sequential_passes_the_value_along() -> None:
    first = step("Name for {product}?", "Acme", "name")
    second = step("Describe {name}", "Acme makes anvils")
    chain = SimpleSequentialChain([first, second])
    assert chain.invoke("anvils") == {"input": "anvils", "output": "Acme makes anvils"}
    assert second.llm.calls[0][0].content == "Describe Acme"  # type: ignore[attr-defined]


def test_simple_sequential_accepts_plain_runnables() -> None:
    chain = SimpleSequentialChain(
        [Lambda(str.upper), step("Echo {x}", "done")], input_key="q", output_key="a"
    )
    assert chain.run("hi") == "done"
    inner = chain.chains[1]
    assert inner.llm.calls[0][0].content == "Echo HI"  # type: ignore[attr-defined]


def test_simple_sequential_rejects_multi_key_steps() -> None:
    two_inputs = step("{a} and {b}", "x")
    with pytest.raises(WiringError, match=r"step 1 \(LLMChain\) has input keys \['a', 'b'\]"):
        SimpleSequentialChain([step("{q}", "y"), two_inputs])
    with pytest.raises(UsageError, match="at least one step"):
        SimpleSequentialChain([])


def test_sequential_runs_in_order_and_returns_only_the_output_variables() -> None:
    chain = review_chain()
    assert chain.invoke({"review": "C'est bon"}) == {"summary": "Good", "reply": "Merci"}
    last: Any = chain.chains[3]
    assert last.llm.calls[0][0].content == "Reply to Good in French"


def test_sequential_return_all_gives_every_variable() -> None:
    result = review_chain(return_all=True).invoke("C'est bon")
    assert result == {
        "review": "C'est bon",
        "english": "It is good",
        "summary": "Good",
        "language": "French",
        "reply": "Merci",
    }


def test_unknown_input_variable_is_caught_at_build_time() -> None:
    with pytest.raises(WiringError) as err:
        SequentialChain(
            [step("T: {review}", "x", "english"), step("S: {englsh}", "y", "summary")],
            input_variables=["review"],
            output_variables=["summary"],
        )
    message = str(err.value)
    assert "'englsh'" in message
    assert "step 1 (LLMChain)" in message
    assert "available at that point: ['review', 'english']" in message


def test_output_variable_never_produced() -> None:
    with pytest.raises(
        WiringError, match=r"output variable 'summary' is never produced.*\['english'\]"
    ):
        SequentialChain(
            [step("T: {review}", "x", "english")],
            input_variables=["review"],
            output_variables=["summary"],
        )


def test_two_steps_producing_the_same_key() -> None:
    with pytest.raises(WiringError, match=r"step 1 \(LLMChain\) produces 'text'.*step 0"):
        SequentialChain(
            [step("A {x}", "1"), step("B {x}", "2")],
            input_variables=["x"],
            output_variables=["text"],
        )


def test_a_step_overwriting_an_input_variable() -> None:
    with pytest.raises(WiringError, match="already provided by the SequentialChain's input"):
        SequentialChain([step("A {x}", "1", "x")], input_variables=["x"], output_variables=["x"])


def test_steps_must_be_chains() -> None:
    with pytest.raises(WiringError, match="is not a Chain"):
        SequentialChain([Lambda(str.upper)], input_variables=["x"], output_variables=["x"])  # type: ignore[list-item]


def test_missing_input_at_run_time() -> None:
    with pytest.raises(UsageError, match=r"missing input key\(s\) \['review'\]"):
        review_chain().invoke({"text": "x"})


def test_async_matches_sync() -> None:
    sync = review_chain().invoke({"review": "bon"})
    assert asyncio.run(review_chain().ainvoke({"review": "bon"})) == sync
    both = asyncio.run(review_chain().abatch([{"review": "a"}, {"review": "b"}]))
    assert both == [sync, sync]


def test_tracing_nests_steps_under_the_sequential_chain() -> None:
    tracer = InMemoryTracer()
    review_chain().invoke({"review": "bon"}, RunConfig(tracers=(tracer,)))
    (root,) = tracer.roots()
    assert root.name == "SequentialChain"
    steps = tracer.children(root)
    assert [s.name for s in steps] == ["LLMChain"] * 4
    assert [s.kind for s in tracer.children(steps[0])] == ["prompt", "model", "parser"]


def test_graph_lists_every_step() -> None:
    names = review_chain().graph().names()
    assert names.count("PromptTemplate") == 4
    assert names.count("FakeListModel") == 4
