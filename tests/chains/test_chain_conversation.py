"""ConversationChain with any load/save memory; sessions come from the run config."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import agentkit
from agentkit.chains import ConversationChain
from agentkit.core import SpecError, UsageError, spec
from agentkit.llms import FakeListModel, Message
from agentkit.prompts import ChatPromptTemplate, MessagesPlaceholder


class ListMemory:
    """A minimal in-process memory: every message of each session, in order."""

    def __init__(self, sessions: dict[str, list[Message]] | None = None) -> None:
        self.sessions: dict[str, list[Message]] = sessions or {}

    def load(self, session: str) -> list[Message]:
        return list(self.sessions.get(session, []))

    def save(self, session: str, turn: Sequence[Message]) -> None:
        self.sessions.setdefault(session, []).extend(turn)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "test_list_memory"}


spec.add_builder("test_list_memory", lambda ctx: ListMemory())


class NoSpecMemory(ListMemory):
    to_dict = None  # type: ignore[assignment]


def test_history_is_loaded_into_the_prompt_and_the_turn_saved() -> None:
    model = FakeListModel(["Hi Ann!", "Your name is Ann."])
    memory = ListMemory()
    chain = ConversationChain(model, memory)
    assert chain.invoke("I am Ann") == {"input": "I am Ann", "response": "Hi Ann!"}
    assert chain.run("What is my name?") == "Your name is Ann."
    second_call = model.calls[1]
    assert [m.role for m in second_call] == ["system", "user", "assistant", "user"]
    assert [m.content for m in second_call[1:]] == ["I am Ann", "Hi Ann!", "What is my name?"]
    assert [(m.role, m.content) for m in memory.sessions["default"]] == [
        ("user", "I am Ann"),
        ("assistant", "Hi Ann!"),
        ("user", "What is my name?"),
        ("assistant", "Your name is Ann."),
    ]


def test_sessions_are_kept_apart_by_config() -> None:
    memory = ListMemory()
    chain = ConversationChain(FakeListModel(["ok"]), memory)
    chain.invoke("from alice", {"configurable": {"session_id": "alice"}})
    chain.invoke("from bob", {"configurable": {"session_id": "bob"}})
    assert [m.content for m in memory.sessions["alice"]] == ["from alice", "ok"]
    assert [m.content for m in memory.sessions["bob"]] == ["from bob", "ok"]


def test_custom_keys_and_prompt() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are {persona}."), MessagesPlaceholder("history"), ("user", "{question}")]
    )
    memory = ListMemory()
    chain = ConversationChain(
        FakeListModel(["Arr"]),
        memory,
        prompt,
        input_key="question",
        output_key="answer",
        session_key="user",
    )
    assert chain.input_keys == ["persona", "question"]
    result = chain.invoke(
        {"persona": "a pirate", "question": "hi"}, {"configurable": {"user": "u1"}}
    )
    assert result["answer"] == "Arr"
    assert [m.content for m in memory.sessions["u1"]] == ["hi", "Arr"]


def test_prompt_must_have_history_and_input() -> None:
    prompt = ChatPromptTemplate.from_messages([("user", "{input}")])
    with pytest.raises(UsageError, match=r"lacks the variable\(s\) \['history'\]"):
        ConversationChain(FakeListModel(["x"]), ListMemory(), prompt)


def test_memory_needs_load_and_save() -> None:
    with pytest.raises(UsageError, match="must have load"):
        ConversationChain(FakeListModel(["x"]), object())  # type: ignore[arg-type]


def test_async_matches_sync() -> None:
    sync_memory, async_memory = ListMemory(), ListMemory()
    sync = ConversationChain(FakeListModel(["a", "b"]), sync_memory)
    other = ConversationChain(FakeListModel(["a", "b"]), async_memory)
    for text in ("one", "two"):
        assert asyncio.run(other.ainvoke(text)) == sync.invoke(text)
    assert [m.content for m in async_memory.sessions["default"]] == ["one", "a", "two", "b"]


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    chain = ConversationChain(FakeListModel(["Hello"]), ListMemory(), session_key="sid")
    loaded = agentkit.load(agentkit.save(chain, tmp_path / "conversation.yaml"))
    assert isinstance(loaded, ConversationChain)
    assert loaded.session_key == "sid"
    assert loaded.invoke("hi") == chain.invoke("hi")


def test_memory_without_to_dict_gives_a_spec_error() -> None:
    chain = ConversationChain(FakeListModel(["x"]), NoSpecMemory())
    with pytest.raises(
        SpecError, match=r"\$\.memory: the memory NoSpecMemory cannot be serialised"
    ):
        chain.to_dict()


def test_loading_a_non_memory_gives_a_spec_error() -> None:
    data = ConversationChain(FakeListModel(["x"]), ListMemory()).to_dict()
    data["memory"] = {"type": "str_parser"}
    with pytest.raises(SpecError, match=r"\$\.memory: StrOutputParser is not a memory"):
        spec.load(data)
