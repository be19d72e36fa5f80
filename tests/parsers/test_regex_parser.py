"""RegexParser: named groups, output_keys, defaults, errors."""

from __future__ import annotations

import re

import pytest

from agentkit.core.errors import OutputParserError, UsageError
from agentkit.llms.messages import Message
from agentkit.parsers import RegexParser


def test_named_groups_become_keys() -> None:
    parser = RegexParser(r"Answer:\s*(?P<answer>\w+)\s+Score:\s*(?P<score>\d+)")
    assert parser.invoke(Message("assistant", "Answer: yes Score: 9")) == {
        "answer": "yes",
        "score": "9",
    }
    assert parser.output_keys == ["answer", "score"]


def test_output_keys_name_positional_groups() -> None:
    parser = RegexParser(r"(\w+) is (\d+)", output_keys=["name", "age"])
    assert parser.parse("well, Ada is 36.") == {"name": "Ada", "age": "36"}


def test_no_match_raises_with_pattern() -> None:
    parser = RegexParser(r"Final answer: (?P<answer>.+)")
    with pytest.raises(OutputParserError) as info:
        parser.parse("I do not know")
    assert "does not match the pattern 'Final answer: (?P<answer>.+)'" in str(info.value)
    assert info.value.text == "I do not know"


def test_default_output_key_takes_the_whole_text() -> None:
    parser = RegexParser(
        r"Answer: (?P<answer>\w+) because (?P<reason>.+)", default_output_key="answer"
    )
    assert parser.parse("no idea") == {"answer": "no idea", "reason": ""}


def test_flags_and_compiled_patterns() -> None:
    assert RegexParser(r"answer: (?P<a>\w+)", flags=re.IGNORECASE).parse("ANSWER: x") == {"a": "x"}
    compiled = re.compile(r"A: (?P<a>.+)", re.DOTALL)
    assert RegexParser(compiled).parse("A: one\ntwo") == {"a": "one\ntwo"}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"regex": r"(\w+)"}, "no named groups"),
        ({"regex": r"(\w+)", "output_keys": ["a", "b"]}, "has 1"),
        ({"regex": r"(?P<a>\w+)", "default_output_key": "b"}, "not one of the output keys"),
        ({"regex": r"(?P<a>\w+"}, "invalid regular expression"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        RegexParser(**kwargs)  # type: ignore[arg-type]


def test_format_instructions_name_the_keys() -> None:
    text = RegexParser(r"(?P<x>\d) (?P<y>\d)").format_instructions()
    assert "x, y" in text
