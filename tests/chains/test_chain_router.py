"""RouterChain, LLMRouterChain / MultiPromptChain and EmbeddingRouterChain."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from agentkit.chains import (
    EmbeddingRouter,
    EmbeddingRouterChain,
    LLMChain,
    LLMRouterChain,
    MultiPromptChain,
    RouterChain,
)
from agentkit.core import InMemoryTracer, Lambda, ModelOutputError, RunConfig, UsageError
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.embeddings import HashingEmbedder


def answer(reply: str, template: str = "Q: {input}") -> LLMChain:
    return LLMChain(PromptTemplate(template), FakeListModel([reply]))


def fixed_router(destination: str | None, **next_inputs: Any) -> Lambda:
    return Lambda(lambda _: {"destination": destination, "next_inputs": next_inputs})


def router_chain(destination: str | None, default: bool = True, **next_inputs: Any) -> RouterChain:
    return RouterChain(
        fixed_router(destination, **next_inputs),
        {"math": answer("4"), "art": answer("Monet")},
        default_chain=answer("default answer") if default else None,
    )


def test_routes_to_the_named_destination_with_next_inputs() -> None:
    chain = router_chain("math", input="what is 2 + 2?")
    result = chain.invoke("2+2?")
    assert result["text"] == "4"
    assert result["destination"] == {"name": "math", "score": None}
    math_model = chain.destination_chains["math"].llm  # type: ignore[attr-defined]
    assert math_model.calls[0][0].content == "Q: what is 2 + 2?"


def test_none_destination_runs_the_default_chain() -> None:
    result = router_chain(None).invoke("hello")
    assert result["text"] == "default answer"
    assert result["destination"]["name"] is None


def test_unknown_destination_falls_back_to_default_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="agentkit.chains.router"):
        result = router_chain("chemistry").invoke("hello")
    assert result["text"] == "default answer"
    assert "unknown destination 'chemistry'" in caplog.text


def test_unknown_destination_without_default_raises_model_output_error() -> None:
    with pytest.raises(
        ModelOutputError, match=r"unknown destination 'chemistry'.*\['art', 'math'\]"
    ):
        router_chain("chemistry", default=False).invoke("hello")
    with pytest.raises(ModelOutputError, match="no default_chain"):
        router_chain(None, default=False).invoke("hello")


def test_router_must_return_a_route_dict() -> None:
    chain = RouterChain(Lambda(lambda _: "math"), {"math": answer("4")})
    with pytest.raises(ModelOutputError, match="must return a dict"):
        chain.invoke("x")


def test_plain_runnable_destination_output_goes_under_output_key() -> None:
    chain = RouterChain(
        fixed_router("shout"), {"shout": Lambda(lambda d: d["input"].upper())}, output_key="out"
    )
    assert chain.invoke("hey") == {
        "input": "hey",
        "out": "HEY",
        "destination": {"name": "shout", "score": None},
    }
    assert chain.output_keys == ["out", "destination"]


def route_json(destination: str, text: str) -> str:
    return "```json\n" + json.dumps({"destination": destination, "next_inputs": text}) + "\n```"


INFOS = [
    {"name": "physics", "description": "Good for physics", "prompt_template": "Physicist: {input}"},
    {"name": "math", "description": "Good for math", "prompt_template": "Mathematician: {input}"},
]


def test_multi_prompt_chain_routes_with_the_classic_router_prompt() -> None:
    model = FakeListModel([route_json("physics", "What is light, exactly?"), "Waves."])
    chain = MultiPromptChain.from_prompts(model, INFOS)
    result = chain.invoke("what's light")
    assert result["text"] == "Waves."
    assert result["destination"]["name"] == "physics"
    router_prompt = model.calls[0][0].content
    assert (
        "<< CANDIDATE PROMPTS >>\nphysics: Good for physics\nmath: Good for math" in router_prompt
    )
    assert "<< INPUT >>\nwhat's light" in router_prompt
    assert '"destination": string' in router_prompt  # literal braces survived
    assert model.calls[1][0].content == "Physicist: What is light, exactly?"


def test_multi_prompt_default_destination_uses_the_plain_input_chain() -> None:
    model = FakeListModel([route_json("DEFAULT", "Why is DNA in cells?"), "Because."])
    result = MultiPromptChain(model, INFOS).invoke("dna?")
    assert result["text"] == "Because."
    assert result["destination"]["name"] is None
    assert model.calls[1][0].content == "Why is DNA in cells?"


def test_multi_prompt_custom_default_chain() -> None:
    model = FakeListModel([route_json("DEFAULT", "x")])
    chain = MultiPromptChain(model, INFOS, default_chain=answer("custom"))
    assert chain.run("x") == "custom"


def test_multi_prompt_validates_prompt_infos() -> None:
    model = FakeListModel(["x"])
    with pytest.raises(UsageError, match=r"prompt_infos\[0\].*\['description'\]"):
        MultiPromptChain(model, [{"name": "a", "prompt_template": "{input}"}])
    with pytest.raises(UsageError, match="uses \\['topic'\\]"):
        MultiPromptChain(
            model, [{"name": "a", "description": "d", "prompt_template": "{topic} {input}"}]
        )
    with pytest.raises(UsageError, match="two prompt infos are named 'a'"):
        MultiPromptChain(model, [INFOS[0] | {"name": "a"}, INFOS[1] | {"name": "a"}])


def test_llm_router_prompt_needs_input() -> None:
    with pytest.raises(UsageError, match="must use the variable"):
        LLMRouterChain(FakeListModel(["x"]), {"a": "b"}, prompt=PromptTemplate("{question}"))


def test_llm_router_custom_prompt_gets_destinations() -> None:
    model = FakeListModel([route_json("a", "hi")])
    router = LLMRouterChain.from_llm(
        model, {"a": "first", "b": "second"}, PromptTemplate("Pick from:\n{destinations}\n{input}")
    )
    result = router.invoke("hi")
    assert result["destination"] == "a"
    assert result["next_inputs"] == {"input": "hi"}
    assert model.calls[0][0].content == "Pick from:\na: first\nb: second\nhi"


def test_multi_prompt_tracing_and_async() -> None:
    def build() -> MultiPromptChain:
        return MultiPromptChain(FakeListModel([route_json("math", "1+1"), "2"]), INFOS)

    tracer = InMemoryTracer()
    sync = build().invoke("1+1", RunConfig(tracers=(tracer,)))
    (root,) = tracer.roots()
    assert [s.name for s in tracer.children(root)] == ["LLMRouterChain", "LLMChain"]
    assert asyncio.run(build().ainvoke("1+1")) == sync


DESCRIPTIONS = {
    "physics": "Physics: black body radiation, light, energy and quantum mechanics.",
    "history": "History: wars, empires, kings and revolutions.",
}


class CountingEmbedder:
    """A HashingEmbedder that counts the texts it embeds."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.texts: list[str] = []
        self.model_id, self.dimension = self.inner.model_id, self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.embed_batch(texts)


