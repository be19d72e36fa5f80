"""Memories inside ConversationChain, with the session id from the run config."""

from __future__ import annotations

import asyncio
from pathlib import Path

import agentkit
from agentkit.chains import ConversationChain
from agentkit.core import RunConfig
from agentkit.llms import FakeListModel
from agentkit.memory import BufferMemory, SQLiteHistoryStore, SummaryBufferMemory, WindowMemory


def test_conversation_chain_keeps_sessions_apart_by_session_id(tmp_path: Path) -> None:
    model = FakeListModel(["Hi Ann", "Hi Bob", "You are Ann"])
    memory = BufferMemory(SQLiteHistoryStore(tmp_path / "h.db"))
    chain = ConversationChain(model, memory)
    ann = RunConfig(configurable={"session_id": "ann"})
    bob = RunConfig(configurable={"session_id": "bob"})
    chain.invoke("I am Ann", ann)
    chain.invoke("I am Bob", bob)
    assert chain.invoke("Who am I?", ann)["response"] == "You are Ann"
    third = model.calls[2]
    assert [m.content for m in third[1:]] == ["I am Ann", "Hi Ann", "Who am I?"]
    assert [m.content for m in memory.store.messages("bob")] == ["I am Bob", "Hi Bob"]
    assert sorted(memory.store.sessions()) == ["ann", "bob"]


def test_window_memory_limits_what_the_chain_sends() -> None:
    model = FakeListModel(["r0", "r1", "r2"])
    chain = ConversationChain(model, WindowMemory(k=1))
    for question in ("q0", "q1", "q2"):
        chain.invoke(question)
    assert [m.content for m in model.calls[2][1:]] == ["q1", "r1", "q2"]


def test_summary_buffer_memory_in_an_async_chain() -> None:
    model = FakeListModel(["answer one", "SUMMARY", "answer two"])
    memory = SummaryBufferMemory(model, max_tokens=3)
    chain = ConversationChain(model, memory)
    config = RunConfig(configurable={"session_id": "s"})
    asyncio.run(chain.ainvoke("first question here", config))
    asyncio.run(chain.ainvoke("second", config))
    second_turn = model.calls[2]  # calls: answer, summary, answer, summary
    assert second_turn[1].role == "system" and "SUMMARY" in second_turn[1].content
    assert [m.content for m in second_turn[2:]] == ["second"]
    assert (
        "SUMMARY\n\nNew lines of conversation:\nHuman: second\nAI: answer two"
        in model.calls[3][0].content
    )


def test_a_chain_with_memory_saves_and_loads(tmp_path: Path) -> None:
    memory = BufferMemory(SQLiteHistoryStore(tmp_path / "h.db"))
    chain = ConversationChain(FakeListModel(["hello"]), memory)
    chain.invoke("hi", {"configurable": {"session_id": "x"}})
    agentkit.save(chain, tmp_path / "chain.yaml")
    loaded = agentkit.load(tmp_path / "chain.yaml")
    assert isinstance(loaded.memory, BufferMemory)
    assert [m.content for m in loaded.memory.load("x")] == ["hi", "hello"]
