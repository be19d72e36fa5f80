"""JsonOutputParser: fences, prose, errors, and property tests (value or parser error)."""

from __future__ import annotations

import contextlib
import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.core.errors import ModelOutputError, OutputParserError
from agentkit.llms.messages import Message
from agentkit.parsers import JsonOutputParser, extract_json

PARSER = JsonOutputParser()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("  [1, 2, 3]\n", [1, 2, 3]),
        ("42", 42),
        ('"just a string"', "just a string"),
        ('```json\n{"a": [true, null]}\n```', {"a": [True, None]}),
        ('```\n{"a": 2}\n```', {"a": 2}),
        ('Sure! Here it is:\n```json\n{"b": "x"}\n```\nAnything else?', {"b": "x"}),
        ('The answer is {"answer": "yes"} as requested.', {"answer": "yes"}),
        ('Use {braces} loosely, then: {"ok": true} done', {"ok": True}),
        ('list: [1, {"k": "}"}] trailing ] text', [1, {"k": "}"}]),
        ('```json\n{"code": "a ``` b"}\n```', {"code": "a ``` b"}),
        ('Unclosed fence ```json\n{"a": 1}', {"a": 1}),
    ],
)
def test_parses_json_in_various_wrappings(text: str, expected: Any) -> None:
    assert PARSER.parse(text) == expected


def test_accepts_a_message_and_is_a_runnable() -> None:
    assert PARSER.invoke(Message("assistant", '{"x": 1}')) == {"x": 1}
    assert PARSER.kind == "parser"
    assert PARSER.batch(['{"a": 1}', "[2]"]) == [{"a": 1}, [2]]


@pytest.mark.parametrize("text", ["", "no json here", "{'single': 'quotes'}", '{"a": 1'])
def test_failure_is_an_output_parser_error_showing_the_text(text: str) -> None:
    with pytest.raises(OutputParserError) as info:
        PARSER.parse(text)
    assert isinstance(info.value, ModelOutputError)
    assert "no valid JSON found" in str(info.value)
    assert repr(text) in str(info.value)
    assert info.value.text == text
    assert "JSON" in info.value.hint
    assert "could not be parsed" in info.value.feedback()


def test_deep_nesting_is_a_parser_error_not_a_recursion_error() -> None:
    with pytest.raises(OutputParserError):
        PARSER.parse("[" * 100_000)
    with pytest.raises(OutputParserError):
        PARSER.parse("x " + "{" * 50_000 + "}" * 49_999)


def test_format_instructions_with_and_without_schema_hint() -> None:
    assert "JSON" in PARSER.format_instructions()
    hinted = JsonOutputParser(schema_hint={"type": "object", "properties": {"a": {}}})
    assert '"properties"' in hinted.format_instructions()
    assert "name: str" in JsonOutputParser(schema_hint="{name: str}").format_instructions()


def test_stream_yields_the_parsed_object() -> None:
    chunks = [Message("assistant", '{"a"'), Message("assistant", ": 1}")]
    assert list(PARSER.transform(iter(chunks))) == [{"a": 1}]


# --- properties -------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
CONTAINERS = st.one_of(
    st.lists(JSON_VALUES, max_size=4), st.dictionaries(st.text(max_size=8), JSON_VALUES)
)
# no '"': prose of one quote on each side makes the whole reply a valid JSON string
PROSE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='{}[]`"'),
    max_size=40,
)
JSONISH = st.text(alphabet='{}[]":,0123456789.-+eEtrufalsn \n`\\json', max_size=60)


def _parse_or_error(text: str) -> None:
    with contextlib.suppress(OutputParserError):
        PARSER.parse(text)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), JSONISH))
def test_any_text_gives_a_value_or_a_parser_error(text: str) -> None:
    _parse_or_error(text)


@settings(max_examples=150, deadline=None)
@given(value=JSON_VALUES, indent=st.sampled_from([None, 2]), ascii_only=st.booleans())
def test_dumped_json_round_trips(value: Any, indent: int | None, ascii_only: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    assert PARSER.parse(text) == value
    assert PARSER.parse(f"```json\n{text}\n```") == value
    assert PARSER.parse(f"Here you go:\n```\n{text}\n```\nDone.") == value


@settings(max_examples=150, deadline=None)
@given(value=CONTAINERS, before=PROSE, after=PROSE)
def test_containers_round_trip_inside_prose(value: Any, before: str, after: str) -> None:
    text = json.dumps(value)
    assert PARSER.parse(f"{before} {text} {after}") == value


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(alphabet=string.printable, max_size=30),
    value=CONTAINERS,
)
def test_extract_json_never_raises_other_errors_on_mixed_input(text: str, value: Any) -> None:
    mixed = text + json.dumps(value)[: len(text)] + text
    with contextlib.suppress(OutputParserError):
        extract_json(mixed)


def test_an_empty_stream_fails_like_an_empty_reply() -> None:
    import asyncio

    from agentkit.core.errors import OutputParserError

    parser = JsonOutputParser()
    with pytest.raises(OutputParserError):
        parser.invoke("")
    with pytest.raises(OutputParserError):
        list(parser.transform(iter([])))

    async def nothing() -> Any:
        return
        yield

    async def parse_async() -> list[Any]:
        return [x async for x in parser.atransform(nothing())]

    with pytest.raises(OutputParserError):
        asyncio.run(parse_async())
    assert list(parser.transform(iter(['{"a": ', "1}"]))) == [{"a": 1}]
