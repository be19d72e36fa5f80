"""A prompt composed of named sub-prompts (introduction, example, start) with a
PipelinePromptTemplate, answered by an LLMChain. Run: ``python examples/impersonation_prompt.py``.
"""

from __future__ import annotations

from typing import Any

from agentkit.chains import LLMChain
from agentkit.llms import FakeListModel
from agentkit.prompts import PipelinePromptTemplate, PromptTemplate

FULL = "{introduction}\n\n{example}\n\n{start}"
INTRODUCTION = "You are impersonating {person}."
EXAMPLE = "Here's an example of an interaction:\n\nQ: {example_q}\nA: {example_a}"
START = "Now, do this for real!\n\nQ: {input}\nA:"

INPUT = {
    "person": "Elon Musk",
    "example_q": "What's your favorite car?",
    "example_a": "Tesla",
    "input": "What's your favorite social media site?",
}
ANSWER = "X, formerly Twitter. I liked it so much I bought it."


def build_prompt() -> PipelinePromptTemplate:
    """The composed prompt: each part fills the variable of the same name in FULL."""
    return PipelinePromptTemplate(
        PromptTemplate(FULL),
        [
            ("introduction", PromptTemplate(INTRODUCTION)),
            ("example", PromptTemplate(EXAMPLE)),
            ("start", PromptTemplate(START)),
        ],
    )


def build(llm: Any = None) -> LLMChain:
    """An LLMChain on the composed prompt (inputs: person, example_q, example_a, input)."""
    return LLMChain(build_prompt(), llm if llm is not None else FakeListModel([ANSWER]))


def demo_runs(llm: Any = None) -> list[tuple[str, Any, Any]]:
    """(title, chain, input) for ``examples/demo.py``."""
    return [("Impersonation pipeline prompt", build(llm), INPUT)]


def main() -> None:
    print(build_prompt().format(**INPUT))
    for title, chain, chain_input in demo_runs():
        print(f"== {title}")
        print(chain.run(chain_input))


if __name__ == "__main__":
    main()
