"""PipelinePromptTemplate: the impersonation example and composition rules."""

from __future__ import annotations

import pytest

from agentkit.core.errors import PromptVariableError, UsageError
from agentkit.llms.messages import Message
from agentkit.prompts import (
    ChatPromptTemplate,
    MessagesPlaceholder,
    PipelinePromptTemplate,
    PromptTemplate,
)


def impersonation() -> PipelinePromptTemplate:
    full = PromptTemplate("{introduction}\n\n{example}\n\n{start}")
    introduction = PromptTemplate("You are impersonating {person}.")
    example = PromptTemplate(
        "Here's an example of an interaction:\n\nQ: {example_q}\nA: {example_a}"
    )
    start = PromptTemplate("Now, do this for real!\n\nQ: {input}\nA:")
    return PipelinePromptTemplate(
        full, [("introduction", introduction), ("example", example), ("start", start)]
    )


def test_impersonation_pipeline() -> None:
    prompt = impersonation()
    assert prompt.input_variables == ["person", "example_q", "example_a", "input"]
    text = prompt.invoke(
        {
            "person": "Elon Musk",
            "example_q": "What's your favorite car?",
            "example_a": "Tesla",
            "input": "What's your favorite social media site?",
        }
    )
    assert text == (
        "You are impersonating Elon Musk.\n\n"
        "Here's an example of an interaction:\n\n"
        "Q: What's your favorite car?\nA: Tesla\n\n"
        "Now, do this for real!\n\n"
        "Q: What's your favorite social media site?\nA:"
    )


def test_missing_variable_of_a_part() -> None:
    with pytest.raises(PromptVariableError, match=r"\['example_a'\]"):
        impersonation().invoke({"person": "x", "example_q": "q", "input": "i"})


def test_later_parts_can_use_earlier_parts_and_partials() -> None:
    name = PromptTemplate("{first} {last}")
    greeting = PromptTemplate("Dear {name},")
    final = PromptTemplate("{greeting}\n{body}")
    prompt = PipelinePromptTemplate(final, [("name", name), ("greeting", greeting)])
    assert prompt.input_variables == ["first", "last", "body"]
    fixed = prompt.partial(last="Lovelace")
    assert fixed.format(first="Ada", body="Hi.") == "Dear Ada Lovelace,\nHi."


def test_chat_final_prompt() -> None:
    final = ChatPromptTemplate.from_messages(
        [("system", "{rules}"), MessagesPlaceholder("history", optional=True), ("user", "{q}")]
    )
    prompt = PipelinePromptTemplate(final, [("rules", PromptTemplate("Speak like {style}."))])
    assert prompt.input_variables == ["style", "q"]
    out = prompt.invoke({"style": "a poet", "q": "hi"})
    assert out == [Message("system", "Speak like a poet."), Message("user", "hi")]


def test_bad_pipelines_are_rejected() -> None:
    final = PromptTemplate("{a}")
    with pytest.raises(UsageError, match=r"\['b'\] are not used"):
        PipelinePromptTemplate(final, [("a", PromptTemplate("x")), ("b", PromptTemplate("y"))])
    with pytest.raises(UsageError, match="unique"):
        PipelinePromptTemplate(final, [("a", PromptTemplate("x")), ("a", PromptTemplate("y"))])
    with pytest.raises(UsageError, match="must be prompt templates"):
        PipelinePromptTemplate(final, [("a", "x")])  # type: ignore[list-item]
