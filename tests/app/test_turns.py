"""Turns stream tokens and steps from a worker thread, can be cancelled, and are recorded
in chat sessions with their sources, steps, cost and feedback."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import UsageError, WiringError
from agentkit.llms import FakeListModel, user
from agentkit.llms.messages import Message
from agentkit.memory import InMemoryHistoryStore
from agentkit.workspace.chains import ChainSettings, HistoryMemory, build_chain
from agentkit.workspace.sessions import ChatSessions, check_session_id
from agentkit.workspace.sources import sources_of
from agentkit.workspace.turns import Turn, answer_of, chain_input
from tests.app import fixtures


def test_rag_turn_streams_tokens_then_records_sources_steps_and_usage(tmp_path: Path) -> None:
    model = fixtures.fake_model()
    chain = build_chain(ChainSettings("rag", k=2), model, fixtures.docs_index(tmp_path / "ix"))
    turn = Turn(chain, "How big is the Amazon?").start()
    tokens = list(turn.tokens())
    result = turn.wait(5)
    assert result is not None and result.error is None
    assert len(tokens) > 3 and "".join(tokens) == fixtures.ANSWER
    assert result.answer == fixtures.ANSWER
    assert [s["title"] for s in result.sources] == ["Amazon rainforest", "Black Death"]
    assert result.sources[0]["link"] == "documents?doc=amazon_rainforest.md&chunk=amazon%231"
    # hybrid retrieval (BM25 and dense fused), then the model
    assert [s["span_kind"] for s in result.steps] == ["retriever"] * 3 + ["model"]
    assert result.prompt_tokens > 0 and result.completion_tokens == len(fixtures.ANSWER.split())
    assert result.ttft is not None and result.latency >= result.ttft
    assert "How big is the Amazon?" in "\n".join(m.content for m in model.calls[0])


def test_agent_turn_reports_steps() -> None:
    turn = Turn(fixtures.fake_agent_chain(), "What is 25% of 300?").start()
    steps = [e.value for e in turn.events() if e.kind == "step"]
    result = turn.wait(5)
    assert result is not None
    assert result.answer == "25% of 300 is 75."
    assert steps == result.steps
    assert steps[0]["tool"] == "calculator" and steps[0]["observation"] == "75"
    assert list(turn.tokens()) == ["25% of 300 is 75."]  # replayed from the start


def test_text_chain_streams_its_own_chunks() -> None:
    turn = Turn(fixtures.fake_text_chain(), "Amazon?").start()
    tokens = list(turn.tokens())
    assert len(tokens) > 1 and "".join(tokens) == fixtures.ANSWER
    assert turn.wait(5) is not None and turn.result is not None
    assert turn.result.sources == []


def test_cancel_keeps_the_partial_answer() -> None:
    gate = threading.Event()

    def slow_chain() -> Any:
        model = FakeListModel(["one two three four five six"], token_latency=0.05)
        return build_chain(ChainSettings("chat"), model)

    turn = Turn(slow_chain(), "count").start()
    for event in turn.events():
        if event.kind == "token":
            turn.cancel()
            gate.set()
            break
    result = turn.wait(5)
    assert gate.is_set() and result is not None
    assert result.stopped is True and result.error is None
    assert 1 <= len(result.answer.split()) < 6


def test_chain_errors_become_the_result_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = fixtures.docs_index(tmp_path / "ix")

    def offline(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("index offline")

    monkeypatch.setattr(index.store, "search", offline)
    chain = build_chain(ChainSettings("rag"), FakeListModel(["x"]), index)
    result = Turn(chain, "q").start().wait(5)
    assert result is not None and result.answer == ""
    assert result.error is not None and "index offline" in result.error


def test_chain_input_and_answer_of() -> None:
    history = [user("hi")]
    assert chain_input(fixtures.fake_rag_chain(), "q") == {"query": "q"}
    assert chain_input(fixtures.fake_text_chain(), "q") == "q"
    assert chain_input(fixtures.fake_agent_chain(), "q") == {"input": "q"}

    class Keys:
        input_keys = ("question", "chat_history")

    assert chain_input(Keys(), "q", history) == {"question": "q", "chat_history": history}

    class Bad:
        input_keys = ("product",)

    with pytest.raises(WiringError, match="'product'"):
        chain_input(Bad(), "q")
    assert answer_of({"result": Message("assistant", "a")}) == "a"
    assert answer_of({"response": "b"}) == "b"
    assert answer_of(None) == ""


def test_sources_of_reads_documents_and_citations() -> None:
    out = sources_of({"sources": [{"id": "x", "source": "a/b.md", "snippet": "s", "score": 2}]})
    assert out == [
        {
            "id": "x",
            "title": "b.md",
            "source": "a/b.md",
            "snippet": "s",
            "passage": "s",
            "score": 2.0,
            "link": "documents?doc=a%2Fb.md&chunk=x",
        }
    ]
    doc = fixtures.DOCS[0].with_score(0.5)
    doc.metadata["url"] = "https://example.org/amazon"
    assert sources_of([doc])[0]["link"] == "https://example.org/amazon"
    assert sources_of("text") == [] and sources_of({"result": "a"}) == []


def test_history_memory_reads_the_last_turns_and_never_writes() -> None:
    store = InMemoryHistoryStore()
    for i in range(4):
        store.append("s", [user(f"q{i}"), Message("assistant", f"a{i}")])
    memory = HistoryMemory(store, turns=2)
    assert [m.content for m in memory.load("s")] == ["q2", "a2", "q3", "a3"]
    memory.save("s", [user("x")])
    assert len(store.messages("s")) == 8


def test_sessions_record_feedback_and_history(tmp_path: Path) -> None:
    sessions = ChatSessions(tmp_path / "h.sqlite")
    chain = fixtures.fake_rag_chain()
    result = Turn(chain, "How big?", "s1").start().wait(5)
    assert result is not None
    index = sessions.record("s1", "How big?", result)
    entries = sessions.entries("s1")
    assert index == 1 and [e.role for e in entries] == ["user", "assistant"]
    assert entries[1].metadata["sources"][0]["title"] == "Amazon rainforest"
    assert entries[1].metadata["latency"] == result.latency
    sessions.set_feedback("s1", 1, -1)
    assert sessions.entries("s1")[1].feedback == -1
    sessions.set_feedback("s1", 1, None)
    assert sessions.entries("s1")[1].feedback is None
    with pytest.raises(UsageError, match="not an answer"):
        sessions.set_feedback("s1", 0, 1)
    with pytest.raises(UsageError, match="feedback must be"):
        sessions.set_feedback("s1", 1, 5)
    assert [s.id for s in sessions.recent()] == ["s1"]
    assert sessions.recent()[0].title == "How big?"
    assert [m.content for m in sessions.history("s1")] == ["How big?", fixtures.ANSWER]
    with pytest.raises(UsageError, match="invalid session id"):
        check_session_id("../etc")


def test_the_chat_chain_sees_the_session_history(tmp_path: Path) -> None:
    sessions = ChatSessions(tmp_path / "h.sqlite")
    model = FakeListModel(["first answer", "second answer"])
    chain = build_chain(ChainSettings("chat"), model, memory=HistoryMemory(sessions.store))
    for question in ("My name is Ada.", "What is my name?"):
        turn = Turn(chain, question, "s", sessions.history("s")).start()
        result = turn.wait(5)
        assert result is not None and result.error is None
        sessions.record("s", question, result)
    second_call = [(m.role, m.content) for m in model.calls[1]]
    assert ("user", "My name is Ada.") in second_call
    assert ("assistant", "first answer") in second_call
    assert second_call[-1] == ("user", "What is my name?")
    assert len(sessions.history("s")) == 4  # the memory wrote nothing twice


def test_steps_keep_at_most_the_start_of_a_long_prompt(tmp_path: Path) -> None:
    from agentkit.retrievers import Document
    from agentkit.workspace.turns import STEP_CHARS, _bounded

    docs = [Document("z" * 20_000, id="long", source="long.md")]
    index = fixtures.docs_index(tmp_path / "ix", docs)
    chain = build_chain(ChainSettings("rag", k=1), FakeListModel(["ok"]), index)
    result = Turn(chain, "and now?", "s").start().wait(5)
    assert result is not None and result.error is None
    for step in result.steps:
        for value in (step["input"], step["output"]):
            assert len(str(value)) < STEP_CHARS + 50
    assert _bounded("a" * (STEP_CHARS + 7)) == "a" * STEP_CHARS + " [... 7 more characters]"
    assert _bounded(["short", 1]) == ["short", 1]  # small values keep their shape
