"""Summary and summary-buffer memories, driven by fake models."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit.core import UsageError, spec
from agentkit.llms import FakeListModel, FunctionModel
from agentkit.llms.messages import Message, assistant, user
from agentkit.llms.params import GenerationParams
from agentkit.memory import SQLiteHistoryStore, SummaryBufferMemory, SummaryMemory
from agentkit.prompts import PromptTemplate


def words(text: str) -> int:
    return len(text.split())


def echo_new_lines(messages: list[Message], params: GenerationParams) -> str:
    """A 'summariser' that appends the new lines to the old summary, to check the prompt."""
    prompt = messages[-1].content
    old = prompt.split("Current summary:\n")[1].split("\n\nNew lines")[0]
    new = prompt.split("New lines of conversation:\n")[1].split("\n\nNew summary:")[0]
    base = "" if old == "(none yet)" else old + " | "
    return base + new.replace("\n", " / ")


def test_summary_memory_summarises_every_turn_with_the_bundled_prompt() -> None:
    model = FakeListModel(["Ann introduced herself.", "Ann said she likes owls."])
    memory = SummaryMemory(model)
    assert memory.load("s") == []
    memory.save("s", [user("I am Ann"), assistant("Hello Ann")])
    memory.save("s", [user("I like owls"), assistant("Nice")])
    loaded = memory.load("s")
    assert [(m.role, m.content) for m in loaded] == [
        ("system", "Summary of the earlier conversation:\nAnn said she likes owls."),
    ]
    second_prompt = model.calls[1][-1].content
    assert "Current summary:\nAnn introduced herself." in second_prompt
    assert "Human: I like owls\nAI: Nice" in second_prompt
    assert "I am Ann" not in second_prompt  # only the new lines are sent
    assert len(memory.store.messages("s")) == 4  # the full history is still stored


def test_summary_buffer_keeps_recent_turns_and_folds_older_ones() -> None:
    model = FunctionModel(echo_new_lines)
    memory = SummaryBufferMemory(model, max_tokens=4, tokenizer=words)
    memory.save("s", [user("one two"), assistant("three")])
    assert [m.content for m in memory.load("s")] == ["one two", "three"]  # 3 words <= 4
    assert model.calls == []
    memory.save("s", [user("four"), assistant("five six")])  # 6 words: fold the first turn
    loaded = memory.load("s")
    assert loaded[0].role == "system"
    assert loaded[0].content.endswith("Human: one two / AI: three")
    assert [m.content for m in loaded[1:]] == ["four", "five six"]
    memory.save("s", [user("seven"), assistant("eight")])
    assert memory.summary("s") == "Human: one two / AI: three | Human: four / AI: five six"
    assert [m.content for m in memory.load("s")[1:]] == ["seven", "eight"]
    assert len(model.calls) == 2


def test_the_summary_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    first = SummaryBufferMemory(FakeListModel(["They greeted."]), 2, SQLiteHistoryStore(path))
    first.save("s", [user("hello there"), assistant("hi")])
    first.save("s", [user("ok")])
    model = FakeListModel(["unused"])
    again = SummaryBufferMemory(model, 2, SQLiteHistoryStore(path))
    assert [m.content for m in again.load("s")] == [
        "Summary of the earlier conversation:\nThey greeted.",
        "ok",
    ]
    assert model.calls == []


def test_a_failed_summary_keeps_the_turn_and_catches_up_later() -> None:
    replies = iter([RuntimeError("model down"), "Summary of both turns."])

    def flaky(messages: list[Message], params: GenerationParams) -> str:
        reply = next(replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    memory = SummaryMemory(FunctionModel(flaky))
    with pytest.raises(RuntimeError):
        memory.save("s", [user("first"), assistant("one")])
    assert [m.content for m in memory.load("s")] == ["first", "one"]  # kept verbatim
    memory.save("s", [user("second"), assistant("two")])
    assert [m.content for m in memory.load("s")] == [
        "Summary of the earlier conversation:\nSummary of both turns."
    ]


def test_summary_role_and_custom_prompt() -> None:
    model = FakeListModel(["short"])
    prompt = PromptTemplate("Old: {summary}\nNew: {new_lines}\nSummary:")
    memory = SummaryMemory(model, prompt=prompt, summary_role="user", human_prefix="User")
    memory.save("s", [user("hi"), assistant("hello")])
    assert model.calls[0][-1].content == "Old: (none yet)\nNew: User: hi\nAI: hello\nSummary:"
    assert memory.load("s")[0].role == "user"
    with pytest.raises(UsageError, match="new_lines"):
        SummaryMemory(model, prompt="Summarise {text}")
    with pytest.raises(UsageError, match="summary_role"):
        SummaryMemory(model, summary_role="tool")
    with pytest.raises(UsageError, match="Runnable"):
        SummaryMemory("not a model")  # type: ignore[arg-type]


def test_load_memory_variables_as_text_includes_the_summary() -> None:
    memory = SummaryBufferMemory(FakeListModel(["S."]), max_tokens=0, return_messages=False)
    memory.save_context({"input": "hi"}, {"output": "hello"})
    assert memory.load_memory_variables() == {
        "history": "System: Summary of the earlier conversation:\nS."
    }


def test_summary_memories_round_trip_through_specs(tmp_path: Path) -> None:
    store = SQLiteHistoryStore(tmp_path / "h.db")
    prompt = PromptTemplate("{summary} + {new_lines}")
    memories = [
        SummaryMemory(FakeListModel(["x"]), store, prompt=prompt),
        SummaryBufferMemory(FakeListModel(["y"]), 100, store, summary_role="assistant"),
    ]
    for memory in memories:
        data = memory.to_dict()
        loaded = spec.load(data)
        assert type(loaded) is type(memory) and loaded.to_dict() == data
    assert "max_tokens" not in memories[0].to_dict()
    assert memories[0].to_dict()["prompt"]["template"] == "{summary} + {new_lines}"


def test_a_slow_summary_of_one_session_does_not_hold_up_another() -> None:
    import threading

    entered, release = threading.Event(), threading.Event()

    def summarise(messages: list[Message], params: GenerationParams) -> str:
        if "slow session" in messages[-1].content:
            entered.set()
            assert release.wait(10), "the test never released the slow summary"
        return "summary"

    memory = SummaryMemory(FunctionModel(summarise))
    slow = threading.Thread(target=memory.save, args=("a", [user("slow session"), assistant("ok")]))
    slow.start()
    assert entered.wait(10)
    done = threading.Event()
    fast = threading.Thread(
        target=lambda: (memory.save("b", [user("quick"), assistant("ok")]), done.set())
    )
    fast.start()
    try:
        assert done.wait(5), "session b waited for session a's summary"
        assert memory.summary("b") == "summary" and memory.summary("a") == ""
    finally:
        release.set()
        slow.join(10)
        fast.join(10)
    assert memory.summary("a") == "summary"
