"""Approvals and interrupts in Python: approve / reject / edit round trips, a policy
callable, ``interrupt(value)`` in a tool and in the model's chain."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentkit.agents import (
    Interrupt,
    ReActAgent,
    SQLiteCheckpointer,
    ToolCallingAgent,
    approve,
    edit,
    interrupt,
    reject,
)
from agentkit.core import InMemoryTracer
from agentkit.core.compose import Lambda
from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, Message, ToolCall
from agentkit.llms.fake import FunctionModel
from agentkit.tools import Tool

CONFIG = {"configurable": {"thread_id": "t"}}


def one_call(name: str, args: dict[str, Any]) -> Any:
    """A model that calls ``name(args)`` once, then answers with the tool's result."""

    def fn(messages: list[Message], params: Any) -> ChatResult:
        results = [m.content for m in messages if m.role == "tool"]
        if not results:
            return ChatResult("", [ToolCall("c1", name, args)])
        return ChatResult(f"done: {results[-1]}")

    return FunctionModel(fn)


def mailer(sent: list[dict[str, Any]]) -> Tool:
    def send_mail(to: str, body: str) -> str:
        """Send an e-mail."""
        sent.append({"to": to, "body": body})
        return f"sent to {to}"

    return Tool.from_function(send_mail).marked(requires_approval=True)


def store(tmp_path: Path) -> SQLiteCheckpointer:
    return SQLiteCheckpointer(tmp_path / "c.db")


ARGS = {"to": "bob@example.com", "body": "hi"}


