"""Composition keeps a chat prompt's template format."""

from __future__ import annotations

from agentkit.prompts import ChatPromptTemplate


def test_adding_a_message_to_a_jinja2_chat_prompt_keeps_jinja2() -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "You are {{ persona }}.")], "jinja2")
    extra = ("user", "{{ question }}")
    longer = prompt + extra
    messages = longer.invoke({"persona": "terse", "question": "Why?"})
    assert [m.content for m in messages] == ["You are terse.", "Why?"]
    assert longer.input_variables == ["persona", "question"]


def test_adding_a_string_to_a_jinja2_chat_prompt_keeps_jinja2() -> None:
    prompt = ChatPromptTemplate.from_template("{{ a }}", "jinja2") + "{{ b }} {x}"
    assert [m.content for m in prompt.invoke({"a": 1, "b": 2})] == ["1", "2 {x}"]
