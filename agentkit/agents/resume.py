"""Starting, pausing and resuming a durable agent run (the flows behind ``Agent.invoke``
with a checkpointer, ``Agent.resume`` and ``Agent.pending``).

Written as flow pieces (see :mod:`agentkit.core.flow`): checkpoint reads and writes are
``Call`` operations on a blocking ``Lambda``, so async runs never block on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentkit.agents.checkpoint import CheckpointError
from agentkit.agents.durable import (
    GUARD,
    CallPlan,
    Durable,
    Paused,
    RunPaused,
    decode_reply,
    decode_state,
    done_step,
    encode_reply,
    encode_state,
    io,
    plan_call,
    rejected_observation,
)
from agentkit.agents.interrupts import Decision, Interrupted, PendingCall
from agentkit.agents.steps import AgentResult, Step
from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, Flow, FlowGen, Gather
from agentkit.tools import ToolRunner

if TYPE_CHECKING:
    from agentkit.agents.executor import Agent, AgentRun
    from agentkit.core.runnable import Runnable

NO_VALUE: Any = object()  # resume(..., value=...) not given
_RUNNER = ToolRunner()


def thread_of(agent: Agent, config: RunConfig) -> str:
    thread_id = config.get("thread_id")
    if not isinstance(thread_id, str) or not thread_id:
        raise UsageError(
            f"{agent.name} has a checkpointer, so each run needs a thread id: invoke it with "
            "config={'configurable': {'thread_id': 'some-id'}} (and resume it with "
            f"agent.resume('some-id')); got thread_id={thread_id!r}"
        )
    return thread_id


def start_thread(agent: Agent, run: AgentRun, session: str, config: RunConfig) -> FlowGen:
    """Begin a durable run; an unfinished run on the same thread is an error."""
    store = agent.checkpointer
    assert store is not None
    thread_id = thread_of(agent, config)
    status = yield io(config, store.status, thread_id)
    if status in ("running", "interrupted"):
        raise UsageError(
            f"thread {thread_id!r} in {store.path} has an unfinished run ({status}); continue "
            f"it with agent.resume({thread_id!r}), or delete it with "
            f"checkpointer.delete({thread_id!r}) to start over"
        )
    yield io(config, store.start, thread_id, agent.name, encode_state(run, session))
    return Durable(store, thread_id)


def pause_run(run: AgentRun, interrupted: Interrupted, config: RunConfig) -> FlowGen:
    """Commit the pause and return the ``interrupted`` result."""
    durable = run.durable
    assert durable is not None
    yield io(config, durable.store.pause, durable.thread_id, interrupted.to_dict())
    return AgentResult(
        output="", steps=run.steps, stopped_reason="interrupted", interrupt=interrupted
    )


def resume_flow(
    agent: Agent, thread_id: str, decision: Decision | None, value: Any, config: RunConfig
) -> FlowGen:
    """Load the thread, apply the decision or value to its pending call, run on."""
    from agentkit.agents.executor import AgentRun

    store = agent.checkpointer
    if store is None:
        raise UsageError(
            f"{agent.name} has no checkpointer; build it with "
            "checkpointer=SQLiteCheckpointer(path) to run and resume durable runs"
        )
    if not isinstance(thread_id, str) or not thread_id:
        raise UsageError(f"resume needs a thread id (text), got {thread_id!r}")
    if decision is not None and not isinstance(decision, Decision):
        raise UsageError(
            f"decision must be approve(), reject(reason) or edit(args), got {decision!r}"
        )
    record = yield io(config, store.load, thread_id)
    values, steps, messages, turn, session, output, reason = decode_state(
        store, thread_id, record.state
    )
    if record.agent != agent.name:
        raise CheckpointError(
            f"thread {thread_id!r} in {store.path} is a run of {record.agent}, not of "
            f"{agent.name}; resume it with the agent that started it"
        )
    durable = Durable(store, thread_id, record.calls)
    for key, call in record.calls.items():
        if "tool" in call and (
            not isinstance(call["tool"], str) or agent.find_tool(call["tool"]) is None
        ):
            raise durable.damaged(f"call {key!r} names the unknown tool {call['tool']!r}")
    if record.status == "done":
        result = AgentResult(output=output or "", steps=steps, stopped_reason=reason)
        return result
    pending = _interrupted(agent, durable, record.pending) if record.pending else None
    if pending is None and (decision is not None or value is not NO_VALUE):
        raise UsageError(f"thread {thread_id!r} is not waiting for a decision or a value")
    if pending is not None:
        yield from _answer(durable, pending, decision, value, turn, config)
    run = AgentRun(values, steps, messages, len(steps), turn, durable, output, reason)
    yield io(config, store.save, thread_id, record.state, "running", None, False)
    return (yield from agent.loop(run, session, config))


def _interrupted(agent: Agent, durable: Durable, data: dict[str, Any]) -> Interrupted:
    kind, call = data.get("kind"), data.get("pending")
    if kind not in ("approval", "interrupt", "in_doubt"):
        raise durable.damaged(f"the pending interrupt has unknown kind {kind!r}")
    if call is None:
        return Interrupted(durable.thread_id, kind, None, data.get("value"))
    if not isinstance(call, dict) or not isinstance(call.get("tool"), str):
        raise durable.damaged("the pending call is not an object with a tool name")
    if agent.find_tool(call["tool"]) is None:
        raise durable.damaged(f"the pending call names the unknown tool {call['tool']!r}")
    args, call_id = call.get("args"), call.get("call_id")
    if not isinstance(args, dict | str) or not (call_id is None or isinstance(call_id, str)):
        raise durable.damaged("the pending call's arguments are malformed")
    return Interrupted(
        durable.thread_id, kind, PendingCall(call["tool"], args, call_id), data.get("value")
    )


def _answer(
    durable: Durable,
    pending: Interrupted,
    decision: Decision | None,
    value: Any,
    turn: int,
    config: RunConfig,
) -> FlowGen:
    """Record the caller's answer to the pending interrupt on its journaled call."""
    key = _pending_key(durable, pending, turn)
    record = durable.calls.get(key, {})
    answered = record.get("status") in ("decided", "resuming")  # before a crash
    if answered and decision is None and value is NO_VALUE:
        return
    if pending.kind == "interrupt":
        if value is NO_VALUE or decision is not None:
            raise UsageError(
                f"thread {durable.thread_id!r} waits for a value ({pending.question}); resume "
                "it with agent.resume(thread_id, value=...)"
            )
        earlier = list(record.get("answers") or [])
        answers = [*(earlier[:-1] if answered else earlier), value]  # a new answer replaces
        data = {k: v for k, v in record.items() if k != "status"}
        yield durable.put(config, key, "resuming", {**data, "answers": answers})
        return
    if decision is None or value is not NO_VALUE:
        raise UsageError(
            f"thread {durable.thread_id!r} waits for a decision ({pending.question}); resume "
            "it with decision=approve(), reject(reason) or edit(args)"
        )
    assert pending.pending is not None
    call = pending.pending
    data = {"tool": call.tool, "args": call.args, "call_id": call.call_id}
    data["answers"] = record.get("answers") or []
    yield durable.put(
        config, key, "decided", {**data, "from": pending.kind, "decision": decision.to_dict()}
    )


