"""PromptTemplate: variables, formatting, partials, errors, files, concatenation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentkit.core.errors import PromptVariableError, UsageError
from agentkit.core.tracing import InMemoryTracer
from agentkit.prompts import PromptTemplate

_CALLS: list[int] = []


def counter() -> str:
    _CALLS.append(1)
    return f"call-{len(_CALLS)}"


def test_infers_variables_in_order_of_first_use() -> None:
    prompt = PromptTemplate("{b} then {a} then {b} again")
    assert prompt.input_variables == ["b", "a"]


def test_format_substitutes_values() -> None:
    prompt = PromptTemplate("Tell me a {adjective} joke about {topic}.")
    assert prompt.format(adjective="funny", topic="owls") == "Tell me a funny joke about owls."


def test_literal_braces_are_kept_and_not_variables() -> None:
    prompt = PromptTemplate('Answer as JSON: {{"answer": "{answer}"}}')
    assert prompt.input_variables == ["answer"]
    assert prompt.format(answer="yes") == 'Answer as JSON: {"answer": "yes"}'


def test_format_spec_and_conversion_are_supported() -> None:
    prompt = PromptTemplate("[{name!r:>8}] {score:.2f}")
    assert prompt.format(name="ab", score=0.5) == "[    'ab'] 0.50"


def test_invoke_ignores_extra_keys() -> None:
    prompt = PromptTemplate("Q: {question}")
    assert prompt.invoke({"question": "why?", "history": [], "other": 1}) == "Q: why?"


def test_invoke_accepts_a_single_value_for_one_variable() -> None:
    prompt = PromptTemplate("Translate: {text}")
    assert prompt.invoke("bonjour") == "Translate: bonjour"


def test_invoke_rejects_a_single_value_for_several_variables() -> None:
    prompt = PromptTemplate("{a} {b}")
    with pytest.raises(UsageError, match="needs a dict input"):
        prompt.invoke("x")


def test_template_without_variables_accepts_none_and_empty_dict() -> None:
    prompt = PromptTemplate("Say hi.")
    assert prompt.input_variables == []
    assert prompt.invoke(None) == "Say hi."
    assert prompt.invoke({}) == "Say hi."


def test_missing_variable_names_variables_and_template() -> None:
    prompt = PromptTemplate("Write about {topic} for {audience}.")
    with pytest.raises(PromptVariableError) as info:
        prompt.invoke({"topic": "bees"})
    message = str(info.value)
    assert "['audience']" in message
    assert "Write about {topic} for {audience}." in message
    assert info.value.missing == ["audience"]
    assert info.value.expected == ["audience", "topic"]
    assert isinstance(info.value, KeyError)


def test_format_missing_variable_raises_prompt_variable_error() -> None:
    with pytest.raises(PromptVariableError, match="topic"):
        PromptTemplate("about {topic}").format()


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("a {} b", "positional field"),
        ("a {0} b", "positional field"),
        ("a {user.name} b", "attribute access or indexing"),
        ("a {items[0]} b", "attribute access or indexing"),
        ("a } b", "invalid f-string template"),
        ("a { b", "invalid f-string template"),
    ],
)
def test_bad_fstring_fields_are_rejected(template: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        PromptTemplate(template)


def test_unknown_template_format_is_rejected() -> None:
    with pytest.raises(UsageError, match="unknown template_format 'mustache'"):
        PromptTemplate("{x}", template_format="mustache")


def test_non_string_template_is_rejected() -> None:
    with pytest.raises(UsageError, match="must be a str"):
        PromptTemplate(42)  # type: ignore[arg-type]


def test_explicit_input_variables_must_match() -> None:
    assert PromptTemplate("{a}{b}", input_variables=["b", "a"]).input_variables == ["a", "b"]
    with pytest.raises(UsageError, match=r"unknown: \['c'\]"):
        PromptTemplate("{a}{b}", input_variables=["a", "b", "c"])


def test_partial_with_value_removes_the_variable() -> None:
    prompt = PromptTemplate("{greeting}, {name}!")
    hello = prompt.partial(greeting="Hello")
    assert hello.input_variables == ["name"]
    assert prompt.input_variables == ["greeting", "name"]  # the original is unchanged
    assert hello.invoke("Ada") == "Hello, Ada!"
    assert hello.invoke({"name": "Ada", "greeting": "Hi"}) == "Hi, Ada!"  # input wins


def test_partial_callable_is_evaluated_at_each_format() -> None:
    _CALLS.clear()
    prompt = PromptTemplate("{stamp}: {text}").partial(stamp=counter)
    assert _CALLS == []
    assert prompt.format(text="a") == "call-1: a"
    assert prompt.format(text="b") == "call-2: b"


def test_partial_of_unknown_variable_is_rejected() -> None:
    with pytest.raises(UsageError, match=r"\['nmae'\] are not used"):
        PromptTemplate("{name}").partial(nmae="x")


def test_from_template_keywords_become_partials() -> None:
    prompt = PromptTemplate.from_template("{a} and {b}", b="B")
    assert prompt.input_variables == ["a"]
    assert prompt.invoke("A") == "A and B"


def test_jinja2_template() -> None:
    prompt = PromptTemplate(
        "Items:{% for item in items %} {{ item | upper }}{% endfor %} for {{ user }}",
        template_format="jinja2",
    )
    assert set(prompt.input_variables) == {"items", "user"}
    assert prompt.invoke({"items": ["a", "b"], "user": "me"}) == "Items: A B for me"


def test_jinja2_missing_variable_and_no_autoescape() -> None:
    prompt = PromptTemplate("<b>{{ text }}</b>", template_format="jinja2")
    assert prompt.format(text="<i>&</i>") == "<b><i>&</i></b>"
    with pytest.raises(PromptVariableError, match="text"):
        prompt.format()


def test_jinja2_sandbox_blocks_unsafe_attribute_access() -> None:
    from jinja2.exceptions import SecurityError

    prompt = PromptTemplate("{{ x.__class__.__mro__ }}", template_format="jinja2")
    with pytest.raises(SecurityError):
        prompt.format(x=1)
    evil = PromptTemplate("{{ f.__globals__ }}", template_format="jinja2")
    with pytest.raises(SecurityError):
        evil.format(f=counter)


def test_invalid_jinja2_template_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="invalid jinja2 template"):
        PromptTemplate("{% for x in %}", template_format="jinja2")


def test_from_file_picks_format_by_suffix(tmp_path: Path) -> None:
    text_file = tmp_path / "ask.txt"
    text_file.write_text("Question: {question}", encoding="utf-8")
    jinja_file = tmp_path / "ask.j2"
    jinja_file.write_text("Question: {{ question }}", encoding="utf-8")
    for path in (text_file, jinja_file, tmp_path / "ask.jinja"):
        if not path.exists():
            path.write_text("Question: {{ question }}", encoding="utf-8")
        prompt = PromptTemplate.from_file(path)
        assert prompt.invoke("why?") == "Question: why?"
    assert PromptTemplate.from_file(jinja_file).template_format == "jinja2"
    assert PromptTemplate.from_file(text_file).template_format == "f-string"


def test_from_file_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        PromptTemplate.from_file(tmp_path / "nope.txt")


def test_add_concatenates_templates_and_strings() -> None:
    joined = PromptTemplate("Context: {context}\n") + PromptTemplate("Q: {question}")
    assert joined.input_variables == ["context", "question"]
    assert joined.format(context="c", question="q") == "Context: c\nQ: q"
    with_str = PromptTemplate("{a}") + " and {b}"
    assert with_str.format(a=1, b=2) == "1 and 2"
    left_str = "Hi " + PromptTemplate("{name}")
    assert left_str.format(name="Bo") == "Hi Bo"


def test_add_keeps_partials_and_rejects_mixed_formats() -> None:
    joined = PromptTemplate("{a}").partial(a="A") + PromptTemplate("{b}")
    assert joined.input_variables == ["b"]
    assert joined.invoke("B") == "AB"
    with pytest.raises(UsageError, match="same template_format"):
        PromptTemplate("{a}") + PromptTemplate("{{ b }}", template_format="jinja2")
    with pytest.raises(UsageError, match="different values"):
        PromptTemplate("{a}").partial(a=1) + PromptTemplate("{a}").partial(a=2)


def test_prompt_is_a_traced_runnable_with_batch_and_async() -> None:
    prompt = PromptTemplate("<{x}>")
    assert prompt.kind == "prompt"
    assert prompt.batch([{"x": 1}, {"x": 2}]) == ["<1>", "<2>"]
    assert asyncio.run(prompt.ainvoke({"x": 3})) == "<3>"
    tracer = InMemoryTracer()
    assert prompt.invoke({"x": 4}, {"tracers": [tracer]}) == "<4>"
    assert [(s.kind, s.output) for s in tracer.spans] == [("prompt", "<4>")]
