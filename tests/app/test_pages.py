"""Every page of the app, headless (Streamlit's AppTest), with fake models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit.workspace.sessions import ChatSessions
from tests.app import fixtures
from tests.app.conftest import PAGES, history_of, uploads_of
from tests.app.test_runs_graphs import make_run

RAG = "tests.app.fixtures:fake_rag_chain"
AGENT = "tests.app.fixtures:fake_agent_chain"


def texts(at: Any) -> str:
    """Everything the page shows as text (markdown, captions, text, code)."""
    parts = [e.value for kind in ("markdown", "caption", "text", "code") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def ask(at: Any, question: str) -> Any:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def test_chat_turn_shows_answer_sources_steps_and_stats(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = ask(make_app(), "How big is the Amazon rainforest?")
    user, answer = at.chat_message
    assert user.name == "user" and answer.name == "assistant"
    assert user.markdown[0].value == "How big is the Amazon rainforest?"
    assert fixtures.ANSWER in [m.value for m in answer.markdown]
    assert [e.label for e in at.main.expander] == ["Sources (2)"]
    shown = texts(at)
    assert "**Amazon rainforest** · retrieval score 1.000" in shown
    # the passage holding the answer is shown with the answer's sentence highlighted
    assert ":orange-background[**The Amazon rainforest covers 5,500,000 square" in shown
    [status] = at.status  # one collapsed status per answer, its steps inside
    assert status.label.startswith("Retrieved 2 passages · ") and status.label.endswith(" s")
    steps = [m.value for m in status.markdown]
    assert steps[0].startswith("**1. StaticRetriever (") and steps[1].startswith(
        "**2. FakeListModel ("
    )
    outputs = [t.value for t in status.text]
    assert any(o.startswith("1. Amazon rainforest: The Amazon rainforest covers") for o in outputs)
    assert not any("Document(" in o or "Message(" in o for o in outputs)  # no Python reprs
    assert any("prompt +" in c.value and "completion tokens" in c.value for c in at.caption)
    session = at.query_params["session"]
    stored = ChatSessions(history_of(app_home)).entries(session)
    assert [e.content for e in stored] == ["How big is the Amazon rainforest?", fixtures.ANSWER]


def test_agent_steps_are_shown_in_status_blocks(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", AGENT)
    at = ask(make_app(), "What is 25% of 300?")
    assert at.chat_message[1].markdown[-1].value == "25% of 300 is 75."
    [status] = at.status
    assert status.label.startswith("1 tool call · ")
    assert status.markdown[0].value.startswith("**1. calculator (")
    assert "25 / 100 * 300" in [c.value for c in status.code]
    assert "75" in [t.value for t in status.text]


def test_feedback_is_saved_with_the_answer(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = ask(make_app(), "How big is the Amazon rainforest?")
    at.feedback[0].set_value(0).run()
    session = at.query_params["session"]
    sessions = ChatSessions(history_of(app_home))
    assert sessions.entries(session)[1].feedback == -1
    at.feedback[0].set_value(1).run()
    assert sessions.entries(session)[1].feedback == 1


def test_a_past_chat_reloads_from_the_url(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    first = ask(make_app(), "How big is the Amazon rainforest?")
    session = first.query_params["session"]
    ChatSessions(history_of(app_home)).set_feedback(session, 1, 1)
    again = make_app(session=session)
    assert again.query_params["session"] == session
    assert [m.name for m in again.chat_message] == ["user", "assistant"]
    assert fixtures.ANSWER in [m.value for m in again.chat_message[1].markdown]
    assert again.feedback[0].value == 1
    assert any(b.label.startswith("How big is the Amazon") and b.disabled for b in again.button)
    fresh = make_app()
    assert fresh.query_params["session"] != session and not fresh.chat_message
    [past] = [b for b in fresh.button if b.label.startswith("How big is the Amazon")]
    past.click().run()
    assert fresh.query_params["session"] == session
    assert len(fresh.chat_message) == 2


def test_untrusted_text_is_escaped_in_the_chat(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = ask(make_app(), "<img src=x onerror=alert(1)> costs $5")
    assert at.chat_message[0].markdown[0].value == "\\<img src=x onerror=alert(1)\\> costs \\$5"


def test_upload_and_ingest(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = make_app("documents")
    assert "No index in" in at.info[0].value
    at.file_uploader[0].set_value(
        [
            ("../amazon notes.md", b"# Amazon\n\nThe Amazon rainforest is huge.", "text/markdown"),
            ("empty.txt", b"", "text/plain"),
        ]
    ).run()
    [ingest] = [b for b in at.button if b.label == "Ingest"]
    ingest.click().run()
    assert not at.exception, at.exception
    report, listing = at.dataframe
    rows = report.value.to_dict("records")
    assert {(r["file"], r["status"]) for r in rows} == {
        ("empty.txt", "rejected"),
        ("amazon_notes.md", "added"),
    }
    assert (uploads_of(app_home) / "amazon_notes.md").is_file()
    assert [m.label for m in at.metric][:2] == ["Documents", "Chunks"]
    assert at.metric[0].value == "1"
    docs = listing.value.to_dict("records")
    assert docs[0]["source"] == "amazon_notes.md"
    view = make_app("documents", doc="amazon_notes.md")
    assert any("The Amazon rainforest is huge." in t.value for t in view.text)


def test_documents_can_be_deleted(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.workspace.documents import ingest_files, list_documents, save_upload

    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    path = save_upload(uploads_of(app_home), "a.md", b"Alpha text here.", 1000)
    ingest_files(app_home / "index", [path], "hashing")
    at = make_app("documents")
    at.checkbox[0].check()
    [delete] = [b for b in at.button if b.label == "Delete"]
    delete.click().run()
    assert not at.exception, at.exception
    assert list_documents(app_home / "index") == [] and not path.exists()
    assert at.success[0].value.startswith("Deleted a.md (")


def test_the_eval_page_lists_runs_and_drills_down(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    make_run(tmp_path / "runs" / "first", ["Paris", "5"])
    make_run(tmp_path / "runs" / "second", ["Paris", "4"])
    at = make_app("evaluations")
    assert not at.exception, at.exception
    run_box = at.selectbox[0]
    assert [o.split(" · ")[:2] for o in run_box.options] == [
        ["second", "2 examples"],
        ["first", "2 examples"],
    ]
    assert [m.label for m in at.metric][:2] == ["em", "f1"]
    assert at.dataframe[0].value.shape[0] == 2
    example = at.selectbox[1]
    example.set_value("q2").run()
    assert "2+2?" in [t.value for t in at.text]
    assert any("FakeListModel [model]" in c.value for c in at.code)
    [compare] = [b for b in at.button if b.label == "Compare"]
    compare.click().run()
    deltas = at.dataframe[-1].value.to_dict("records")
    assert {d["metric"] for d in deltas} >= {"em", "f1"}


def test_the_graph_page_edits_top_k(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import agentkit
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.retrievers.bm25 import BM25Retriever

    bm25 = BM25Retriever(fixtures.DOCS, k=2)
    bm25.save(tmp_path / "bm25")
    chain = RetrievalQA(fixtures.fake_model(), bm25, return_source_documents=True)
    path = agentkit.save(chain, tmp_path / "chain.yaml")
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", str(path))
    at = make_app("graph")
    assert not at.exception, at.exception
    assert any(c.value.startswith("graph TD") for c in at.code)
    assert any("type: retrieval_qa" in c.value for c in at.code)
    [top_k] = [n for n in at.number_input if n.label.startswith("Top-k of bm25_retriever")]
    assert top_k.value == 2
    top_k.set_value(1)
    [apply] = [b for b in at.button if b.label == "Apply"]
    apply.click().run()
    assert not at.exception, at.exception
    assert "Applied" in at.success[0].value
    assert any("k: 1" in c.value for c in at.code)
    at.switch_page(PAGES["chat"]).run()
    ask(at, "Amazon rainforest size?")
    assert at.expander[0].label == "Sources (1)"


def build_index(app_home: Path) -> None:
    from agentkit.workspace.documents import ingest_files, save_upload

    files = [
        save_upload(uploads_of(app_home), "amazon.md", b"The Amazon rainforest is vast.", 1000),
        save_upload(uploads_of(app_home), "plague.md", b"The Black Death killed many.", 1000),
        save_upload(uploads_of(app_home), "packets.md", b"Packet switching splits data.", 1000),
    ]
    ingest_files(app_home / "index", files, "hashing")


def test_builtin_rag_chain_streams_the_resolved_model(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.llms.resolve import FAKE_REPLY

    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app()
    assert "Active: **fake**" in texts(at)
    assert at.radio[0].options == ["Ask the documents", "Agent with tools", "Chat"]
    ask(at, "How vast is the Amazon rainforest?")
    assert safe(FAKE_REPLY) in [m.value for m in at.chat_message[1].markdown]
    assert at.expander[0].label == "Sources (3)"
    assert "**amazon.md**" in texts(at)
    [status] = at.status
    assert status.label.startswith("Retrieved 3 passages · ")
    labels = [m.value.split(" (")[0] for m in status.markdown]
    assert labels == [
        "**1. HybridRetriever",
        "**2. BM25Retriever",
        "**3. VectorRetriever",
        "**4. FakeListModel",
    ]


def safe(text: str) -> str:
    from agentkit.app.render import safe_markdown

    return safe_markdown(text)


def test_agent_mode_is_off_with_only_the_extractive_reader(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "extractive")
    build_index(app_home)
    at = make_app()
    assert at.radio[0].options == ["Ask the documents", "Chat"]
    notice = " ".join(i.value for i in at.info)
    assert "Agent mode needs a generative model" in notice and "ollama" in notice


def test_the_graph_page_edits_the_builtin_chain(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app("graph")
    assert not at.exception, at.exception
    assert any("type: hybrid_retriever" in c.value for c in at.code)
    [top_k] = [n for n in at.number_input if n.label == "Top-k (documents retrieved)"]
    top_k.set_value(1)
    [prompt] = [t for t in at.text_area if t.label == "Prompt: qa"]
    prompt.set_value("Only this context: {context}\nQuestion: {question}")
    [apply] = [b for b in at.button if b.label == "Apply"]
    apply.click().run()
    assert not at.exception, at.exception
    [sidebar_k] = [n for n in at.sidebar.number_input if n.label == "Top-k"]
    assert sidebar_k.value == 1
    assert any("Only this context:" in c.value for c in at.code)
    at.switch_page(PAGES["chat"]).run()
    ask(at, "How vast is the Amazon rainforest?")
    assert at.expander[0].label == "Sources (1)"


def test_a_stopped_answer_is_kept_and_marked(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from streamlit.testing.v1 import AppTest

    from agentkit.app import main_script
    from agentkit.llms import FakeListModel
    from agentkit.workspace.chains import ChainSettings, build_chain
    from agentkit.workspace.turns import Turn

    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    slow = FakeListModel(["one two three four five six seven eight"], token_latency=0.2)
    turn = Turn(build_chain(ChainSettings("chat"), slow), "count to eight", "s1").start()
    next(t for t in turn.tokens())  # the answer has started ...
    turn.cancel()  # ... when the Stop button's callback cancels it
    at = AppTest.from_file(str(main_script()), default_timeout=60)
    at.query_params["session"] = "s1"
    at.session_state["ak_turn"] = turn
    at.run()
    assert not at.exception, at.exception
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    partial = at.chat_message[1].markdown[-1].value
    assert partial.startswith("one") and "eight" not in partial
    assert any(c.value.endswith("stopped") for c in at.caption)
    stored = ChatSessions(history_of(app_home)).entries("s1")
    assert stored[1].metadata["stopped"] is True


def test_a_turn_that_cannot_be_saved_is_reported_once_and_the_page_recovers(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(self: Any, session: str, question: str, result: Any) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(ChatSessions, "record", full_disk)
    at = ask(make_app(), "What is 25% of 300?")
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "could not be saved" in errors[0] and "disk full" in errors[0]
    assert "ak_turn" not in at.session_state
    at.run()  # the next run neither retries the save nor repeats the error
    assert not at.exception and not at.error
