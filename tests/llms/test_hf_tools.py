"""Prompt-based tool calling: the tool description and call format, the parser, history
rendering, the streaming filter, and end to end on a tiny model taught the call format."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import FunctionModel, GenerationParams, Message, ToolCall, assistant, tool, user
from agentkit.llms.hf.tool_prompting import (
    TOOL_PROMPT,
    ToolCallFilter,
    describe,
    parse_tool_calls,
    render_history,
    tool_schema,
)
from agentkit.llms.switch import model_requests

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CLOCK = {"type": "function", "function": {"name": "now", "description": "The time."}}
NAMES = ["get_weather", "now"]


def block(name: str, arguments: dict[str, object]) -> str:
    return "```json\n" + json.dumps({"tool": name, "arguments": arguments}) + "\n```"


def test_tool_schemas_in_both_forms() -> None:
    assert tool_schema(WEATHER) == WEATHER
    assert tool_schema(CLOCK) == {
        "name": "now",
        "description": "The time.",
        "parameters": {"type": "object"},
    }
    with pytest.raises(UsageError, match="a tool must be a JSON schema dict"):
        tool_schema({"description": "no name"})


def test_description_lists_tools_and_the_call_format() -> None:
    text = describe([tool_schema(WEATHER), tool_schema(CLOCK)])
    assert "- get_weather: The weather in a city." in text
    assert '"city": {"type": "string"}' in text
    assert '{"tool": "<tool name>", "arguments": {<arguments as JSON>}}' in text
    assert text.startswith(TOOL_PROMPT.split("{tools}")[0])


@pytest.mark.parametrize(
    ("reply", "text", "calls"),
    [
        (block("get_weather", {"city": "Paris"}), "", [("get_weather", {"city": "Paris"})]),
        (
            "Let me check.\n" + block("get_weather", {"city": "Oslo"}) + "\nOne moment.",
            "Let me check.\n\nOne moment.",
            [("get_weather", {"city": "Oslo"})],
        ),
        (
            block("now", {}) + "\n" + block("get_weather", {"city": "Rome"}),
            "",
            [("now", {}), ("get_weather", {"city": "Rome"})],
        ),
        (
            '```json\n[{"tool": "now", "arguments": {}}, {"name": "now"}]\n```',
            "",
            [("now", {}), ("now", {})],
        ),
        ('  {"tool": "now", "arguments": {}}  ', "", [("now", {})]),
        ("  Paris is sunny.  ", "Paris is sunny.", []),
        (block("launch_rockets", {}), block("launch_rockets", {}), []),
        ("```json\n{not json}\n```", "```json\n{not json}\n```", []),
        ('```json\n{"tool": "now", "arguments": [1]}\n```', "", [("now", {})]),  # malformed
        ("{'tool': 'now'}", "{'tool': 'now'}", []),
    ],
)
def test_parse_tool_calls(reply: str, text: str | None, calls: list[tuple[str, dict]]) -> None:
    parsed_text, parsed = parse_tool_calls(reply, NAMES)
    assert [(c.name, c.arguments) for c in parsed] == calls
    assert parsed_text == (reply.strip() if text is None else text)
    assert len({c.id for c in parsed}) == len(parsed)
    assert all(re.fullmatch(r"call_[0-9a-f]{12}", c.id) for c in parsed)


def test_broken_calls_of_known_tools_are_malformed_calls_not_text() -> None:
    """The agent answers a malformed call with its problem so the model can retry; left as
    text, the block would end the run as if it were the answer."""
    reply = '```json\n{"tool": "get_weather", "arguments": {"city": Paris}}\n```'
    text, [call] = parse_tool_calls(reply, NAMES)
    assert text == "" and call.name == "get_weather" and call.arguments == {}
    assert call.arguments_error is not None and call.arguments_error.startswith("not valid JSON")
    assert call.raw_arguments is not None and "Paris" in call.raw_arguments
    _, [listed] = parse_tool_calls('```json\n{"tool": "now", "arguments": 5}\n```', NAMES)
    assert listed.arguments_error == "not a JSON object (got a JSON number)"
    unknown = '```json\n{"tool": "launch", "arguments": {oops}}\n```'
    assert parse_tool_calls(unknown, NAMES) == (unknown, [])


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"tool": "get_weather", "arguments": {"city": Paris}}\n```',
        " Let me check.\n" + block("get_weather", {"city": "Oslo"}) + "\nDone. ",
        block("now", {}),
        '{"tool": "now", "arguments": {}}',
        "Use `code` and ``more`` here, no calls.",
        "Text with a bad block ```json\n{oops}\n``` and more text",
        "  plain answer with trailing spaces   ",
        "``",
    ],
)
def test_stream_filter_matches_the_parser(reply: str) -> None:
    for size in (1, 3, 7):
        stream = ToolCallFilter(NAMES)
        pieces = [stream.feed(reply[i : i + size]) for i in range(0, len(reply), size)]
        tail, calls = stream.finish()
        text, expected = parse_tool_calls(reply, NAMES)
        assert "".join(pieces) + tail == text
        assert [(c.name, c.arguments) for c in calls] == [(c.name, c.arguments) for c in expected]
        if expected:
            assert "```" not in "".join(pieces)


def test_history_renders_tools_calls_and_results() -> None:
    call = ToolCall("call_1", "get_weather", {"city": "Paris"})
    history = [
        Message("system", "Be brief."),
        user("Weather in Paris?"),
        assistant("", [call]),
        tool("sunny, 21 C", "call_1", "get_weather"),
        user("And tomorrow?"),
    ]
    chat = render_history(history, [tool_schema(WEATHER)])
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[0]["content"].startswith("Be brief.\n\nYou can call these tools:")
    assert chat[2]["content"] == block("get_weather", {"city": "Paris"})
    assert chat[3]["content"] == "Result of tool get_weather:\nsunny, 21 C\n\nAnd tomorrow?"
    plain = render_history([user("a"), user("b")], [])
    assert plain == [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    assert render_history([user("a")], [tool_schema(CLOCK)])[0]["role"] == "system"


def test_scripted_model_reading_the_described_format() -> None:
    """A scripted model that follows the system prompt's format; its reply parses back."""

    def follow_format(messages: list[Message], params: GenerationParams) -> str:
        system_text = messages[0].content
        name = re.search(r"^- (\w+):", system_text, re.MULTILINE)
        assert name is not None
        return "Checking.\n" + block(name.group(1), {"city": messages[-1].content})

    model = FunctionModel(follow_format)
    chat = render_history([user("Paris")], [tool_schema(WEATHER)])
    reply = model.invoke([Message(m["role"], m["content"]) for m in chat]).content
    text, calls = parse_tool_calls(reply, NAMES)
    assert text == "Checking."
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]


