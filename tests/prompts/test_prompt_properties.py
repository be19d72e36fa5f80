"""Property tests: f-string formatting substitutes values exactly and keeps literal text."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.prompts import PromptTemplate

NAMES = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=8).filter(
    str.isidentifier
)
LITERALS = st.text(max_size=20)
VALUES = st.one_of(st.text(max_size=20), st.integers(), st.booleans())


def escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.tuples(LITERALS, NAMES), max_size=6),
    tail=LITERALS,
    values=st.dictionaries(NAMES, VALUES, max_size=10),
    default=VALUES,
)
def test_format_substitutes_exactly(
    parts: list[tuple[str, str]], tail: str, values: dict[str, object], default: object
) -> None:
    template = "".join(escape(lit) + "{" + name + "}" for lit, name in parts) + escape(tail)
    used = [name for _, name in parts]
    full = {name: values.get(name, default) for name in used}
    prompt = PromptTemplate(template)
    assert set(prompt.input_variables) == set(used)
    assert len(prompt.input_variables) == len(set(used))
    expected = "".join(lit + str(full[name]) for lit, name in parts) + tail
    assert prompt.format(**full) == expected
    assert prompt.invoke({**full, "zz_extra_key": 1}) == expected


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=40))
def test_escaped_text_is_a_template_without_variables(text: str) -> None:
    prompt = PromptTemplate(escape(text))
    assert prompt.input_variables == []
    assert prompt.invoke({}) == text


JINJA_WORDS = {"and", "or", "not", "in", "is", "if", "else", "true", "false", "none"}
JINJA_LITERALS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="{}%#\r"),
    max_size=20,
)


@settings(max_examples=100, deadline=None)
@given(
    name=NAMES.filter(lambda n: n.lower() not in JINJA_WORDS),
    value=st.text(max_size=30),
    lit=JINJA_LITERALS,
)
def test_jinja2_substitutes_values(name: str, value: str, lit: str) -> None:
    prompt = PromptTemplate(lit + "{{ " + name + " }}", template_format="jinja2")
    assert prompt.input_variables == [name]
    assert prompt.invoke(value) == lit + value
