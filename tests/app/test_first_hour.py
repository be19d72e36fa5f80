"""What a new user meets in the app (issue 19): the welcome screen, a bad model choice,
the reader's highlighted span and its abstention, free chat without a generative model,
per-index chat history, a cited chunk opened in Documents, the Graph diagram and the
Evaluations page's comparisons and tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit.workspace.sessions import ChatSessions
from tests.app.conftest import history_of
from tests.app.test_pages import RAG, ask, build_index, texts
from tests.app.test_runs_graphs import make_run


def answer_texts(at: Any) -> list[str]:
    return [m.value for m in at.chat_message[-1].markdown]


def test_a_new_chat_welcomes_with_the_index_samples_and_the_model(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.main.metric}
    assert metrics["Documents"] == "3" and metrics["Chunks"] == "3"
    assert metrics["Embedder"].startswith("hashing")
    samples = [b for b in at.main.button if b.label.startswith("What is ")]
    assert [b.label for b in samples] == ["What is Amazon?", "What is Packets?", "What is Plague?"]
    shown = texts(at)
    assert "The active model (fake) can:" in shown and "chat freely" in shown
    samples[0].click().run()  # a sample question asks itself
    assert not at.exception, at.exception
    assert at.chat_message[0].markdown[0].value == "What is Amazon?"
    assert not [m for m in at.main.metric]  # the welcome screen is gone once chatting


def test_a_bad_model_choice_keeps_the_page_usable(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    build_index(app_home)
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "nonsense:model")
    at = make_app()
    assert not at.exception, at.exception
    [error] = at.sidebar.error  # one message, in the sidebar
    assert "Cannot use the model nonsense:model" in error.value
    assert at.sidebar.radio[0].label == "Chain"  # the controls stay
    assert [n.label for n in at.sidebar.number_input][:1] == ["Top-k"]
    ask(at, "How vast is the Amazon?")
    assert at.chat_message[0].markdown[0].value == "How vast is the Amazon?"  # not dropped
    [message] = at.chat_message[1].error
    assert "unknown model spec" in message.value and "sidebar" in message.value
    at.sidebar.selectbox[0].set_value("fake").run()  # fixing it works at once
    assert not at.sidebar.error
    ask(at, "How vast is the Amazon?")
    assert "fake model" in " ".join(answer_texts(at))


def test_the_reader_answer_is_highlighted_in_its_passage(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "extractive")
    build_index(app_home)
    at = ask(make_app(), "How vast is the Amazon rainforest?")
    answer = answer_texts(at)
    [expander] = at.main.expander
    passage = [m.value for m in expander.markdown if ":orange-background[" in m.value]
    assert len(passage) == 1  # the passage, with the answer span marked in it
    marked = passage[0].split(":orange-background[**")[1].split("**]")[0]
    assert marked and any(marked in a.replace("\\", "") or a in marked for a in answer)
    assert not any("tokens" in c.value for c in at.caption)  # the reader counts no tokens
    link = [p for p in at.main.get("page_link")]
    assert link and "chunk" in str(link[0].proto)


def test_an_abstention_says_so_and_shows_the_closest_passages(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.readers import NOT_FOUND, Answer

    monkeypatch.setenv("AGENTKIT_APP_MODEL", "extractive")
    build_index(app_home)
    from agentkit.llms.extractive import ExtractiveReader

    def abstain(self: Any, question: str, documents: Any) -> Answer:
        return Answer("", 0.05, passages=tuple(documents[:2]))

    monkeypatch.setattr(ExtractiveReader, "read", abstain)
    at = ask(make_app(), "What is the capital of France?")
    assert NOT_FOUND in answer_texts(at)
    [expander] = at.main.expander
    assert expander.label == "Closest passages (2)"
    assert at.status[0].label.endswith("s") and "no answer found" in at.status[0].label


def test_free_chat_without_a_generative_model_says_what_it_can_do(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.workspace.chains import NO_FREE_CHAT

    monkeypatch.setenv("AGENTKIT_APP_MODEL", "extractive")
    build_index(app_home)
    at = make_app()
    at.sidebar.radio[0].set_value("chat").run()
    ask(at, "Hello, how are you?")
    from agentkit.app.render import safe_markdown

    assert safe_markdown(NO_FREE_CHAT) in answer_texts(at)


def test_chat_history_is_kept_per_index(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    at = ask(make_app(), "Asked with the first index?")
    first = history_of(app_home)
    assert [e.content for e in ChatSessions(first).entries(at.query_params["session"])][:1] == [
        "Asked with the first index?"
    ]
    monkeypatch.setenv("AGENTKIT_APP_INDEX", str(tmp_path / "other-index"))
    other = make_app()
    assert history_of(app_home) != first
    assert not [b for b in other.sidebar.button if b.label.startswith("Asked with")]


def test_open_in_documents_opens_the_cited_chunk(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    from agentkit.workspace.documents import document_chunks

    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    [chunk] = document_chunks(app_home / "index", "amazon.md")
    at = make_app("documents", doc="amazon.md", chunk=chunk.id)
    assert not at.exception, at.exception
    [opened] = [e for e in at.main.expander if "cited in the chat" in e.label]
    assert "The Amazon rainforest is vast." in [t.value for t in opened.text]
    hostile = make_app("documents", doc="<script>x</script>", chunk="../../etc/passwd")
    assert not hostile.exception and "not in the index" in hostile.warning[0].value


def test_the_graph_page_draws_the_hybrid_retriever_and_its_children(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, app_home: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_MODEL", "fake")
    build_index(app_home)
    at = make_app("graph")
    assert not at.exception, at.exception
    [chart] = at.main.get("graphviz_chart")
    dot = chart.proto.spec
    assert dot.startswith("digraph chain {")
    for name in ("HybridRetriever", "BM25Retriever", "VectorRetriever", "FakeListModel"):
        assert f'label="{name}' in dot
    assert "n0 -> n1;" in dot and "n0 -> n2;" in dot  # the hybrid fans out to its members


def test_evaluations_compare_only_runs_sharing_examples_and_show_tables(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", RAG)
    make_run(tmp_path / "runs" / "first", ["Paris", "5"])
    make_run(tmp_path / "runs" / "second", ["Paris", "4"])
    make_run(tmp_path / "runs" / "unrelated", ["Paris", "4"])
    results = tmp_path / "runs" / "unrelated" / "results.jsonl"
    results.write_text(results.read_text().replace('"q1"', '"z1"').replace('"q2"', '"z2"'))
    at = make_app("evaluations")
    assert not at.exception, at.exception
    baseline = next(s for s in at.selectbox if s.label == "Run A (baseline)")
    baseline.set_value("first").run()
    run_b = next(s for s in at.selectbox if s.label.startswith("Run B"))
    assert run_b.options == ["second"]  # "unrelated" shares no example with "first"
    next(s for s in at.selectbox if s.label == "Run A (baseline)").set_value("unrelated").run()
    assert any("No other run shares an example" in i.value for i in at.info)
    scores = at.dataframe[1].value.to_dict("records")  # per-example scores: a table
    assert {r["metric"] for r in scores} >= {"em", "f1"}


def test_the_app_command_hides_the_deploy_button() -> None:
    from agentkit.commands.app import streamlit_command

    command = streamlit_command(["--index", "x"], 8501, headless=True)
    at = command.index("--client.toolbarMode")
    assert command[at + 1] == "minimal" and command.index("--") > at
    assert command[command.index("--server.address") + 1] == "127.0.0.1"


def test_dot_labels_cannot_break_out_of_their_string() -> None:
    from agentkit.core.graph import Graph, Node
    from agentkit.workspace.graphs import dot_label, to_dot

    assert dot_label('a"] ; evil [shape=x "\\') == '"a\\"] ; evil [shape=x \\"\\\\"'
    assert dot_label("x\ny" * 50).count("\n") == 0 and len(dot_label("x" * 500)) < 70
    graph = Graph([Node("n0", 'R"; n9 [label="pwn', "retriever")], [], ["n0"], ["n0"])
    dot = to_dot(graph)
    assert 'n0 [label="R\\"; n9 [label=\\"pwn' in dot and "\nn9" not in dot


def test_many_categories_chart_the_best_and_the_worst() -> None:
    from agentkit.workspace.runs import category_scores

    categories = {f"article {i:02d}": {"f1": i / 48} for i in range(48)}
    categories["broken"] = {"f1": "n/a"}  # a hand-edited summary: skipped
    kept, caption = category_scores(categories, "f1")
    assert len(kept) == 20 and "article 47" in kept and "article 00" in kept
    assert "article 20" not in kept
    assert caption == "f1 by category: the best 10 and the worst 10 of 48"
    few, caption = category_scores({"geo": {"f1": 1.0}}, "f1")
    assert few == {"geo": 1.0} and caption == "f1 by category"
