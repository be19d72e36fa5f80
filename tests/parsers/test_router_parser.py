"""RouterOutputParser: the multi-prompt router's JSON answer."""

from __future__ import annotations

import pytest

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.llms.messages import Message
from agentkit.parsers import RouterOutputParser

ROUTER_REPLY = """I think physics fits best.

```json
{
    "destination": "physics",
    "next_inputs": "What is black body radiation?"
}
```"""


def test_parses_the_classic_router_output() -> None:
    parser = RouterOutputParser()
    assert parser.invoke(Message("assistant", ROUTER_REPLY)) == {
        "destination": "physics",
        "next_inputs": {"input": "What is black body radiation?"},
    }


@pytest.mark.parametrize("destination", ["DEFAULT", "default", " Default ", None])
def test_default_destination_becomes_none(destination: str | None) -> None:
    import json

    text = json.dumps({"destination": destination, "next_inputs": "hi"})
    assert RouterOutputParser().parse(text)["destination"] is None


def test_custom_default_inner_key_and_dict_inputs() -> None:
    parser = RouterOutputParser(
        default_destination="none", next_inputs_type=dict, next_inputs_inner_key="query"
    )
    result = parser.parse('{"destination": "NONE", "next_inputs": {"q": 1}}')
    assert result == {"destination": None, "next_inputs": {"query": {"q": 1}}}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"destination": "math"}', "lacks the key(s) ['next_inputs']"),
        ('{"next_inputs": "x"}', "lacks the key(s) ['destination']"),
        ('["math", "x"]', "JSON list, not an object"),
        ('{"destination": 3, "next_inputs": "x"}', "destination must be a string"),
        ('{"destination": "math", "next_inputs": ["x"]}', "next_inputs must be a JSON string"),
        ("route to math please", "no valid JSON found"),
    ],
)
def test_bad_router_answers(text: str, fragment: str) -> None:
    with pytest.raises(OutputParserError) as info:
        RouterOutputParser().parse(text)
    assert fragment in str(info.value)
    assert '"destination"' in str(info.value)  # the hint shows the expected shape


def test_bad_next_inputs_type_and_instructions() -> None:
    with pytest.raises(UsageError, match="next_inputs_type must be one of"):
        RouterOutputParser(next_inputs_type=int)
    assert "'DEFAULT'" in RouterOutputParser().format_instructions()
