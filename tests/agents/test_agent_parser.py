"""The tolerant ReAct parser."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.agents.react_parser import ReActAction, ReActFinish, ReActParseError, parse_react
from agentkit.core.errors import ModelOutputError


def test_plain_action_with_thought() -> None:
    parsed = parse_react("Thought: I need maths\nAction: calculator\nAction Input: 0.25 * 300")
    assert parsed == ReActAction("calculator", "0.25 * 300", "I need maths")


def test_json_object_input_becomes_a_dict_and_json_string_its_value() -> None:
    parsed = parse_react('Action: calculator\nAction Input: {"expression": "2+2"}')
    assert isinstance(parsed, ReActAction) and parsed.tool_input == {"expression": "2+2"}
    quoted = parse_react('Action: search\nAction Input: "Eiffel Tower"')
    assert isinstance(quoted, ReActAction) and quoted.tool_input == "Eiffel Tower"


def test_multi_line_input_ends_at_the_next_marker() -> None:
    text = "Action: python\nAction Input: x = 1\nprint(x)\n\nThought: wait"
    parsed = parse_react(text)
    assert isinstance(parsed, ReActAction) and parsed.tool_input == "x = 1\nprint(x)"


def test_fenced_input_keeps_markers_inside_the_fence() -> None:
    text = "Action: python\nAction Input:\n```python\nprint('Observation: no')\n```\n"
    parsed = parse_react(text)
    assert isinstance(parsed, ReActAction) and parsed.tool_input == "print('Observation: no')"


def test_missing_action_input_gives_an_empty_input() -> None:
    assert parse_react("Thought: what day is it\nAction: today") == ReActAction(
        "today", "", "what day is it"
    )


@pytest.mark.parametrize(
    "text",
    [
        "action: calculator\naction input: 1+1",
        "ACTION : calculator\nACTION_INPUT : 1+1",
        "**Action:** `calculator`\n**Action Input:** 1+1",
        "- Action: [calculator]\n- Action Input: 1+1",
        "Action 1: calculator\nAction 1 Input: 1+1",
        "Action: calculator Action Input: 1+1",
        "Action: calculator[1+1]",
        "Action: calculator(1+1)",
        "Sure! Let me compute.\n\nAction: calculator\nAction Input: 1+1\n\nHope it helps",
        "```\nThought: sum\nAction: calculator\nAction Input: 1+1\n```",
        'Action:\n```json\n{"action": "calculator", "action_input": "1+1"}\n```',
    ],
)
def test_spelling_spacing_and_decoration_variants(text: str) -> None:
    parsed = parse_react(text)
    assert isinstance(parsed, ReActAction)
    assert (parsed.tool, parsed.tool_input) == ("calculator", "1+1")


@pytest.mark.parametrize(
    "text",
    [
        "Thought: I know it\nFinal Answer: 75",
        "final answer: 75",
        "FINAL_ANSWER: 75",
        "**Final Answer:** 75",
        "I now know. Final Answer: 75",
        "```\nFinal Answer: 75\n```",
        'Action: {"action": "Final Answer", "action_input": "75"}',
    ],
)
def test_final_answer_variants(text: str) -> None:
    parsed = parse_react(text)
    assert isinstance(parsed, ReActFinish) and parsed.answer == "75"


def test_multi_line_final_answer_and_thought() -> None:
    parsed = parse_react("Thought: done\nFinal Answer: line one\nline two")
    assert parsed == ReActFinish("line one\nline two", "done")


def test_action_first_wins_over_a_later_final_answer() -> None:
    # the model imagined the observation and the answer: the action runs for real
    text = "Action: calculator\nAction Input: 2+2\nObservation: 5\nFinal Answer: 5"
    parsed = parse_react(text)
    assert isinstance(parsed, ReActAction) and parsed.tool_input == "2+2"


def test_final_answer_first_wins_over_a_later_action() -> None:
    parsed = parse_react("Final Answer: 4\nAction: calculator\nAction Input: 2+2")
    assert parsed == ReActFinish("4", "")


def test_log_keeps_the_raw_reply() -> None:
    text = "Thought: t\nAction: x\nAction Input: y"
    assert parse_react(text).log == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("I think the answer is probably 75.", "no 'Action:' or 'Final Answer:'"),
        ("Action Input: 2+2", "without an 'Action:'"),
        ("Action:\nAction Input: 2+2", "names no tool"),
        ("Thought: hmm\nFinal Answer:   ", "'Final Answer:' is empty"),
        ('Action: {"action": "Final Answer", "action_input": " "}', "final answer is empty"),
    ],
)
def test_unparsable_replies_raise_with_a_hint(text: str, fragment: str) -> None:
    with pytest.raises(ReActParseError) as info:
        parse_react(text)
    assert isinstance(info.value, ModelOutputError)
    assert fragment in str(info.value)
    feedback = info.value.feedback()
    assert feedback.startswith("Invalid format:") and fragment in feedback
    assert len(feedback) < 300  # short enough to send back as an observation


_MARKERS = st.sampled_from(
    [
        "Thought:",
        "Action:",
        "Action Input:",
        "Observation:",
        "Final Answer:",
        "action_input:",
        "```",
        "```json",
        "{",
        "}",
        '"',
        "[",
        "]",
        "(",
        "\n",
        "**",
        " ",
        "calculator",
        '{"action": "x", "action_input": {"a": [1]}}',
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_MARKERS, st.text(max_size=12)), max_size=25).map("".join))
def test_fuzz_any_text_gives_an_action_an_answer_or_a_parse_error(text: str) -> None:
    try:
        parsed = parse_react(text)
    except ReActParseError as exc:
        assert exc.feedback()
        return
    assert isinstance(parsed, ReActAction | ReActFinish)
    if isinstance(parsed, ReActAction):
        assert parsed.tool and isinstance(parsed.tool_input, str | dict)
    else:
        assert parsed.answer


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_arbitrary_unicode(text: str) -> None:
    with contextlib.suppress(ReActParseError):
        parse_react(text)


def test_deeply_nested_json_input_does_not_escape() -> None:
    deep = "{" * 5000
    parsed = parse_react(f"Action: x\nAction Input: {deep}")
    assert isinstance(parsed, ReActAction) and parsed.tool_input == deep
    blob = '{"a":' * 3000
    with contextlib.suppress(ReActParseError):
        parse_react(f"Action:\n{blob}")


def test_json_input_followed_by_prose_and_a_blank_line_ends_plain_input() -> None:
    parsed = parse_react('Action: calc\nAction Input: {"x": 1} then I wait')
    assert isinstance(parsed, ReActAction) and parsed.tool_input == {"x": 1}
    parsed = parse_react("Action: calc\nAction Input: a\nb\n\nThat is my plan.")
    assert isinstance(parsed, ReActAction) and parsed.tool_input == "a\nb"
