"""The durable side of an agent run: its state as JSON, the journal of the turn in
progress, and what each journaled tool call does on a resume.

Each turn's calls are journaled under keys ``t<turn>.model`` and ``t<turn>.c<index>``:

- a model reply is recorded when it arrives; on a resume the turn replays it instead of
  asking the model again, so the turn's tool calls are the same ones;
- a tool call is recorded ``started`` before it runs and ``done`` (with its observation)
  after, each in its own transaction. A ``done`` call is never run again; a ``started`` one
  runs again only if its tool is idempotent, else the run pauses ``in_doubt``;
- approvals (``awaiting`` -> ``decided``) and interrupts (``interrupted`` -> ``resuming``)
  are records too, so a decision survives a crash.

After each turn the state (steps, conversation, turn number) is committed and the journal
cleared in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentkit.agents.checkpoint import CheckpointError, SQLiteCheckpointer
from agentkit.agents.interrupts import (
    Decision,
    Interrupt,
    Interrupted,
    PendingCall,
    answering,
    stop_answering,
)
from agentkit.agents.steps import Step
from agentkit.core.compose import Lambda
from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.flow import Call
from agentkit.core.messages import Message
from agentkit.core.runnable import Runnable

if TYPE_CHECKING:
    from agentkit.agents.executor import AgentRun

STATE_VERSION = 1


@dataclass(frozen=True)
class Paused:
    """What a guarded call returns when the code it ran called ``interrupt(value)``."""

    value: Any


class RunPaused(Exception):
    """Raised inside an agent's flow to stop the turn and return ``interrupted``."""

    def __init__(self, interrupted: Interrupted) -> None:
        super().__init__(interrupted.kind)
        self.interrupted = interrupted


class Guarded(Runnable[Any, Any]):
    """``(runnable, input, answers) -> output | Paused``: runs ``runnable`` with
    ``interrupt()`` answering ``answers`` in order, and turns an :class:`Interrupt` into a
    :class:`Paused` value (so it reaches the agent's flow as data)."""

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        runnable, arg, answers = input
        token = answering(answers)
        try:
            return runnable.invoke(arg, ensure_config(config))
        except Interrupt as signal:
            return Paused(signal.value)
        finally:
            stop_answering(token)

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Any:
        runnable, arg, answers = input
        token = answering(answers)
        try:
            return await runnable.ainvoke(arg, ensure_config(config))
        except Interrupt as signal:
            return Paused(signal.value)
        finally:
            stop_answering(token)


GUARD = Guarded()
IO = Lambda(lambda job: job[0](*job[1:]), name="checkpoint", blocking=True)


def io(config: RunConfig, fn: Callable[..., Any], *args: Any) -> Call:
    """A blocking checkpoint operation as a flow ``Call`` (a worker thread when async)."""
    return Call(IO, (fn, *args), config)


@dataclass
class Durable:
    """A run's link to its checkpoint: the store, the thread and the turn's journal."""

    store: SQLiteCheckpointer
    thread_id: str
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, config: RunConfig, key: str, status: str, data: dict[str, Any]) -> Call:
        self.calls[key] = {**data, "status": status}
        return io(config, self.store.put_call, self.thread_id, key, status, data)

    def damaged(self, what: str) -> CheckpointError:
        return self.store._damaged(self.thread_id, what)


# --- state -------------------------------------------------------------------------


def encode_state(run: AgentRun, session: str) -> dict[str, Any]:
    values = {k: v for k, v in run.values.items() if k != "history"}
    return {
        "version": STATE_VERSION,
        "session": session,
        "turn": run.turn,
        "values": values,
        "history": [m.to_dict() for m in run.values.get("history") or []],
        "steps": [s.to_dict() for s in run.steps],
        "messages": [m.to_dict() for m in run.messages],
        "output": run.output,
        "stopped_reason": run.stopped_reason,
    }


def decode_state(store: SQLiteCheckpointer, thread_id: str, state: Mapping[str, Any]) -> Any:
    """``(values, steps, messages, turn, session, output, stopped_reason)`` from a stored
    state, each checked; a :class:`CheckpointError` naming the file when it is damaged."""

    def damaged(what: str) -> CheckpointError:
        return store._damaged(thread_id, what)

    if state.get("version") != STATE_VERSION:
        raise damaged(f"state version {state.get('version')!r}, expected {STATE_VERSION}")
    turn, session = state.get("turn"), state.get("session")
    if isinstance(turn, bool) or not isinstance(turn, int) or turn < 0:
        raise damaged(f"turn {turn!r} is not a count")
    if not isinstance(session, str):
        raise damaged("the session is not text")
    values = state.get("values")
    if not isinstance(values, dict) or not isinstance(values.get("input"), str):
        raise damaged("the input values are not an object with a text 'input'")
    output, reason = state.get("output"), state.get("stopped_reason")
    if not (output is None or isinstance(output, str)) or not (
        reason is None or isinstance(reason, str)
    ):
        raise damaged("the output or stop reason is not text")
    try:
        history = [Message.from_dict(m) for m in _list(state, "history")]
        messages = [Message.from_dict(m) for m in _list(state, "messages")]
        steps = [_step(s) for s in _list(state, "steps")]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise damaged(f"a step or message is malformed: {exc}") from exc
    return {**values, "history": history}, steps, messages, turn, session, output, reason


