"""``agentkit chat`` at its edges: a model error mid-chat, Ctrl-C at the prompt, resuming."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from agentkit.cli import app
from agentkit.commands import register_all
from agentkit.llms import FunctionModel
from agentkit.prompts import PromptTemplate
from agentkit.workspace.sessions import ChatSessions

register_all(app)
CALLS: list[str] = []


def flaky_chain() -> Any:
    """Answers every question but the second, where the model server fails."""

    def reply(messages: Any, params: Any) -> str:
        CALLS.append(messages[-1].content)
        if len(CALLS) == 2:
            raise RuntimeError("the model server went away")
        return f"reply {len(CALLS)}"

    return PromptTemplate.from_template("Q: {question}") | FunctionModel(reply)


def test_a_model_error_mid_chat_keeps_the_session_going(tmp_path: Path) -> None:
    CALLS.clear()
    history = tmp_path / "h.sqlite"
    args = ["chat", "--chain", f"{__name__}:flaky_chain", "--history", str(history)]
    result = CliRunner().invoke(app, [*args, "--session", "s1"], input="one\ntwo\nthree\n")
    assert result.exit_code == 0, result.output
    assert "error: RuntimeError: the model server went away" in result.output
    assert "reply 3" in result.stdout and "chat saved as session s1" in result.output
    sessions = ChatSessions(history)
    assert [m.content for m in sessions.history("s1")] == ["one", "reply 1", "three", "reply 3"]
    again = CliRunner().invoke(app, [*args, "--session", "s1"], input="four\n")
    assert again.exit_code == 0 and "Q: four" in CALLS[-1]
    assert len(sessions.entries("s1")) == 8


def test_ctrl_c_at_the_prompt_ends_the_chat_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Typing(io.StringIO):
        def readline(self, size: int | None = -1) -> str:
            line = super().readline()
            if not line:
                raise KeyboardInterrupt
            return line

    monkeypatch.setattr(typer, "get_text_stream", lambda name: Typing("hello\n"))
    history = tmp_path / "h.sqlite"
    result = CliRunner().invoke(
        app, ["chat", "--model", "fake", "--history", str(history), "--session", "s2"]
    )
    assert result.exit_code == 0, result.output
    assert "chat saved as session s2" in result.output and "Interrupted" not in result.output
    assert [e.content for e in ChatSessions(history).entries("s2")][:1] == ["hello"]