def _pending_key(durable: Durable, pending: Interrupted, turn: int) -> str:
    """The journal key of the pending call (the model call when there is no tool call)."""
    if pending.pending is None:
        return f"t{turn}.model"
    for key, record in durable.calls.items():
        waiting = record["status"] in ("awaiting", "started", "interrupted", "decided")
        waiting = waiting or record["status"] == "resuming"
        same = record.get("tool") == pending.pending.tool
        same = same and record.get("call_id") == pending.pending.call_id
        if waiting and same and key.startswith(f"t{turn}."):
            return key
    raise durable.damaged("the pending call has no matching journal record")


def pending_of(agent: Agent, thread_id: str) -> Interrupted | None:
    store = agent.checkpointer
    if store is None:
        raise UsageError(f"{agent.name} has no checkpointer, so it has no paused threads")
    record = store.load(thread_id)
    if record.status != "interrupted" or not record.pending:
        return None
    return _interrupted(agent, Durable(store, thread_id, record.calls), record.pending)


def journaled_model_call(
    run: AgentRun, model: Runnable[Any, Any], messages: Any, config: RunConfig
) -> FlowGen:
    """A model call whose reply is journaled (replayed on a resume); an ``interrupt()``
    inside the model's chain pauses the run."""
    durable = run.durable
    assert durable is not None
    key = f"t{run.turn}.model"
    record = durable.calls.get(key)
    answers: list[Any] = []
    if record is not None:
        if record["status"] == "done":
            return decode_reply(durable, key, record)
        if record["status"] == "interrupted":
            raise RunPaused(Interrupted(durable.thread_id, "interrupt", None, record.get("value")))
        answers = list(record.get("answers") or [])
    out = yield Call(GUARD, (model, messages, answers), config)
    if isinstance(out, Paused):
        yield durable.put(config, key, "interrupted", {"value": out.value, "answers": answers})
        raise RunPaused(Interrupted(durable.thread_id, "interrupt", None, out.value))
    yield durable.put(config, key, "done", encode_reply(out))
    return out


