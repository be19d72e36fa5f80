"""Seams a user hits clicking through the app: an emptied index, corrupt eval runs, a bad
prompt edit, renaming and deleting chats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit.workspace.sessions import ChatSessions
from tests.app.conftest import PAGES, history_of, uploads_of
from tests.app.test_pages import RAG, ask, build_index
from tests.app.test_runs_graphs import make_run


def test_chat_still_works_after_the_last_document_is_deleted(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.llms.resolve import FAKE_REPLY
    from agentkit.workspace.documents import ingest_files, save_upload

    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    path = save_upload(uploads_of(app_home), "a.md", b"Alpha text here.", 1000)
    ingest_files(app_home / "index", [path], "hashing")
    at = make_app("documents")
    at.checkbox[0].check()
    [delete] = [b for b in at.button if b.label == "Delete"]
    delete.click().run()
    assert "The index is empty." in [i.value for i in at.info]
    at.switch_page(PAGES["chat"]).run()
    at.radio[0].set_value("chat").run()
    ask(at, "Hello there")
    assert not at.error, [e.value for e in at.error]
    assert "fake model" in FAKE_REPLY and "fake model" in at.chat_message[1].markdown[-1].value
    at.radio[0].set_value("rag").run()
    ask(at, "What about the documents?")
    assert any("is empty" in e.value and "Documents page" in e.value for e in at.error)


def test_a_corrupt_or_half_written_run_is_a_message_not_a_traceback(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    make_run(tmp_path / "runs" / "good", ["Paris", "4"])
    odd = tmp_path / "runs" / "odd"
    odd.mkdir(parents=True)
    (odd / "results.jsonl").write_text('{"id": "q1", "question": "x"}\n')
    (odd / "summary.json").write_text('{"metrics": {"em": "n/a", "f1": 0.5}, "examples": "x"}')
    (odd / "run.json").write_text('{"finished": "9999"}')  # listed first
    torn = tmp_path / "runs" / "torn"
    make_run(torn, ["Paris", "5"])
    (torn / "results.jsonl").write_text('{"id": "q1", "question": "Cap')
    at = make_app("evaluations")
    assert not at.exception, at.exception
    names = [o.split(" · ")[0] for o in at.selectbox[0].options]
    assert sorted(names) == ["good", "odd", "torn"] and names[0] == "odd"
    assert [m.label for m in at.metric] == ["f1"]
    at.selectbox[0].set_value("torn").run()
    assert not at.exception, at.exception
    [error] = at.error
    assert "torn" in error.value and "cannot be read" in error.value
    assert "line 1 is not valid JSON" in error.value
    at.selectbox[0].set_value("good").run()
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:2] == ["em", "f1"]


def test_an_invalid_prompt_edit_is_refused_and_the_chain_keeps_working(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app("graph")
    for bad, says in [
        ("Use {context} for {question} {", "Single '{'"),
        ("Use {context} for {question} and {tone}", "{tone}"),
    ]:
        [prompt] = [t for t in at.text_area if t.label == "Prompt: qa"]
        prompt.set_value(bad)
        [apply] = [b for b in at.button if b.label == "Apply"]
        apply.click().run()
        assert not at.exception, at.exception
        assert not at.success
        [error] = at.error
        assert says in error.value and "Prompt: qa" in error.value
    at.switch_page(PAGES["graph"]).run()  # the page still draws the chain
    assert not at.error and any("type: hybrid_retriever" in c.value for c in at.code)
    at.switch_page(PAGES["chat"]).run()
    ask(at, "How vast is the Amazon rainforest?")
    assert not at.error and at.expander[0].label == "Sources (3)"


def test_the_current_chat_can_be_renamed_and_deleted(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = ask(make_app(), "How big is the Amazon rainforest?")
    session = at.query_params["session"]
    sessions = ChatSessions(history_of(app_home))
    [title] = [t for t in at.sidebar.text_input if t.label == "Title"]
    title.set_value("Rainforest <b>facts</b>")
    [rename] = [b for b in at.sidebar.button if b.label == "Rename"]
    rename.click().run()
    assert not at.exception, at.exception
    info = sessions.store.session_info(session)
    assert info is not None and info.title == "Rainforest <b>facts</b>"
    assert any(b.label == "Rainforest \\<b\\>facts\\</b\\>" and b.disabled for b in at.button)
    [delete] = [b for b in at.sidebar.button if b.label == "Delete this chat"]
    delete.click().run()
    assert not at.exception, at.exception
    assert sessions.store.session_info(session) is None and not sessions.recent()
    assert at.query_params["session"] != session and not at.chat_message
    stale = make_app(session=session)  # a bookmarked link to the deleted chat
    assert not stale.exception and not stale.chat_message
    assert stale.query_params["session"] == session


def test_sidebar_choices_survive_a_page_change(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app()
    at.sidebar.selectbox[0].set_value("extractive").run()
    at.sidebar.radio[0].set_value("chat").run()
    [top_k] = [n for n in at.sidebar.number_input if n.label == "Top-k"]
    top_k.set_value(2).run()
    for page in ("documents", "graph", "evaluations", "chat"):
        at.switch_page(PAGES[page]).run()
        assert not at.exception, at.exception
        assert at.sidebar.selectbox[0].value == "extractive", page
        assert at.sidebar.radio[0].value == "chat", page
        [top_k] = [n for n in at.sidebar.number_input if n.label == "Top-k"]
        assert top_k.value == 2, page
