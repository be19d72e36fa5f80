"""ChatPromptTemplate: roles, literal messages, history placeholders, partials."""

from __future__ import annotations

import pytest

from agentkit.core.errors import PromptVariableError, UsageError
from agentkit.llms.messages import Message
from agentkit.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate


def _pairs(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in messages]


def test_from_messages_formats_roles_and_aliases() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a {persona}."),
            ("human", "Hi, I am {name}."),
            ("ai", "Hello {name}!"),
            ("user", "{question}"),
        ]
    )
    assert prompt.input_variables == ["persona", "name", "question"]
    out = prompt.invoke({"persona": "pirate", "name": "Ada", "question": "Why?", "extra": 1})
    assert all(isinstance(m, Message) for m in out)
    assert _pairs(out) == [
        ("system", "You are a pirate."),
        ("user", "Hi, I am Ada."),
        ("assistant", "Hello Ada!"),
        ("user", "Why?"),
    ]


def test_literal_messages_are_not_formatted_and_are_copies() -> None:
    literal = Message("system", 'Reply in JSON like {"a": 1}.')
    prompt = ChatPromptTemplate.from_messages([literal, ("user", "{q}")])
    assert prompt.input_variables == ["q"]
    out = prompt.invoke("hi")
    assert _pairs(out) == [("system", 'Reply in JSON like {"a": 1}.'), ("user", "hi")]
    out[0].content = "changed"
    assert literal.content == 'Reply in JSON like {"a": 1}.'


def test_history_placeholder_accepts_messages_tuples_and_dicts() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("user", "{question}")]
    )
    assert prompt.input_variables == ["history", "question"]
    history = [
        Message("user", "one"),
        ("ai", "two"),
        {"role": "user", "content": "three"},
    ]
    out = prompt.invoke({"history": history, "question": "four"})
    assert _pairs(out) == [
        ("system", "Be brief."),
        ("user", "one"),
        ("assistant", "two"),
        ("user", "three"),
        ("user", "four"),
    ]


def test_required_placeholder_missing_raises_prompt_variable_error() -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("user", "{q}")])
    with pytest.raises(PromptVariableError, match=r"\['history'\]") as info:
        prompt.invoke({"q": "x"})
    assert "[history]" in str(info.value)  # the template description names the placeholder


def test_optional_placeholder_may_be_missing() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history", optional=True), ("user", "{q}")]
    )
    assert prompt.input_variables == ["q"]
    assert prompt.optional_variables == ["history"]
    assert _pairs(prompt.invoke("x")) == [("user", "x")]
    assert _pairs(prompt.invoke({"q": "x", "history": [("user", "before")]})) == [
        ("user", "before"),
        ("user", "x"),
    ]


def test_placeholder_with_bad_value_is_a_usage_error() -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history")])
    with pytest.raises(UsageError, match="'history' needs a list of messages"):
        prompt.invoke({"history": "just text"})
    with pytest.raises(UsageError, match="placeholder 'history'"):
        prompt.invoke({"history": [42]})


def test_missing_template_variable_names_it() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "{rules}"), ("user", "{q}")])
    with pytest.raises(PromptVariableError, match=r"\['rules'\]"):
        prompt.invoke({"q": "x"})


def test_partial_on_chat_prompt() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "Today is {day}."), ("user", "{q}")])
    fixed = prompt.partial(day="Monday")
    assert fixed.input_variables == ["q"]
    assert _pairs(fixed.format_messages(q="hi")) == [
        ("system", "Today is Monday."),
        ("user", "hi"),
    ]


def test_jinja2_messages_and_prompt_template_parts() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "{{ a }}"), ("user", PromptTemplate("{b}"))], template_format="jinja2"
    )
    assert _pairs(prompt.invoke({"a": "A", "b": "B"})) == [("system", "A"), ("user", "B")]


def test_bad_parts_are_rejected() -> None:
    with pytest.raises(UsageError, match="role 'robot'"):
        ChatPromptTemplate.from_messages([("robot", "hi")])
    with pytest.raises(UsageError, match="message 0 is a int"):
        ChatPromptTemplate.from_messages([42])
    with pytest.raises(UsageError, match="needs a template string or a PromptTemplate"):
        ChatPromptTemplate.from_messages([("user", 3)])


def test_from_template_and_add() -> None:
    base = ChatPromptTemplate.from_messages([("system", "S {x}")])
    joined = base + ChatPromptTemplate.from_template("U {y}") + ("ai", "A")
    assert joined.input_variables == ["x", "y"]
    assert _pairs(joined.invoke({"x": 1, "y": 2})) == [
        ("system", "S 1"),
        ("user", "U 2"),
        ("assistant", "A"),
    ]
