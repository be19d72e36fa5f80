"""Messages, tool calls, usage, chat results and input normalisation."""

from __future__ import annotations

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import (
    ChatResult,
    Message,
    ToolCall,
    Usage,
    assistant,
    system,
    to_messages,
    tool,
    user,
)


def test_constructors_set_roles() -> None:
    assert system("s").role == "system"
    assert user("u").role == "user"
    call = ToolCall("c1", "search", {"q": "x"})
    reply = assistant("", tool_calls=[call])
    assert reply.role == "assistant" and reply.tool_calls == [call]
    result = tool("42", tool_call_id="c1", name="calc")
    assert (result.role, result.tool_call_id, result.name) == ("tool", "c1", "calc")


def test_role_aliases_are_normalised() -> None:
    assert Message("human", "hi").role == "user"
    assert Message("ai", "yo").role == "assistant"


def test_unknown_role_names_the_allowed_roles() -> None:
    with pytest.raises(UsageError, match="use one of system, user, assistant, tool"):
        Message("bot", "hi")


def test_non_string_content_is_rejected() -> None:
    with pytest.raises(UsageError, match="content must be a string"):
        Message("user", 42)  # type: ignore[arg-type]


def test_usage_sums_and_dict() -> None:
    total = Usage(3, 4) + Usage(1, 2)
    assert total == Usage(4, 6)
    assert total.total_tokens == 10
    assert total.as_dict() == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}


def test_chunks_join_with_plus() -> None:
    a = Message("assistant", "Hel", usage=None)
    b = Message("assistant", "lo", tool_calls=[ToolCall("1", "f", {})], usage=Usage(2, 1))
    c = Message("assistant", "!", usage=Usage(0, 1), metadata={"finish_reason": "stop"})
    joined = a + b + c
    assert joined.content == "Hello!"
    assert [t.name for t in joined.tool_calls] == ["f"]
    assert joined.usage == Usage(2, 2)
    assert joined.metadata == {"finish_reason": "stop"}
    assert a.content == "Hel" and a.usage is None  # operands unchanged


def test_chunks_of_different_roles_do_not_join() -> None:
    with pytest.raises(UsageError, match="cannot join a 'assistant' message chunk with a 'user'"):
        _ = assistant("a") + user("b")


def test_message_dict_round_trip() -> None:
    message = Message(
        "assistant",
        "calling",
        tool_calls=[ToolCall("c1", "search", {"q": "paris"})],
        usage=Usage(5, 2),
        metadata={"finish_reason": "tool_calls"},
    )
    data = message.to_dict()
    assert data["tool_calls"] == [{"id": "c1", "name": "search", "arguments": {"q": "paris"}}]
    assert Message.from_dict(data) == message
    assert user("hi").to_dict() == {"role": "user", "content": "hi"}


def test_message_from_dict_needs_role() -> None:
    with pytest.raises(UsageError, match="needs a 'role'"):
        Message.from_dict({"content": "x"})


def test_tool_call_from_dict_names_missing_key() -> None:
    with pytest.raises(UsageError, match="'name' is missing"):
        ToolCall.from_dict({"id": "1"})


def test_chat_result_message_and_round_trip() -> None:
    result = ChatResult(
        "hi", [ToolCall("1", "f", {"a": 1})], Usage(3, 1), "tool_calls", {"model": "m"}
    )
    message = result.message
    assert message.role == "assistant" and message.content == "hi"
    assert message.usage == Usage(3, 1)
    assert message.metadata == {"model": "m", "finish_reason": "tool_calls"}
    assert ChatResult.from_dict(result.to_dict()) == result
    assert ChatResult("plain").to_dict() == {"text": "plain"}
    with pytest.raises(UsageError, match="needs a 'text'"):
        ChatResult.from_dict({"tool_calls": []})


def test_to_messages_accepts_the_documented_forms() -> None:
    assert to_messages("hi") == [user("hi")]
    assert to_messages(system("s")) == [system("s")]
    mixed = to_messages(
        [system("s"), ("human", "q"), {"role": "ai", "content": "a"}, ("tool", "r")]
    )
    assert [m.role for m in mixed] == ["system", "user", "assistant", "tool"]
    assert to_messages({"messages": [("user", "x")]}) == [user("x")]
    assert to_messages({"role": "user", "content": "y"}) == [user("y")]


def test_to_messages_rejects_other_inputs_saying_what_is_accepted() -> None:
    with pytest.raises(UsageError, match="Put a prompt template before the model"):
        to_messages({"question": "x"})
    with pytest.raises(UsageError, match="cannot take int as input; it accepts a string"):
        to_messages(42)
    with pytest.raises(UsageError, match="item 1 of the message list"):
        to_messages([user("a"), 3])
    with pytest.raises(UsageError, match="unknown message role 'robot'"):
        to_messages([("robot", "x")])


@pytest.mark.parametrize(
    ("raw", "arguments"),
    [('{"q": "x"}', {"q": "x"}), ({"q": "x"}, {"q": "x"}), ("", {}), ("  ", {}), (None, {})],
)
def test_tool_call_parse_reads_json_objects_dicts_and_nothing(raw: object, arguments: dict) -> None:
    call = ToolCall.parse("c1", "search", raw)
    assert call == ToolCall("c1", "search", arguments)
    assert (call.arguments_error, call.raw_arguments) == (None, None)


@pytest.mark.parametrize(
    ("raw", "kept", "problem"),
    [
        (
            '{"expression": 2+',
            '{"expression": 2+',
            "not valid JSON (Expecting ',' delimiter: line 1 column 17",
        ),
        ('["a", 1]', '["a", 1]', "not a JSON object (got a JSON array)"),
        ('"just text"', '"just text"', "not a JSON object (got a JSON string)"),
        ([1, 2], "[1, 2]", "not a JSON object (got a JSON array)"),
    ],
)
def test_tool_call_parse_keeps_malformed_arguments_instead_of_raising(
    raw: object, kept: str, problem: str
) -> None:
    call = ToolCall.parse("c1", "calculator", raw)
    assert (call.id, call.name, call.arguments, call.raw_arguments) == (
        "c1", "calculator", {}, kept,
    )  # fmt: skip
    assert call.arguments_error is not None and call.arguments_error.startswith(problem)


def test_malformed_tool_call_survives_dict_round_trips() -> None:
    bad = ToolCall.parse("c1", "calculator", '{"expression": 2+')
    data = bad.to_dict()
    assert data["arguments"] == {} and data["raw_arguments"] == '{"expression": 2+'
    assert ToolCall.from_dict(data) == bad
    message = Message("assistant", "", [bad, ToolCall("c2", "f", {"a": 1})])
    assert Message.from_dict(message.to_dict()).tool_calls == message.tool_calls
    # a script may give the arguments as the model's text, as OpenAI sends them
    assert (
        ToolCall.from_dict({"id": "c1", "name": "calculator", "arguments": '{"expression": 2+'})
        == bad
    )
    assert ToolCall.from_dict({"id": "c3", "name": "f", "arguments": '{"a": 1}'}) == ToolCall(
        "c3", "f", {"a": 1}
    )
    assert "raw_arguments" not in ToolCall("c2", "f", {"a": 1}).to_dict()
