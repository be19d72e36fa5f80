"""Approvals at the terminal: ``agentkit chat`` (a real subprocess, scripted stdin) asks
y / n / e before a tool that requires approval, and continues the run with the answer."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FACTORY = textwrap.dedent(
    '''
    """A tool-calling agent whose send_mail tool needs approval (for the CLI test)."""
    from pathlib import Path

    from agentkit.agents import ToolCallingAgent, interrupt
    from agentkit.core.messages import ChatResult, ToolCall
    from agentkit.llms.fake import FunctionModel
    from agentkit.tools import Tool

    SENT = Path(__file__).with_name("sent.log")


    def reply(messages, params):
        results = [m for m in messages if m.role == "tool"]
        question = [m for m in messages if m.role == "user"][-1].content
        if results and results[-1].tool_call_id == question:
            return ChatResult("answer: " + results[-1].content)
        if question == "ask":
            return ChatResult("", [ToolCall(question, "ask_user", {})])
        return ChatResult("", [ToolCall(question, "send_mail", {"to": question})])


    def send_mail(to: str) -> str:
        """Send an e-mail."""
        with SENT.open("a") as f:
            f.write(to + "\\n")
        return "sent to " + to


    def ask_user() -> str:
        """Ask the user a question."""
        return "color is " + str(interrupt("favourite color?"))


    def build():
        mail = Tool.from_function(send_mail).marked(requires_approval=True)
        return ToolCallingAgent(FunctionModel(reply), [mail, ask_user])
    '''
)


def run_chat(tmp_path: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "approval_factory.py").write_text(FACTORY)
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "NO_COLOR": "1", "COLUMNS": "200"}
    command = [
        sys.executable,
        "-c",
        "from agentkit.cli import main; main()",
        "chat",
        "--chain",
        "approval_factory:build",
        "--allow-imports",
        "--history",
        str(tmp_path / "history.sqlite"),
    ]
    return subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
    )


@pytest.mark.slow
def test_chat_asks_y_n_e_and_resumes_with_the_answer(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "bob",  # -> approval asked
            "y",  # approve: sent to bob
            "carol",
            "n",
            "not carol",  # reject with a reason: nothing sent
            "dave",
            "x",  # not an answer: asked again
            "e",
            '{"to": "erin"}',  # edit: sent to erin instead
            "ask",  # interrupt(): a value is asked for
            "green",
            "/exit",
            "",
        ]
    )
    done = run_chat(tmp_path, script)
    assert done.returncode == 0, done.stderr
    sent = (tmp_path / "sent.log").read_text().splitlines()
    assert sent == ["bob", "erin"]
    assert "approval: run send_mail(" in done.stderr and '{"to": "bob"}' in done.stderr
    assert "answer: sent to bob" in done.stdout
    assert "answer: This call was not run: the user rejected it. not carol" in done.stdout
    assert "answer y (approve), n (reject) or e (edit)" in done.stderr
    assert "answer: sent to erin" in done.stdout
    assert "approval: the run asks: favourite color?" in done.stderr
    assert "answer: color is green" in done.stdout
    assert (tmp_path / "agent-runs.sqlite").exists()  # checkpoints next to the history


@pytest.mark.slow
def test_chat_input_ending_at_a_question_leaves_the_run_paused(tmp_path: Path) -> None:
    done = run_chat(tmp_path, "bob\n")
    assert done.returncode == 0, done.stderr
    assert "left paused (thread " in done.stderr
    assert not (tmp_path / "sent.log").exists()
