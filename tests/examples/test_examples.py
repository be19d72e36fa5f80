"""Each example of ``examples/`` runs against the fake model, sends the expected prompts,
and round-trips through YAML with the same output; the demo runs them all."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import agentkit
from agentkit.chains import (
    EmbeddingRouterChain,
    LLMChain,
    MultiPromptChain,
    SelfConsistencyChain,
    SequentialChain,
    SimpleSequentialChain,
)
from agentkit.core import InMemoryTracer, RunConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(name: str) -> ModuleType:
    module_name = f"agentkit_example_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def prompts(model: Any) -> list[str]:
    """The text of every message list a fake model received, one string per call."""
    return ["\n".join(m.content for m in call) for call in model.calls]


def test_simple_sequential() -> None:
    ex = load_example("simple_sequential")
    chain = ex.build()
    assert isinstance(chain, SimpleSequentialChain)
    result = chain.invoke(ex.PRODUCT)
    assert result["output"] == ex.DESCRIPTION
    assert len(result["output"].split()) == 20
    steps: list[Any] = chain.chains
    name_model, description_model = (c.llm for c in steps)
    assert prompts(name_model) == [
        "What is the best name to describe a company that makes Queen Size Sheet Set?"
    ]
    assert prompts(description_model) == [
        "Write a 20 words description for the following company: Royal Rest Linens"
    ]


def test_sequential_review() -> None:
    ex = load_example("sequential_review")
    chain = ex.build()
    assert isinstance(chain, SequentialChain)
    result = chain.invoke({"review": ex.REVIEW})
    assert list(result) == ["english_review", "summary", "followup_message"]
    assert result["summary"].startswith("The reviewer finds the taste mediocre")
    assert result["followup_message"].startswith("Merci")
    steps: list[Any] = chain.chains
    translate, summarise, language, follow_up = (prompts(c.llm) for c in steps)
    assert translate == [f"Translate the following review to English:\n\n{ex.REVIEW}"]
    assert summarise[0].endswith(ex.STEPS[0][2])
    assert language == [f"What language is the following review:\n\n{ex.REVIEW}"]
    assert follow_up[0].endswith(f"Summary: {ex.STEPS[1][2]}\n\nLanguage: French")


def test_router_by_model() -> None:
    ex = load_example("router")
    chain = ex.build()
    assert isinstance(chain, MultiPromptChain)
    physics = chain.invoke(ex.QUESTIONS[0])
    assert physics["destination"]["name"] == "physics"
    assert physics["text"] == ex.PHYSICS_ANSWER
    default = chain.invoke(ex.QUESTIONS[1])
    assert default["destination"]["name"] is None
    assert default["text"] == ex.DEFAULT_ANSWER
    sent = prompts(chain.llm)
    for name in ("physics", "math", "history", "computer science"):
        assert f"\n{name}: Good for answering" in sent[0]
    assert sent[1].startswith("You are a very smart physics professor.")
    assert sent[1].endswith("Here is a question:\nWhat is black body radiation?")
    assert sent[3] == ex.QUESTIONS[1]  # the default chain sends the question as is


def test_router_by_embedding() -> None:
    ex = load_example("router")
    chain = ex.build_embedding()
    assert isinstance(chain, EmbeddingRouterChain)
    physics = chain.invoke(ex.QUESTIONS[0])
    assert physics["destination"]["name"] == "physics"
    assert physics["destination"]["score"] >= 0.2
    assert physics["text"] == ex.PHYSICS_ANSWER
    default = chain.invoke(ex.QUESTIONS[1])
    assert default["destination"]["name"] is None
    assert default["text"] == ex.DEFAULT_ANSWER
    physics_model = chain.destination_chains["physics"].llm  # type: ignore[attr-defined]
    assert prompts(physics_model)[0].startswith("You are a very smart physics professor.")
    assert all(not c.llm.calls for n, c in chain.destination_chains.items() if n != "physics")  # type: ignore[attr-defined]


def test_impersonation_prompt() -> None:
    ex = load_example("impersonation_prompt")
    chain = ex.build()
    assert isinstance(chain, LLMChain)
    assert sorted(chain.input_keys) == ["example_a", "example_q", "input", "person"]
    assert chain.run(ex.INPUT) == ex.ANSWER
    assert prompts(chain.llm) == [
        "You are impersonating Elon Musk.\n\n"
        "Here's an example of an interaction:\n\nQ: What's your favorite car?\nA: Tesla\n\n"
        "Now, do this for real!\n\nQ: What's your favorite social media site?\nA:"
    ]


def test_self_consistency_votes_67() -> None:
    ex = load_example("self_consistency")
    chain = ex.build()
    assert isinstance(chain, SelfConsistencyChain)
    result = chain.invoke(ex.QUESTION)
    assert result["answer"] == "67"
    assert result["votes"] == {"67": 3, "35": 1}
    assert result["invalid"] == 1
    assert sorted(result["samples"]) == sorted(ex.SAMPLES)
    sent = prompts(chain.chain.llm)  # type: ignore[attr-defined]
    assert len(sent) == 5 and len(set(sent)) == 1
    assert sent[0].startswith("Q: There are 15 trees in the grove.")
    assert "The answer is 39.\n\nQ: Olivia has $23." in sent[0]
    assert sent[0].endswith(f"Q: {ex.QUESTION}\nA:")


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """Self-consistency samples arrive in completion order; compare them as a multiset."""
    if "samples" in result:
        return {**result, "samples": sorted(result["samples"])}
    return result


RUNS = [
    ("simple_sequential", "build", "PRODUCT"),
    ("sequential_review", "build", "REVIEW"),
    ("router", "build", "QUESTIONS"),
    ("router", "build_embedding", "QUESTIONS"),
    ("impersonation_prompt", "build", "INPUT"),
    ("self_consistency", "build", "QUESTION"),
]


@pytest.mark.parametrize(("name", "factory", "inputs"), RUNS)
def test_round_trip_through_yaml(name: str, factory: str, inputs: str, tmp_path: Path) -> None:
    ex = load_example(name)
    build = getattr(ex, factory)
    path = agentkit.save(build(), tmp_path / f"{name}.yaml")
    loaded = agentkit.load(path)
    fresh = build()
    value = getattr(ex, inputs)
    for chain_input in value if inputs == "QUESTIONS" else [value]:
        assert comparable(loaded.invoke(chain_input)) == comparable(fresh.invoke(chain_input))


def test_examples_trace_nested_spans() -> None:
    ex = load_example("sequential_review")
    tracer = InMemoryTracer()
    ex.build().invoke({"review": ex.REVIEW}, RunConfig(tracers=(tracer,)))
    tree = tracer.tree().splitlines()
    assert tree[0].startswith("SequentialChain [chain]")
    assert tree[1].startswith("  LLMChain [chain]")
    assert tree[2].startswith("    PromptTemplate [prompt]")


def test_each_example_main_prints(capsys: pytest.CaptureFixture[str]) -> None:
    for name in (
        "simple_sequential",
        "sequential_review",
        "router",
        "impersonation_prompt",
        "self_consistency",
    ):
        load_example(name).main()
    out = capsys.readouterr().out
    assert "Royal Rest Linens" in out
    assert "followup_message: Merci" in out
    assert "destination: {'name': 'physics', 'score': None}" in out
    assert "You are impersonating Elon Musk." in out
    assert "answer: 67  votes: {" in out


def test_demo_runs_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    demo = load_example("demo")
    assert demo.main(["--fake"]) == 0
    out = capsys.readouterr().out
    for title in (
        "Simple sequential",
        "Sequential: review",
        "Router (model decides)",
        "Router (embedding similarity)",
        "Impersonation pipeline prompt",
        "Self-consistency",
    ):
        assert title in out
    assert "physics (similarity" in out
    assert "the default chain" in out
    assert "67: 3, 35: 1" in out
