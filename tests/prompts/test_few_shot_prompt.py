"""FewShotPromptTemplate and example selectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from agentkit.core.errors import PromptVariableError, UsageError
from agentkit.prompts import (
    ExampleSelector,
    FewShotPromptTemplate,
    LengthBasedExampleSelector,
    PromptTemplate,
)

EXAMPLE = PromptTemplate("Input: {input}\nOutput: {output}")
EXAMPLES = [
    {"input": "happy", "output": "sad"},
    {"input": "tall", "output": "short"},
    {"input": "energetic", "output": "lethargic"},
]


def test_fixed_examples_between_prefix_and_suffix() -> None:
    prompt = FewShotPromptTemplate(
        examples=EXAMPLES[:2],
        example_prompt=EXAMPLE,
        prefix="Give the antonym of every {kind}.",
        suffix="Input: {adjective}\nOutput:",
    )
    assert prompt.input_variables == ["kind", "adjective"]
    assert prompt.invoke({"kind": "word", "adjective": "big"}) == (
        "Give the antonym of every word.\n\n"
        "Input: happy\nOutput: sad\n\n"
        "Input: tall\nOutput: short\n\n"
        "Input: big\nOutput:"
    )


def test_no_prefix_and_custom_separator() -> None:
    prompt = FewShotPromptTemplate(
        examples=EXAMPLES[:2],
        example_prompt=PromptTemplate("{input}->{output}"),
        suffix="{adjective}->",
        example_separator="\n",
    )
    assert prompt.invoke("big") == "happy->sad\ntall->short\nbig->"


def test_missing_variable_in_suffix() -> None:
    prompt = FewShotPromptTemplate(examples=[], example_prompt=EXAMPLE, suffix="Q: {question}")
    with pytest.raises(PromptVariableError, match="question"):
        prompt.invoke({})


def test_needs_exactly_one_example_source() -> None:
    with pytest.raises(UsageError, match="exactly one of examples"):
        FewShotPromptTemplate(example_prompt=EXAMPLE, suffix="x")
    selector = LengthBasedExampleSelector(EXAMPLES, EXAMPLE)
    with pytest.raises(UsageError, match="exactly one of examples"):
        FewShotPromptTemplate(
            examples=EXAMPLES, example_selector=selector, example_prompt=EXAMPLE, suffix="x"
        )


def test_example_lacking_a_variable_is_rejected() -> None:
    with pytest.raises(UsageError, match=r"example 1 lacks \['output'\]"):
        FewShotPromptTemplate(
            examples=[EXAMPLES[0], {"input": "x"}], example_prompt=EXAMPLE, suffix="{q}"
        )


def test_length_based_selector_fits_examples_to_the_budget() -> None:
    # each formatted example is 4 words ("Input: happy Output: sad")
    selector = LengthBasedExampleSelector(EXAMPLES, EXAMPLE, max_length=10)
    assert selector.select_examples({"adjective": "big"}) == EXAMPLES[:2]  # 1 + 4 + 4 <= 10
    long_input = {"adjective": " ".join(["word"] * 6)}
    assert selector.select_examples(long_input) == EXAMPLES[:1]
    assert selector.select_examples({"adjective": " ".join(["w"] * 20)}) == []


def test_length_based_selector_add_example_and_custom_length() -> None:
    selector = LengthBasedExampleSelector([], EXAMPLE, max_length=30, get_text_length=len)
    selector.add_example(EXAMPLES[0])
    assert selector.select_examples({"a": "x"}) == [EXAMPLES[0]]  # 1 + 24 chars <= 30
    selector.add_example(EXAMPLES[1])
    assert selector.select_examples({"a": "x"}) == [EXAMPLES[0]]
    with pytest.raises(PromptVariableError, match="output"):
        selector.add_example({"input": "no output"})
    with pytest.raises(UsageError, match="max_length must be at least 1"):
        LengthBasedExampleSelector([], EXAMPLE, max_length=0)


def test_few_shot_with_selector_depends_on_input_length() -> None:
    selector = LengthBasedExampleSelector(EXAMPLES, EXAMPLE, max_length=12)
    prompt = FewShotPromptTemplate(
        example_selector=selector, example_prompt=EXAMPLE, suffix="Input: {adjective}"
    )
    assert prompt.invoke("big").count("Input:") == 3  # two examples and the suffix
    assert prompt.invoke("a very very very long input").count("Input:") == 2


class KeywordSelector:
    """A custom selector: examples whose input shares a letter with the query."""

    def __init__(self) -> None:
        self.examples: list[dict[str, Any]] = []

    def add_example(self, example: Mapping[str, Any]) -> None:
        self.examples.append(dict(example))

    def select_examples(self, input_variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        query = str(input_variables["adjective"])
        return [e for e in self.examples if e["input"][0] == query[0]]


def test_custom_selector_follows_the_protocol() -> None:
    selector = KeywordSelector()
    for example in EXAMPLES:
        selector.add_example(example)
    assert isinstance(selector, ExampleSelector)
    prompt = FewShotPromptTemplate(
        example_selector=selector,
        example_prompt=EXAMPLE,
        suffix="Input: {adjective}",
        partial_variables={},
    )
    assert prompt.invoke("tiny") == "Input: tall\nOutput: short\n\nInput: tiny"
    with pytest.raises(UsageError, match="select_examples"):
        FewShotPromptTemplate(
            example_selector=object(),  # type: ignore[arg-type]
            example_prompt=EXAMPLE,
            suffix="x",
        )


def test_few_shot_partials_and_jinja2() -> None:
    prompt = FewShotPromptTemplate(
        examples=EXAMPLES[:1],
        example_prompt=EXAMPLE,
        prefix="{{ task }}",
        suffix="{{ q }}",
        template_format="jinja2",
    ).partial(task="Antonyms.")
    assert prompt.input_variables == ["q"]
    assert prompt.invoke("big") == "Antonyms.\n\nInput: happy\nOutput: sad\n\nbig"
