"""Approvals in the app (Streamlit AppTest): the Chat page shows Approve / Reject / Edit on
a pending tool call and continues the run with the choice."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit.workspace.sessions import ChatSessions
from tests.app import conftest as app_fixtures

app_home = app_fixtures.app_home  # the app tests' fixtures: a private app home, AppTest
make_app = app_fixtures.make_app

CHAIN = "tests.agents.test_approval_app:mail_agent"


def mail_agent() -> Any:
    """A tool-calling agent whose send_mail tool needs approval (its log: $MAIL_LOG)."""
    from agentkit.agents import ToolCallingAgent, interrupt
    from agentkit.core.messages import ChatResult, ToolCall
    from agentkit.llms.fake import FunctionModel
    from agentkit.tools import Tool

    def reply(messages: Any, params: Any) -> ChatResult:
        results = [m for m in messages if m.role == "tool"]
        question = [m for m in messages if m.role == "user"][-1].content
        if results and results[-1].tool_call_id == question:
            return ChatResult("answer: " + results[-1].content)
        if question == "ask":
            return ChatResult("", [ToolCall(question, "ask_user", {})])
        return ChatResult("", [ToolCall(question, "send_mail", {"to": question})])

    def send_mail(to: str) -> str:
        """Send an e-mail."""
        with open(os.environ["MAIL_LOG"], "a") as f:
            f.write(to + "\n")
        return "sent to " + to

    def ask_user() -> str:
        """Ask the user."""
        return "color is " + str(interrupt("favourite color?"))

    mail = Tool.from_function(send_mail).marked(requires_approval=True)
    return ToolCallingAgent(FunctionModel(reply), [mail, ask_user])


@pytest.fixture
def mail_app(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[Any, Path]]:
    log = tmp_path / "mail.log"
    log.touch()
    monkeypatch.setenv("MAIL_LOG", str(log))
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", CHAIN)
    yield make_app(), log


def ask(at: Any, question: str) -> Any:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def button(at: Any, label: str) -> Any:
    [found] = [b for b in at.button if b.label == label]
    return found


def answers(app_home: Path, at: Any) -> list[str]:
    session = at.query_params["session"]
    history = app_fixtures.history_of(app_home)
    return [e.content for e in ChatSessions(history).entries(session)]


def test_approve_reject_and_edit_in_the_chat_page(
    mail_app: tuple[Any, Path], app_home: Path
) -> None:
    at, log = mail_app
    ask(at, "bob")
    assert [w.value for w in at.warning] == ['run send\\_mail({"to": "bob"})?']  # escaped Markdown
    assert {"Approve", "Reject", "Edit"} <= {b.label for b in at.button}
    assert log.read_text() == "" and answers(app_home, at) == []  # nothing ran or was saved
    button(at, "Approve").click().run()
    assert not at.exception, at.exception
    assert log.read_text() == "bob\n"
    assert answers(app_home, at) == ["bob", "answer: sent to bob"]

    ask(at, "carol")
    at.text_input(key=f"reason-{pending_thread(at)}").set_value("not her").run()
    button(at, "Reject").click().run()
    assert log.read_text() == "bob\n"
    assert answers(app_home, at)[-1] == (
        "answer: This call was not run: the user rejected it. not her"
    )

    ask(at, "dave")
    at.text_area(key=f"args-{pending_thread(at)}").set_value('{"to": "erin"}').run()
    button(at, "Edit").click().run()
    assert log.read_text() == "bob\nerin\n"
    assert answers(app_home, at)[-1] == "answer: sent to erin"


def test_a_bad_edit_is_an_error_and_the_call_stays_pending(
    mail_app: tuple[Any, Path], app_home: Path
) -> None:
    at, log = mail_app
    ask(at, "bob")
    at.text_area(key=f"args-{pending_thread(at)}").set_value("[1, 2]").run()
    button(at, "Edit").click().run()
    assert any("must be a JSON object" in e.value for e in at.error)
    assert log.read_text() == "" and button(at, "Approve") is not None


def test_an_interrupt_is_answered_in_the_page(mail_app: tuple[Any, Path], app_home: Path) -> None:
    at, _ = mail_app
    ask(at, "ask")
    assert [w.value for w in at.warning] == ["the run asks: favourite color?"]
    at.text_input(key=f"answer-{pending_thread(at)}").set_value("green").run()
    button(at, "Send").click().run()
    assert answers(app_home, at) == ["ask", "answer: color is green"]


def pending_thread(at: Any) -> str:
    waiting = at.session_state["ak_waiting"]
    return str(waiting["pending"]["thread_id"])