def test_approve_runs_the_call(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    paused = agent.invoke("mail bob", CONFIG)
    assert paused["stopped_reason"] == "interrupted" and paused["output"] == ""
    pending = paused["interrupt"]
    assert (pending.kind, pending.pending.tool, pending.pending.args) == (
        "approval",
        "send_mail",
        ARGS,
    )
    assert pending.question.startswith("run send_mail(") and sent == []
    assert agent.pending("t") == pending
    done = agent.resume("t", approve())
    assert done["output"] == "done: sent to bob@example.com" and sent == [ARGS]
    assert agent.pending("t") is None


def test_reject_tells_the_model_and_runs_nothing(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    agent.invoke("mail bob", CONFIG)
    done = agent.resume("t", reject("not to Bob"))
    assert sent == []
    assert done["output"] == "done: This call was not run: the user rejected it. not to Bob"
    assert done["steps"][0].error == "rejected"


def test_edit_runs_the_call_with_the_new_arguments(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    agent.invoke("mail bob", CONFIG)
    new = {"to": "alice@example.com", "body": "hello"}
    done = agent.resume("t", edit(new))
    assert sent == [new] and done["steps"][0].tool_input == new
    assert done["output"] == "done: sent to alice@example.com"


def test_a_decision_survives_a_new_agent_object(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    first = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    first.invoke("mail bob", CONFIG)
    later = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    assert later.pending("t") is not None
    assert later.resume("t", approve())["output"].startswith("done: sent")


def test_a_policy_callable_decides_which_calls_wait(tmp_path: Path) -> None:
    seen: list[Any] = []

    def transfer(amount: int) -> str:
        """Move money."""
        seen.append(amount)
        return f"moved {amount}"

    def big(tool: Tool, args: Any) -> bool:
        return tool.name == "transfer" and args["amount"] > 100

    small = ToolCallingAgent(
        one_call("transfer", {"amount": 5}), [transfer], checkpointer=store(tmp_path), approval=big
    )
    assert small.invoke("pay", CONFIG)["output"] == "done: moved 5"
    large = ToolCallingAgent(
        one_call("transfer", {"amount": 500}),
        [transfer],
        checkpointer=store(tmp_path),
        approval=big,
    )
    paused = large.invoke("pay", {"configurable": {"thread_id": "t2"}})
    assert paused["interrupt"].pending.args == {"amount": 500} and seen == [5]
    with pytest.raises(UsageError, match="approval must be a function"):
        ToolCallingAgent(one_call("transfer", {}), [transfer], approval="yes")  # type: ignore[arg-type]


def test_two_calls_needing_approval_in_one_turn_are_asked_one_by_one(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []

    def fn(messages: list[Message], params: Any) -> ChatResult:
        results = [m.content for m in messages if m.role == "tool"]
        if not results:
            calls = [
                ToolCall("x", "send_mail", ARGS),
                ToolCall("y", "send_mail", {**ARGS, "to": "c"}),
            ]
            return ChatResult("", calls)
        return ChatResult(" | ".join(results))

    agent = ToolCallingAgent(FunctionModel(fn), [mailer(sent)], checkpointer=store(tmp_path))
    first = agent.invoke("mail both", CONFIG)["interrupt"]
    second = agent.resume("t", approve())["interrupt"]
    assert (first.pending.call_id, second.pending.call_id) == ("x", "y")
    assert sent == []  # no call of the turn runs before every decision is made
    done = agent.resume("t", reject())
    assert sent == [ARGS]
    assert (
        done["output"] == "sent to bob@example.com | This call was not run: the user rejected it."
    )


def test_resume_needs_the_right_kind_of_answer(tmp_path: Path) -> None:
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer([])], checkpointer=store(tmp_path)
    )
    agent.invoke("mail bob", CONFIG)
    with pytest.raises(UsageError, match="waits for a decision"):
        agent.resume("t", value="yes")
    with pytest.raises(UsageError, match="approve\\(\\), reject\\(reason\\) or edit"):
        agent.resume("t", "yes")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="edit\\(args\\) takes"):
        edit(42)  # type: ignore[arg-type]


def test_interrupt_in_a_tool_asks_and_the_call_reruns_with_the_answer(tmp_path: Path) -> None:
    effects: list[str] = []

    def book(city: str) -> str:
        """Book a hotel."""
        date = interrupt({"question": f"Which date in {city}?"})
        effects.append(f"{city}@{date}")
        return f"booked {city} on {date}"

    agent = ToolCallingAgent(
        one_call("book", {"city": "Oslo"}), [book], checkpointer=store(tmp_path)
    )
    paused = agent.invoke("book Oslo", CONFIG)
    asked = paused["interrupt"]
    assert asked.kind == "interrupt" and asked.value == {"question": "Which date in Oslo?"}
    assert asked.pending.tool == "book" and effects == []
    with pytest.raises(UsageError, match="waits for a value"):
        agent.resume("t", approve())
    done = agent.resume("t", value="2027-01-05")
    assert done["output"] == "done: booked Oslo on 2027-01-05" and effects == ["Oslo@2027-01-05"]


def test_two_interrupts_in_one_call_are_answered_in_order(tmp_path: Path) -> None:
    def form() -> str:
        """Ask two things."""
        return f"{interrupt('name?')} {interrupt('age?')}"

    agent = ToolCallingAgent(one_call("form", {}), [form], checkpointer=store(tmp_path))
    assert agent.invoke("fill", CONFIG)["interrupt"].value == "name?"
    assert agent.resume("t", value="Ada")["interrupt"].value == "age?"
    assert agent.resume("t", value=36)["output"] == "done: Ada 36"


def test_aresume_takes_the_same_options_and_rejects_unknown_ones(tmp_path: Path) -> None:
    def form() -> str:
        """Ask one thing."""
        return f"hello {interrupt('name?')}"

    agent = ToolCallingAgent(one_call("form", {}), [form], checkpointer=store(tmp_path))
    agent.invoke("fill", CONFIG)
    with pytest.raises(
        TypeError,
        match="unexpected keyword argument 'valeu'; it takes config, value",
    ):
        agent.resume("t", valeu="Ada")  # type: ignore[call-arg]
    tracer = InMemoryTracer()
    done = asyncio.run(agent.aresume("t", value="Ada", config={"tracers": [tracer]}))
    assert done["output"] == "done: hello Ada"
    assert "form" in tracer.names()  # the resumed run ran with the given config


def test_interrupt_in_a_lambda_of_the_models_chain(tmp_path: Path) -> None:
    def gate(messages: Any) -> Any:
        if interrupt("continue?") != "yes":
            raise RuntimeError("stopped")
        return messages

    model = Lambda(gate) | FunctionModel(lambda m, p: "Final Answer: the answer")
    agent = ReActAgent(model, [mailer([])], checkpointer=store(tmp_path))
    paused = agent.invoke("q", CONFIG)
    assert paused["interrupt"].kind == "interrupt" and paused["interrupt"].pending is None
    assert agent.resume("t", value="yes")["output"] == "the answer"


def test_interrupt_outside_a_durable_run_escapes_and_needs_json(tmp_path: Path) -> None:
    def ask() -> str:
        """Ask."""
        return str(interrupt("?"))

    plain = ToolCallingAgent(one_call("ask", {}), [ask])
    with pytest.raises(Interrupt):
        plain.invoke("q")
    with pytest.raises(UsageError, match="JSON-safe"):
        interrupt(object())


def test_a_streamed_run_ends_with_the_interrupt(tmp_path: Path) -> None:
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer([])], checkpointer=store(tmp_path)
    )
    chunks = list(agent.stream("mail bob", CONFIG))
    last = chunks[-1]
    assert last["stopped_reason"] == "interrupted" and last["interrupt"].kind == "approval"