# --- end to end on a tiny model trained to answer with a tool call ----------------------


@pytest.fixture(scope="module")
def tool_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agentkit.testing.tiny_models import DEFAULT_CORPUS, build_tiny_model, pretrain

    reply = "Let me check.\n" + block("get_weather", {"city": "Paris"})
    folder = build_tiny_model(
        tmp_path_factory.mktemp("tool_model"), corpus=[*DEFAULT_CORPUS, reply], hidden=48
    )
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    chat = render_history([user("Weather in Paris?")], [tool_schema(WEATHER)])
    chat.append({"role": "assistant", "content": reply})
    ids = tok(tok.apply_chat_template(chat, tokenize=False), add_special_tokens=False)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        pretrain(model, ids["input_ids"], 120, batch_size=2, block=len(ids["input_ids"]) - 1)
    finally:
        torch.set_num_threads(previous)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", autouse=True)
def _allow_requests() -> Iterator[None]:
    with model_requests(True):
        yield


@pytest.mark.integration
def test_tiny_model_tool_call_end_to_end(tool_model_path: Path) -> None:
    from agentkit.llms.hf import HFChatModel

    model = HFChatModel(tool_model_path, params={"max_new_tokens": 40}).bind(tools=[WEATHER])
    result = model.generate([user("Weather in Paris?")])
    assert result.finish_reason == "tool_calls"
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert result.text == "Let me check."
    chunks = list(model.stream("Weather in Paris?"))
    assert "".join(c.content for c in chunks) == result.text
    assert chunks[-1].tool_calls and chunks[-1].metadata["finish_reason"] == "tool_calls"
    joined = chunks[0]
    for chunk in chunks[1:]:
        joined = joined + chunk
    assert [c.name for c in joined.tool_calls] == ["get_weather"]