def embedding_chain(embedder: Any = None, threshold: float = 0.0) -> EmbeddingRouterChain:
    return EmbeddingRouterChain(
        embedder or HashingEmbedder(),
        DESCRIPTIONS,
        {"physics": answer("phys"), "history": answer("hist")},
        default_chain=answer("general"),
        threshold=threshold,
    )


def test_embedding_router_picks_the_most_similar_description() -> None:
    chain = embedding_chain()
    physics = chain.invoke("What is black body radiation?")
    assert physics["text"] == "phys"
    assert physics["destination"]["name"] == "physics"
    assert physics["destination"]["score"] > 0.2
    assert chain.invoke("Which kings fought these wars?")["text"] == "hist"


def test_embedding_router_below_threshold_uses_default() -> None:
    result = embedding_chain(threshold=0.5).invoke("What is black body radiation?")
    assert result["text"] == "general"
    assert result["destination"]["name"] is None
    assert 0 < result["destination"]["score"] < 0.5


def test_embedding_router_embeds_descriptions_once_and_lazily() -> None:
    embedder = CountingEmbedder()
    chain = embedding_chain(embedder)
    assert embedder.texts == []
    chain.invoke("light energy")
    chain.invoke("kings")
    assert sorted(embedder.texts) == sorted([*DESCRIPTIONS.values(), "light energy", "kings"])


def test_embedding_router_scores_are_cosine_similarities() -> None:
    router = EmbeddingRouter(HashingEmbedder(), DESCRIPTIONS)
    scores = router.scores(DESCRIPTIONS["history"])
    assert scores["history"] == pytest.approx(1.0, abs=1e-5)
    assert scores["physics"] < 0.5


def test_embedding_router_checks_its_arguments() -> None:
    with pytest.raises(UsageError, match="one description per destination"):
        EmbeddingRouterChain(HashingEmbedder(), {"a": "x"}, {"b": answer("y")})
    with pytest.raises(UsageError, match="threshold"):
        EmbeddingRouter(HashingEmbedder(), {"a": "x"}, threshold=1.5)
    with pytest.raises(UsageError, match="input key 'input'"):
        EmbeddingRouter(HashingEmbedder(), {"a": "x"}).invoke({"q": "x"})


def test_embedding_router_async_matches_sync() -> None:
    question = "What is black body radiation?"
    assert asyncio.run(embedding_chain().ainvoke(question)) == embedding_chain().invoke(question)