def test_the_server_returns_the_pending_call(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from agentkit.serve import create_app, make_target

    sent: list[dict[str, Any]] = []
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    app = create_app({"mailer": make_target("mailer", agent)})
    body = {"model": "mailer", "messages": [{"role": "user", "content": "mail bob"}]}
    with TestClient(app) as client:
        whole = client.post("/v1/chat/completions", json=body).json()
        streamed = client.post("/v1/chat/completions", json=body | {"stream": True}).text
    assert whole["choices"][0]["finish_reason"] == "interrupted"
    [event] = whole["agentkit"]["events"]
    assert event["type"] == "interrupt" and event["kind"] == "approval"
    assert event["pending"] == {"tool": "send_mail", "args": ARGS, "call_id": "c1"}
    assert event["thread_id"].startswith("serve-") and sent == []
    assert '"finish_reason": "interrupted"' in streamed and '"kind": "approval"' in streamed
    assert agent.resume(event["thread_id"], approve())["output"].startswith("done: sent")


class Crash(BaseException):
    """Stands for the process dying inside a tool."""


def test_a_crash_after_an_edit_keeps_the_edited_arguments(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    crash = [True]

    def send_mail(to: str, body: str) -> str:
        """Send an e-mail."""
        sent.append({"to": to, "body": body})
        if crash.pop() if crash else False:
            raise Crash()
        return f"sent to {to}"

    tool = Tool.from_function(send_mail).marked(requires_approval=True)
    agent = ToolCallingAgent(one_call("send_mail", ARGS), [tool], checkpointer=store(tmp_path))
    agent.invoke("mail bob", CONFIG)
    new = {"to": "alice@example.com", "body": "hello"}
    with pytest.raises(Crash):
        agent.resume("t", edit(new))
    doubt = agent.resume("t")["interrupt"]
    assert doubt.kind == "in_doubt" and doubt.pending.args == new
    assert agent.resume("t", approve())["output"] == "done: sent to alice@example.com"
    assert sent == [new, new]


def test_a_crash_after_an_answer_reruns_with_the_answer(tmp_path: Path) -> None:
    runs: list[str] = []

    def pick() -> str:
        """Pick a color."""
        color = interrupt("color?")
        runs.append(color)
        if len(runs) == 1:
            raise Crash()
        return f"picked {color}"

    tool = Tool.from_function(pick).marked(idempotent=True)
    agent = ToolCallingAgent(one_call("pick", {}), [tool], checkpointer=store(tmp_path))
    assert agent.invoke("pick", CONFIG)["interrupt"].value == "color?"
    with pytest.raises(Crash):
        agent.resume("t", value="red")
    assert agent.resume("t")["output"] == "done: picked red"  # not asked again
    assert runs == ["red", "red"]


def test_a_decision_committed_before_a_crash_is_not_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    agent = ToolCallingAgent(
        one_call("send_mail", ARGS), [mailer(sent)], checkpointer=store(tmp_path)
    )
    agent.invoke("mail bob", CONFIG)
    real_save = SQLiteCheckpointer.save

    def dying_save(self: SQLiteCheckpointer, *args: Any, **kwargs: Any) -> None:
        monkeypatch.setattr(SQLiteCheckpointer, "save", real_save)
        raise Crash()  # the decision is committed, the state update is not

    monkeypatch.setattr(SQLiteCheckpointer, "save", dying_save)
    with pytest.raises(Crash):
        agent.resume("t", approve())
    assert sent == [] and agent.pending("t") is not None
    assert agent.resume("t")["output"] == "done: sent to bob@example.com"
    assert sent == [ARGS]
