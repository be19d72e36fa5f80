"""Every parser round-trips through agentkit.core.spec and parses identically."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from agentkit.core import spec
from agentkit.core.errors import SpecError
from agentkit.parsers import (
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    RegexParser,
    RouterOutputParser,
    StrOutputParser,
)


def roundtrip(obj: Any) -> Any:
    return spec.load(yaml.safe_load(yaml.safe_dump(spec.dump(obj))))


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (StrOutputParser(), "plain text"),
        (CommaSeparatedListOutputParser(), "a, b"),
        (JsonOutputParser(), 'x {"a": [1]} y'),
        (JsonOutputParser(schema_hint={"type": "object"}), "[1]"),
        (RegexParser(r"(?P<a>\d+)"), "n=12"),
        (RegexParser(r"(\d+)-(\d+)", output_keys=["lo", "hi"], default_output_key="lo"), "1-2"),
        (RegexParser(r"(?P<a>x)", flags=2), "X"),
        (RouterOutputParser(), '{"destination": "math", "next_inputs": "1+1"}'),
        (
            RouterOutputParser("other", dict, "payload"),
            '{"destination": "other", "next_inputs": {}}',
        ),
    ],
)
def test_parser_roundtrip(parser: Any, text: str) -> None:
    loaded = roundtrip(parser)
    assert type(loaded) is type(parser)
    assert spec.dump(loaded) == spec.dump(parser)
    assert loaded.parse(text) == parser.parse(text)
    assert loaded.format_instructions() == parser.format_instructions()


def test_invalid_parser_spec_values() -> None:
    with pytest.raises(SpecError) as info:
        spec.load({"type": "router_parser", "next_inputs_type": "int"})
    assert info.value.path == "$.next_inputs_type"
    assert info.value.allowed == ["dict", "list", "str"]
    with pytest.raises(SpecError, match=r"\$\.regex: required field is missing"):
        spec.load({"type": "regex_parser"})
    with pytest.raises(SpecError, match=r"\$: .*no named groups"):
        spec.load({"type": "regex_parser", "regex": "(x)"})
    with pytest.raises(SpecError, match=r"\$\.schema_hint: expected dict/str"):
        spec.load({"type": "json_parser", "schema_hint": 3})
    with pytest.raises(SpecError, match=r"\$\.extra: unknown field"):
        spec.load({"type": "str_parser", "extra": 1})
