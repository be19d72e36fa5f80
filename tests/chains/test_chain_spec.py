"""Every chain saves to YAML and loads back; invalid spec values name their field path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import agentkit
from agentkit.chains import (
    EmbeddingRouterChain,
    GeneratedKnowledgeChain,
    LLMChain,
    LLMRouterChain,
    MultiPromptChain,
    RouterChain,
    SelfConsistencyChain,
    SequentialChain,
    SimpleSequentialChain,
)
from agentkit.core import SpecError, spec
from agentkit.llms import FakeListModel
from agentkit.parsers import RegexParser
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.embeddings import HashingEmbedder


def llm_chain(template: str, reply: str, key: str = "text") -> LLMChain:
    return LLMChain(PromptTemplate(template), FakeListModel([reply]), output_key=key)


def route(name: str) -> str:
    return json.dumps({"destination": name, "next_inputs": "q"})


BUILDERS: dict[str, tuple[Callable[[], Any], Any]] = {
    "llm_chain": (lambda: llm_chain("Say {x}", "hi"), "a"),
    "simple_sequential_chain": (
        lambda: SimpleSequentialChain([llm_chain("A {x}", "one"), llm_chain("B {y}", "two")]),
        "go",
    ),
    "sequential_chain": (
        lambda: SequentialChain(
            [llm_chain("A {x}", "one", "y"), llm_chain("B {y}", "two", "z")],
            ["x"],
            ["z"],
            return_all=True,
        ),
        {"x": "go"},
    ),
    "router_chain": (
        lambda: RouterChain(
            LLMRouterChain(FakeListModel([route("b")]), {"a": "first", "b": "second"}),
            {"a": llm_chain("A {input}", "from a"), "b": llm_chain("B {input}", "from b")},
            default_chain=llm_chain("{input}", "default"),
        ),
        "q",
    ),
    "llm_router_chain": (
        lambda: LLMRouterChain(FakeListModel([route("a")]), {"a": "first"}),
        "q",
    ),
    "multi_prompt_chain": (
        lambda: MultiPromptChain(
            FakeListModel([route("p"), "answer"]),
            [{"name": "p", "description": "d", "prompt_template": "P: {input}"}],
        ),
        "q",
    ),
    "embedding_router_chain": (
        lambda: EmbeddingRouterChain(
            HashingEmbedder(64),
            {"light": "light and energy", "war": "wars and kings"},
            {"light": llm_chain("L {input}", "photons"), "war": llm_chain("W {input}", "battles")},
            default_chain=llm_chain("{input}", "default"),
            threshold=0.1,
        ),
        "kings at wars",
    ),
    "self_consistency_chain": (
        lambda: SelfConsistencyChain(
            llm_chain("Q {q}", "The answer is 3."),
            n=3,
            parser=RegexParser(r"answer is (?P<answer>\d+)"),
            max_concurrency=2,
        ),
        "q",
    ),
    "generated_knowledge_chain": (
        lambda: GeneratedKnowledgeChain(
            FakeListModel(["fact", "Answer: yes\nConfidence: 0.7"]),
            k=1,
            select="confident",
        ),
        "q?",
    ),
}


@pytest.mark.parametrize("type_name", sorted(BUILDERS))
def test_round_trip_gives_the_same_output(type_name: str, tmp_path: Path) -> None:
    build, chain_input = BUILDERS[type_name]
    original = build()
    assert original.to_dict()["type"] == type_name
    path = agentkit.save(original, tmp_path / f"{type_name}.yaml")
    loaded = agentkit.load(path)
    assert type(loaded) is type(original)
    assert loaded.to_dict() == original.to_dict()
    assert loaded.invoke(chain_input) == build().invoke(chain_input)


def spec_of(type_name: str) -> dict[str, Any]:
    data: dict[str, Any] = BUILDERS[type_name][0]().to_dict()
    return data


def broken(type_name: str, **changes: Any) -> dict[str, Any]:
    return {**spec_of(type_name), **changes}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (
            broken("sequential_chain", input_variables=["x", 3]),
            r"\$\.input_variables\[1\]: expected a string",
        ),
        (broken("sequential_chain", return_all="yes"), r"\$\.return_all: expected bool"),
        (broken("self_consistency_chain", n=0), r"\$\.n: must be at least 1, got 0"),
        (
            broken("self_consistency_chain", max_concurrency=0),
            r"\$\.max_concurrency: must be at least 1",
        ),
        (
            broken("generated_knowledge_chain", select="best"),
            r"\$\.select: invalid value 'best'; allowed values: confident, vote",
        ),
        (broken("generated_knowledge_chain", k=-1), r"\$\.k: must be at least 1"),
        (
            broken("embedding_router_chain", threshold=2),
            r"\$\.threshold: must be between -1.0 and 1.0",
        ),
        (
            broken("embedding_router_chain", destinations={"light": 1, "war": "w"}),
            r"\$\.destinations\.light",
        ),
        (broken("multi_prompt_chain", prompt_infos=[{"name": "p"}]), r"\$\.prompt_infos\[0\]"),
        (broken("llm_chain", output_key=5), r"\$\.output_key: expected str"),
        (
            broken("llm_chain", promt={"type": "prompt", "template": "x"}),
            r"\$\.promt: unknown field",
        ),
        (
            broken("simple_sequential_chain", chains=[{"type": "nope"}]),
            r"\$\.chains\[0\]\.type: unknown type 'nope'",
        ),
        (
            broken("router_chain", destination_chains={"a": {"type": "llm_chain"}}),
            r"\$\.destination_chains\.a\.prompt: required field is missing",
        ),
    ],
)
def test_invalid_values_give_spec_errors_with_the_path(data: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        spec.load(data)


def test_a_miswired_sequential_spec_fails_when_loaded() -> None:
    data = spec_of("sequential_chain")
    data["output_variables"] = ["w"]
    with pytest.raises(
        SpecError, match=r"\$: SequentialChain output variable 'w' is never produced"
    ):
        spec.load(data)
