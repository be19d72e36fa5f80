"""Chain base behaviour and LLMChain: inputs, outputs, run, streaming, async, tracing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentkit.chains import Chain, LLMChain
from agentkit.core import InMemoryTracer, RunConfig, UsageError
from agentkit.llms import FakeListModel
from agentkit.parsers import CommaSeparatedListOutputParser
from agentkit.prompts import ChatPromptTemplate, PromptTemplate


def make(reply: str = "Sockington", key: str = "company") -> tuple[LLMChain, FakeListModel]:
    model = FakeListModel([reply])
    prompt = PromptTemplate("Name a company that makes {product} in {city}.")
    return LLMChain(prompt, model, output_key=key), model


def test_invoke_returns_inputs_and_output_and_sends_the_formatted_prompt() -> None:
    chain, model = make()
    result = chain.invoke({"product": "socks", "city": "Oslo", "extra": 1})
    assert result == {"product": "socks", "city": "Oslo", "extra": 1, "company": "Sockington"}
    assert model.calls[0][0].content == "Name a company that makes socks in Oslo."
    assert chain.input_keys == ["product", "city"]
    assert chain.output_keys == ["company"]


def test_missing_input_key_names_the_keys_and_the_chain() -> None:
    chain, _ = make()
    with pytest.raises(UsageError, match=r"LLMChain is missing input key\(s\) \['city'\]"):
        chain.invoke({"product": "socks"})


def test_single_value_input_needs_exactly_one_input_key() -> None:
    chain, _ = make()
    with pytest.raises(UsageError, match="takes a dict with the keys"):
        chain.invoke("socks")
    single = LLMChain(PromptTemplate("Say {word}"), FakeListModel(["ok"]))
    assert single.invoke("hi") == {"word": "hi", "text": "ok"}


def test_run_returns_the_main_output() -> None:
    chain, _ = make()
    assert chain.run(product="socks", city="Oslo") == "Sockington"
    single = LLMChain(PromptTemplate("Say {word}"), FakeListModel(["ok"]))
    assert single.run("hi") == "ok"
    with pytest.raises(UsageError, match="not both"):
        single.run("hi", word="x")
    with pytest.raises(UsageError, match="at most one positional"):
        single.run("a", "b")


def test_custom_output_parser() -> None:
    chain = LLMChain(
        PromptTemplate("List {n} colours"),
        FakeListModel(["red, green , blue"]),
        CommaSeparatedListOutputParser(),
        output_key="colours",
    )
    assert chain.run("3") == ["red", "green", "blue"]


def test_chat_prompt_sends_messages() -> None:
    model = FakeListModel(["Bonjour"])
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Translate to {lang}."), ("user", "{text}")]
    )
    chain = LLMChain(prompt, model)
    assert chain.run(lang="French", text="Hello") == "Bonjour"
    assert [m.role for m in model.calls[0]] == ["system", "user"]


def test_prompt_must_have_input_variables() -> None:
    with pytest.raises(UsageError, match="needs a prompt template"):
        LLMChain(FakeListModel(["x"]), FakeListModel(["y"]))


def test_stream_yields_tokens_that_join_to_the_invoke_output() -> None:
    reply = "Royal Rest Linens makes sheets"
    chain, _ = make(reply)
    tokens = list(chain.stream({"product": "sheets", "city": "Oslo"}))
    assert len(tokens) > 1
    assert all(isinstance(t, str) for t in tokens)
    assert "".join(tokens) == chain.invoke({"product": "sheets", "city": "Oslo"})["company"]


def test_astream_yields_the_same_tokens() -> None:
    chain, _ = make("a b c")

    async def collect() -> list[Any]:
        return [t async for t in chain.astream({"product": "x", "city": "y"})]

    assert "".join(asyncio.run(collect())) == "a b c"


def test_ainvoke_and_abatch_match_invoke() -> None:
    chain, _ = make("Acme")
    inputs = [{"product": p, "city": "Rome"} for p in ("a", "b", "c")]
    sync = chain.batch(inputs)
    assert asyncio.run(chain.ainvoke(inputs[0])) == chain.invoke(inputs[0])
    assert asyncio.run(chain.abatch(inputs, max_concurrency=2)) == sync


def test_tracing_nests_prompt_model_parser_under_the_chain() -> None:
    chain, _ = make()
    tracer = InMemoryTracer()
    chain.invoke({"product": "x", "city": "y"}, RunConfig(tracers=(tracer,)))
    (root,) = tracer.roots()
    assert (root.name, root.kind) == ("LLMChain", "chain")
    kinds = [s.kind for s in tracer.children(root)]
    assert kinds == ["prompt", "model", "parser"]


def test_async_tracing_nests_too() -> None:
    chain, _ = make()
    tracer = InMemoryTracer()
    asyncio.run(chain.ainvoke({"product": "x", "city": "y"}, RunConfig(tracers=(tracer,))))
    (root,) = tracer.roots()
    assert [s.kind for s in tracer.children(root)] == ["prompt", "model", "parser"]


def test_stream_is_traced_as_the_chain() -> None:
    chain, _ = make("one two")
    tracer = InMemoryTracer()
    list(chain.stream({"product": "x", "city": "y"}, RunConfig(tracers=(tracer,))))
    (root,) = tracer.roots()
    assert root.name == "LLMChain"
    assert root.output == "one two"
    assert {s.kind for s in tracer.children(root)} == {"prompt", "model", "parser"}


def test_graph_shows_prompt_model_parser() -> None:
    chain, _ = make()
    assert chain.graph().names() == ["PromptTemplate", "FakeListModel", "StrOutputParser"]


def test_bind_sets_params_on_the_model() -> None:
    chain, _ = make()
    bound = chain.bind(temperature=0.7)
    assert isinstance(bound, LLMChain)
    assert bound.llm.params.temperature == 0.7  # type: ignore[attr-defined]
    assert bound.output_key == "company"


def test_chain_subclass_needs_keys_and_call() -> None:
    with pytest.raises(TypeError):
        Chain()  # type: ignore[abstract]
