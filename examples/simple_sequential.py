"""Product -> company name -> 20-word description, with a SimpleSequentialChain.

Each step is an LLMChain with one input and one output; the company name the first step
invents is the input of the second. Run: ``python examples/simple_sequential.py``.
"""

from __future__ import annotations

from typing import Any

from agentkit.chains import LLMChain, SimpleSequentialChain
from agentkit.llms import FakeListModel
from agentkit.prompts import PromptTemplate

PRODUCT = "Queen Size Sheet Set"
NAME_PROMPT = "What is the best name to describe a company that makes {product}?"
DESCRIPTION_PROMPT = "Write a 20 words description for the following company: {company_name}"

# What the fake model answers (a real model would write its own).
COMPANY_NAME = "Royal Rest Linens"
DESCRIPTION = (
    "Royal Rest Linens crafts luxurious queen size sheet sets from breathable cotton, "
    "bringing hotel quality comfort and elegance to bedrooms."
)


def build(llm: Any = None) -> SimpleSequentialChain:
    """The two-step chain; by default each step has a fake model with a canned reply."""
    name_chain = LLMChain(
        PromptTemplate(NAME_PROMPT),
        llm if llm is not None else FakeListModel([COMPANY_NAME]),
        output_key="company_name",
    )
    description_chain = LLMChain(
        PromptTemplate(DESCRIPTION_PROMPT),
        llm if llm is not None else FakeListModel([DESCRIPTION]),
        output_key="description",
    )
    return SimpleSequentialChain([name_chain, description_chain])


def demo_runs(llm: Any = None) -> list[tuple[str, Any, Any]]:
    """(title, chain, input) for ``examples/demo.py``."""
    return [("Simple sequential: product -> name -> description", build(llm), PRODUCT)]


def main() -> None:
    for title, chain, chain_input in demo_runs():
        print(f"== {title}")
        print(chain.invoke(chain_input))


if __name__ == "__main__":
    main()
