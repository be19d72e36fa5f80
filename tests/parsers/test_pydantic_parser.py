"""PydanticOutputParser: validation, errors, format instructions, spec."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from agentkit.core import spec
from agentkit.core.errors import OutputParserError, SpecError, UsageError
from agentkit.llms.messages import Message
from agentkit.parsers import PydanticOutputParser


class Person(BaseModel):
    name: str
    age: int = Field(description="age in years")


def test_parses_and_validates_fenced_json() -> None:
    parser = PydanticOutputParser(Person)
    person = parser.invoke(Message("assistant", 'Here:\n```json\n{"name": "Ada", "age": 36}\n```'))
    assert person == Person(name="Ada", age=36)
    assert parser.parse('{"name": "Bo", "age": "7"}').age == 7  # lax validation


def test_validation_errors_list_the_fields() -> None:
    parser = PydanticOutputParser(Person)
    with pytest.raises(OutputParserError) as info:
        parser.parse('{"name": "Ada", "age": "old"}')
    message = str(info.value)
    assert "does not match Person" in message
    assert "age: Input should be a valid integer" in message
    assert "'name', 'age'" in info.value.hint
    with pytest.raises(OutputParserError, match=r"age: Field required"):
        parser.parse('{"name": "Ada"}')
    with pytest.raises(OutputParserError, match="no valid JSON found") as missing:
        parser.parse("Ada is 36")
    assert "fields ['name', 'age']" in str(missing.value)


def test_format_instructions_include_the_schema() -> None:
    text = PydanticOutputParser(Person).format_instructions()
    assert '"age in years"' in text
    assert '"required": ["name", "age"]' in text


def test_rejects_non_models() -> None:
    with pytest.raises(UsageError, match="BaseModel subclass"):
        PydanticOutputParser(dict)  # type: ignore[type-var]


def test_spec_roundtrip_and_errors() -> None:
    parser = PydanticOutputParser(Person)
    data = spec.dump(parser)
    assert data == {"type": "pydantic_parser", "model": f"{__name__}:Person"}
    loaded = spec.load(data)
    assert isinstance(loaded, PydanticOutputParser)
    assert loaded.parse('{"name": "A", "age": 1}') == parser.parse('{"name": "A", "age": 1}')
    with pytest.raises(SpecError, match=r"\$\.model: .*not a pydantic BaseModel"):
        spec.load({"type": "pydantic_parser", "model": "json:dumps"}, allow_imports=True)
    assert parser.name == "PydanticOutputParser[Person]"
