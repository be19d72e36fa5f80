"""FakeListModel and FunctionModel: cycling, call log, limits, streaming, latency, tools."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import agentkit.llms.fake as fake_module
from agentkit.core.errors import UsageError
from agentkit.llms import (
    ChatResult,
    FakeListModel,
    FunctionModel,
    GenerationParams,
    Message,
    ToolCall,
    Usage,
    system,
    user,
)
from agentkit.llms.fake import apply_limits, split_tokens


def test_cycles_through_responses() -> None:
    model = FakeListModel(["one", "two"])
    assert [model.invoke("q").content for _ in range(5)] == ["one", "two", "one", "two", "one"]


def test_records_calls_as_message_lists() -> None:
    model = FakeListModel(["ok"])
    model.invoke("first")
    model.invoke([system("be brief"), user("second")])
    assert model.calls == [[user("first")], [system("be brief"), user("second")]]


def test_bound_copies_share_the_call_log_and_cycle() -> None:
    model = FakeListModel(["a", "b", "c"])
    bound = model.bind(temperature=0)
    assert model.invoke("1").content == "a"
    assert bound.invoke("2").content == "b"
    assert len(model.calls) == 2 and bound.calls is model.calls


def test_call_log_is_thread_safe() -> None:
    model = FakeListModel(["a", "b"])
    outputs: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            text = model.invoke("q").content
            with lock:
                outputs.append(text)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(model.calls) == 400
    assert outputs.count("a") == outputs.count("b") == 200


def test_usage_counts_whitespace_tokens() -> None:
    message = FakeListModel(["three word reply"]).invoke([system("be nice"), user("hi you")])
    assert message.usage == Usage(prompt_tokens=4, completion_tokens=3)
    assert message.metadata["finish_reason"] == "stop"


def test_stop_strings_cut_at_the_first_occurrence() -> None:
    model = FakeListModel(["Answer: 42\nObservation: none"])
    result = model.generate([user("q")], GenerationParams(stop=("Observation:", "\n")))
    assert result.text == "Answer: 42"
    assert result.finish_reason == "stop"
    assert result.usage.completion_tokens == 2


def test_max_new_tokens_truncates_with_length_reason() -> None:
    model = FakeListModel(["a b c d e"], params={"max_new_tokens": 3})
    message = model.invoke("q")
    assert message.content == "a b c"
    assert message.metadata["finish_reason"] == "length"
    assert message.usage is not None and message.usage.completion_tokens == 3


def test_apply_limits_leaves_short_text_alone() -> None:
    assert apply_limits("a b", GenerationParams(max_new_tokens=2, stop=("z",))) == ("a b", None)


@pytest.mark.parametrize("text", ["", "one", "  lead and  double  ", "line\nbreak\n\n", "\t"])
def test_split_tokens_keeps_whitespace(text: str) -> None:
    assert "".join(split_tokens(text)) == text


def test_stream_yields_tokens_that_join_to_the_reply() -> None:
    text = "Hello  world,\nhow are you? "
    chunks = list(FakeListModel([text]).stream("hi"))
    assert [c.content for c in chunks] == ["Hello", "  world,", "\nhow", " are", " you?", " "]
    assert all(c.usage is None for c in chunks[:-1])
    joined = chunks[0]
    for chunk in chunks[1:]:
        joined = joined + chunk
    assert joined == FakeListModel([text]).invoke("hi")


def test_stream_honours_stop_and_empty_replies() -> None:
    model = FakeListModel(["alpha beta. gamma"]).bind(stop=["."])
    assert "".join(c.content for c in model.stream("q")) == "alpha beta"
    chunks = list(FakeListModel([""]).stream("q"))
    assert len(chunks) == 1 and chunks[0].content == ""
    assert chunks[0].usage == Usage(1, 0)


def test_tool_call_results() -> None:
    call = ToolCall("call-1", "calculator", {"expression": "2+2"})
    model = FakeListModel([ChatResult("", [call], finish_reason="tool_calls"), "It is 4."])
    first = model.invoke("what is 2+2?")
    assert first.tool_calls == [call]
    assert first.metadata["finish_reason"] == "tool_calls"
    assert model.invoke("go on").content == "It is 4."
    chunks = list(model.stream("again"))
    assert chunks[-1].tool_calls == [call]
    first.tool_calls.append(call)  # the canned result is not shared with callers
    assert model.invoke("x").tool_calls == []
    assert len(model.invoke("y").tool_calls) == 1


def test_canned_usage_is_kept() -> None:
    model = FakeListModel([ChatResult("hi", usage=Usage(100, 7))])
    assert model.invoke("q").usage == Usage(100, 7)


def test_invalid_constructor_arguments() -> None:
    with pytest.raises(UsageError, match="non-empty list of responses"):
        FakeListModel([])
    with pytest.raises(UsageError, match="non-empty list of responses"):
        FakeListModel("just one")
    with pytest.raises(UsageError, match="must be a str or a ChatResult"):
        FakeListModel([42])  # type: ignore[list-item]
    with pytest.raises(UsageError, match="latency must be a number of seconds >= 0"):
        FakeListModel(["a"], latency=-1)
    with pytest.raises(UsageError, match="plain \\(sync\\) function"):
        FunctionModel("not callable")  # type: ignore[arg-type]


def test_function_model_receives_messages_and_merged_params() -> None:
    seen: list[tuple[list[Message], GenerationParams]] = []

    def answer(messages: list[Message], params: GenerationParams) -> str:
        seen.append((messages, params))
        return messages[-1].content.upper()

    model = FunctionModel(answer, params={"temperature": 0.5}).bind(seed=1)
    assert model.invoke("shout").content == "SHOUT"
    messages, params = seen[0]
    assert messages == [user("shout")]
    assert params == GenerationParams(temperature=0.5, seed=1)
    assert model.calls == [[user("shout")]]


def test_function_model_returns_chat_results_and_rejects_other_types() -> None:
    call = ToolCall("1", "search", {"q": "x"})
    model = FunctionModel(lambda m, p: ChatResult("", [call], finish_reason="tool_calls"))
    assert model.invoke("q").tool_calls == [call]
    bad = FunctionModel(lambda m, p: 42)  # type: ignore[arg-type,return-value]
    with pytest.raises(UsageError, match="must be a str or a ChatResult, got int"):
        bad.invoke("q")


def test_function_model_async_functions_are_rejected() -> None:
    async def answer(messages: list[Message], params: GenerationParams) -> str:
        return "x"

    with pytest.raises(UsageError, match="sync"):
        FunctionModel(answer)  # type: ignore[arg-type]


def test_function_model_stream_fn_supplies_chunks() -> None:
    def pieces(messages: list[Message], params: GenerationParams) -> Iterator[str]:
        yield from ["Hel", "lo", " wor", "ld"]

    model = FunctionModel(lambda m, p: "Hello world", stream_fn=pieces)
    assert [c.content for c in model.stream("q")] == ["Hel", "lo", " wor", "ld"]
    cut = model.bind(stop=["wo"])
    assert [c.content for c in cut.stream("q")] == ["Hel", "lo", " "]


def _record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(fake_module.time, "sleep", slept.append)
    return slept


def test_simulated_latency_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = _record_sleeps(monkeypatch)
    model = FakeListModel(["a b c"], latency=0.5, token_latency=0.25)
    model.invoke("q")
    assert slept == [1.25]  # 0.5 + 3 * 0.25
    slept.clear()
    list(model.stream("q"))
    assert slept == [0.75, 0.25, 0.25]
    slept.clear()
    model.generate_batch([[user("1")], [user("2")]])
    assert slept == [1.25]  # one simulated batched call


def test_no_sleep_without_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    slept = _record_sleeps(monkeypatch)
    model = FakeListModel(["a b c"])
    model.invoke("q")
    list(model.stream("q"))
    assert slept == []


def test_async_calls_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    real_sleep = asyncio.sleep
    state = {"now": 0, "max": 0}

    async def counting_sleep(delay: float, *args: Any) -> Any:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        try:
            return await real_sleep(delay, *args)
        finally:
            state["now"] -= 1

    monkeypatch.setattr(fake_module.asyncio, "sleep", counting_sleep)
    model = FakeListModel(["x"], latency=0.02)
    outputs = asyncio.run(model.abatch([f"q{i}" for i in range(30)], max_concurrency=30))
    assert [m.content for m in outputs] == ["x"] * 30
    assert state["max"] == 30
    state["max"] = 0

    async def two_streams() -> list[list[Message]]:
        async def collect() -> list[Message]:
            return [c async for c in model.astream("q")]

        return list(await asyncio.gather(collect(), collect()))

    assert all(len(chunks) == 1 for chunks in asyncio.run(two_streams()))
    assert state["max"] == 2