def durable_act(
    agent: Agent,
    run: AgentRun,
    requests: Sequence[tuple[str, str | dict[str, Any], str | None]],
    thought: str,
    config: RunConfig,
) -> FlowGen:
    """``Agent.act`` in a durable run: plan each call from the journal, pause for any
    decision before running anything, then run the calls (journaled)."""
    durable = run.durable
    assert durable is not None
    steps: list[Step | None] = [None] * len(requests)
    plans: dict[int, tuple[str, Any, CallPlan]] = {}
    pause: Interrupted | None = None
    for i, (name, tool_input, call_id) in enumerate(requests):
        tool = agent.find_tool(name)
        if tool is None:
            steps[i] = agent.unknown_step(name, tool_input, thought, call_id)
            continue
        key = f"t{run.turn}.c{i}"
        needs = key not in durable.calls and agent.needs_approval(tool, tool_input)
        plan = plan_call(durable, key, tool, tool_input, call_id, needs)
        if plan.action == "pause" and plan.interrupted is not None:
            if plan.interrupted.kind == "approval" and key not in durable.calls:
                data = {"tool": tool.name, "args": tool_input, "call_id": call_id}
                yield durable.put(config, key, "awaiting", data)
            pause = pause or plan.interrupted
        plans[i] = (key, tool, plan)
    if pause is not None:
        raise RunPaused(pause)
    todo: list[tuple[int, str, Any, CallPlan]] = []
    for i, (key, tool, plan) in plans.items():
        call_id = requests[i][2]
        if plan.action == "done":
            steps[i] = done_step(durable, key, thought, call_id)
        elif plan.action == "reject":
            assert plan.decision is not None
            kind = durable.calls[key].get("from", "approval")
            seen = rejected_observation(str(kind), plan.decision.reason)
            step = Step(thought, tool.name, plan.args, seen, 0.0, "rejected", call_id)
            data = {"tool": tool.name, "args": plan.args, "call_id": call_id}
            yield durable.put(
                config, key, "done", {**data, "observation": seen, "error": "rejected"}
            )
            steps[i] = step
        else:
            todo.append((i, key, tool, plan))
    calls = [
        Call(JOURNALED, (durable, key, tool, plan.args, plan.answers, requests[i][2]), config)
        for i, key, tool, plan in todo
    ]
    outcomes: list[Any] = []
    if len(calls) == 1:
        outcomes = [(yield calls[0])]
    elif calls:
        outcomes = yield Gather(calls, config.max_concurrency)
    for (i, _key, tool, plan), out in zip(todo, outcomes, strict=True):
        call_id = requests[i][2]
        if isinstance(out, Interrupted):
            pause = pause or out
            continue
        steps[i] = Step(
            thought, tool.name, plan.args, out.observation, out.seconds, out.error, call_id
        )
    if pause is not None:
        raise RunPaused(pause)
    return steps


def _journaled_flow(job: Any, config: RunConfig) -> FlowGen:
    """Run one tool call between its ``started`` and ``done`` records; an ``interrupt()``
    inside it is recorded and returned as :class:`Interrupted`."""
    durable, key, tool, args, answers, call_id = job
    data = {"tool": tool.name, "args": args, "call_id": call_id}
    yield durable.put(config, key, "started", {**data, "answers": list(answers)})
    out = yield Call(GUARD, (_RUNNER, (tool, args), list(answers)), config)
    if isinstance(out, Paused):
        record = {**data, "answers": list(answers), "value": out.value}
        yield durable.put(config, key, "interrupted", record)
        return Interrupted(
            durable.thread_id, "interrupt", PendingCall(tool.name, args, call_id), out.value
        )
    result = {"observation": out.observation, "error": out.error, "seconds": out.seconds}
    yield durable.put(config, key, "done", {**data, **result})
    return out


class JournaledCall(Flow[Any, Any]):
    """``(durable, key, tool, args, answers, call_id) -> ToolOutcome | Interrupted``."""

    kind = "journaled_tool_call"

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        return (yield from _journaled_flow(input, config))


JOURNALED = JournaledCall()


class Resumption(Flow[Any, Any]):
    """``agent.resume(thread_id, decision, value=...)`` as a Runnable (its input is
    ignored), so front ends can stream it like a run: ``agent.resuming(thread_id, ...)``."""

    kind = "agent_resume"

    def __init__(self, agent: Agent, thread_id: str, decision: Decision | None, value: Any):
        self.agent, self.thread_id, self.decision, self.value = agent, thread_id, decision, value

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        return (
            yield from resume_flow(self.agent, self.thread_id, self.decision, self.value, config)
        )