def _list(state: Mapping[str, Any], key: str) -> list[Any]:
    value = state.get(key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise TypeError(f"{key} is not a list of objects")
    return value


_STEP_TEXT = ("thought", "observation", "log")


def _step(data: dict[str, Any]) -> Step:
    step = Step.from_dict(data)
    if not all(isinstance(getattr(step, k), str) for k in _STEP_TEXT):
        raise TypeError("a step's thought, observation and log must be text")
    if not (step.tool is None or isinstance(step.tool, str)):
        raise TypeError("a step's tool must be a name")
    if not isinstance(step.seconds, int | float):
        raise TypeError("a step's seconds must be a number")
    return step


# --- model replies -----------------------------------------------------------------


def encode_reply(reply: Any) -> dict[str, Any]:
    if isinstance(reply, Message):
        return {"message": reply.to_dict()}
    return {"text": reply if isinstance(reply, str) else str(reply)}


def decode_reply(durable: Durable, key: str, record: Mapping[str, Any]) -> Any:
    if isinstance(record.get("text"), str):
        return record["text"]
    message = record.get("message")
    try:
        if not isinstance(message, dict):
            raise TypeError("no message or text")
        return Message.from_dict(message)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise durable.damaged(f"the model reply {key!r} is malformed: {exc}") from exc


# --- tool calls on a resume --------------------------------------------------------


@dataclass(frozen=True)
class CallPlan:
    """What to do with one journaled tool call: ``run`` it (with ``args`` and interrupt
    ``answers``), use its ``done`` record, ``reject`` it, or ``pause`` the run."""

    action: str
    args: Any = None
    answers: tuple[Any, ...] = ()
    decision: Decision | None = None
    interrupted: Interrupted | None = None


def plan_call(
    durable: Durable,
    key: str,
    tool: Any,
    tool_input: Any,
    call_id: str | None,
    needs_approval: bool,
) -> CallPlan:
    """The plan for one tool call of the turn being replayed (see the module docs)."""
    record = durable.calls.get(key)
    pending = PendingCall(tool.name, tool_input, call_id)
    if record is None:
        if needs_approval:
            return CallPlan(
                "pause", interrupted=Interrupted(durable.thread_id, "approval", pending)
            )
        return CallPlan("run", tool_input)
    if record.get("tool") != tool.name:
        raise durable.damaged(
            f"call {key!r} is recorded for tool {record.get('tool')!r}, but the turn asks "
            f"for {tool.name!r}"
        )
    status = record["status"]
    args = record.get("args", tool_input)  # the arguments it ran with (an edit's, say)
    answers = record.get("answers")
    if not isinstance(answers, list):
        answers = []
    if status == "done":
        return CallPlan("done")
    if status == "awaiting":
        return CallPlan("pause", interrupted=Interrupted(durable.thread_id, "approval", pending))
    if status == "started":
        if tool.idempotent:
            return CallPlan("run", args, tuple(answers))
        shown = PendingCall(tool.name, args, call_id)
        return CallPlan("pause", interrupted=Interrupted(durable.thread_id, "in_doubt", shown))
    if status == "interrupted":
        value = record.get("value")
        return CallPlan(
            "pause", interrupted=Interrupted(durable.thread_id, "interrupt", pending, value)
        )
    if status == "resuming":
        return CallPlan("run", args, tuple(answers))
    # decided
    try:
        decision = Decision.from_dict(record.get("decision") or {})
    except Exception as exc:
        raise durable.damaged(f"the decision of call {key!r} is malformed: {exc}") from exc
    if decision.kind == "reject":
        return CallPlan("reject", tool_input, decision=decision)
    if decision.kind == "edit":
        args = decision.args
    return CallPlan("run", args, tuple(answers), decision=decision)


def done_step(durable: Durable, key: str, thought: str, call_id: str | None) -> Step:
    """The step of a call whose result is committed."""
    record = durable.calls[key]
    observation, error, seconds = (
        record.get("observation"),
        record.get("error"),
        record.get("seconds", 0.0),
    )
    if not isinstance(observation, str) or not (error is None or isinstance(error, str)):
        raise durable.damaged(f"the result of call {key!r} is malformed")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        seconds = 0.0
    args = record.get("args")
    return Step(thought, record["tool"], args, observation, float(seconds), error, call_id)


def rejected_observation(kind: str, reason: str) -> str:
    """What the model is told about a call that was not run."""
    if kind == "in_doubt":
        text = "This call was not repeated: the run stopped while it was running, so it may or"
        text += " may not have taken effect."
    else:
        text = "This call was not run: the user rejected it."
    return f"{text} {reason}".strip()
