"""The agent loop, written once as a flow (see :mod:`agentkit.core.flow`).

:class:`Agent` runs: load history from the memory, then up to ``max_iterations`` turns of
"call the model, run the tools it asks for", each turn adding :class:`Step` records, until
the model gives a final answer; then save the turn to the memory. At a limit it stops
cleanly (``early_stopping="force"``: a stop message) or asks the model once more for a
best-effort answer (``"generate"``). ``invoke``, a native ``ainvoke``, ``stream`` and
``astream`` all come from the one flow: the stream yields ``{"step": Step}`` chunks (``Emit``
operations) as the steps happen and then the result; in a run with events
(``stream_events``) each step is also an ``AgentStep`` event.

Subclasses (:class:`~agentkit.agents.react.ReActAgent`,
:class:`~agentkit.agents.tool_calling.ToolCallingAgent`) name their bundled prompt files,
bind the model, and implement one turn and the best-effort final call. Turns call the model
with :meth:`Agent.call_model` and run tools with :meth:`Agent.act`, which journal them in a
durable run (``checkpointer=``; see :mod:`agentkit.agents.durable` and
:mod:`agentkit.agents.resume`): the state is committed after every step, ``resume`` goes on
after a pause, a crash or a restart, and calls needing approval pause the run first.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypedDict, Unpack

from agentkit.agents.checkpoint import SQLiteCheckpointer
from agentkit.agents.durable import Durable, RunPaused, encode_state, io
from agentkit.agents.interrupts import Decision, Interrupted
from agentkit.agents.prompting import PROMPTS_DIR, bundled_prompt, check_prompt
from agentkit.agents.resume import (
    NO_VALUE,
    Resumption,
    durable_act,
    journaled_model_call,
    pause_run,
    pending_of,
    resume_flow,
    start_thread,
)
from agentkit.agents.steps import AgentResult, Step, stop_message
from agentkit.agents.toolbox import as_tools, unknown_tool_message
from agentkit.core.compose import Lambda
from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.events import AgentStep
from agentkit.core.flow import Call, Emit, Flow, FlowGen, Gather, arun_flow, run_flow
from agentkit.core.graph import Graph
from agentkit.core.messages import Message, assistant, user
from agentkit.core.options import check_options
from agentkit.core.runnable import Runnable
from agentkit.memory.protocol import Memory
from agentkit.tools import ToolRunner

EARLY_STOPPING = ("force", "generate")


class ResumeOptions(TypedDict, total=False):
    """The keyword options of :meth:`Agent.resume` and :meth:`Agent.aresume`."""

    value: Any
    """The answer to the run's pending :func:`~agentkit.agents.interrupt`."""
    config: ConfigLike
    """The config of the resumed run (tracers, events, ...)."""


@dataclass
class AgentRun:
    """The state of one run: prompt values, steps so far, the tool-agent conversation."""

    values: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    reported: int = 0  # how many steps have been streamed
    turn: int = 0  # model calls made so far
    durable: Durable | None = None  # the checkpoint of a durable run
    output: str | None = None  # the answer, once known
    stopped_reason: str | None = None

    def add(self, step: Step) -> None:
        self.steps.append(step)


class Agent(Flow[Any, dict[str, Any]]):
    """Base of the agents: the loop, limits, prompt, memory and step streaming.

    Input: a question string or ``{"input": question, ...}`` (other keys are extra prompt
    variables). Output: an :class:`AgentResult` dict ``{"output": answer, "steps": [Step,
    ...], "stopped_reason": ...}``. The memory's session is
    ``config.get("session_id", "default")``.

    Args:
        model: a chat model (bound by :meth:`bind_model`, e.g. with a stop sequence).
        tools: :class:`~agentkit.tools.Tool` objects (or plain functions, made into tools).
        prompt: a prompt with the subclass's ``prompt_variables`` (and a ``history``
            placeholder when a memory is given); default: the bundled ``prompt_file``.
        memory: an :class:`agentkit.memory.Memory` (``load(session)`` / ``save(session, turn)``).
        max_iterations: the most model calls before stopping (default 10).
        max_execution_time: seconds after which no new model call starts.
        early_stopping: at a limit, ``"force"`` returns a stop message, ``"generate"`` asks
            the model once more for a best-effort answer.
        final_instruction: the text of that last request (default: the bundled
            ``final_instruction_file``).
        checkpointer: a :class:`SQLiteCheckpointer`: the run is durable, checkpointed
            after every step under ``config["configurable"]["thread_id"]`` and continued
            with :meth:`resume` (see docs/durable-agents.md).
        approval: a policy ``(tool, arguments) -> bool``: ``True`` pauses the call for a
            person's decision (as tools with ``requires_approval=True`` always do).
    """

    kind = "agent"
    prompt_file: ClassVar[str]  # the bundled prompt, in agentkit/agents/prompts/
    final_instruction_file: ClassVar[str]  # the bundled best-effort request, same folder
    prompt_variables: ClassVar[tuple[str, ...]] = ("input",)  # what the prompt must take

    def __init__(
        self,
        model: Runnable[Any, Any],
        tools: Sequence[Any],
        *,
        prompt: Runnable[Any, Any] | None = None,
        memory: Memory | None = None,
        max_iterations: int = 10,
        max_execution_time: float | None = None,
        early_stopping: str = "force",
        final_instruction: str | None = None,
        checkpointer: SQLiteCheckpointer | None = None,
        approval: Callable[[Any, Any], bool] | None = None,
    ) -> None:
        from agentkit.core.foreign import coerce_foreign

        model = coerce_foreign(model)  # a LangChain chat model works as it is
        if not isinstance(model, Runnable):
            raise UsageError(
                f"an agent's model must be a chat model (a Runnable), got {type(model).__name__}"
            )
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
            raise UsageError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if max_iterations < 1:
            raise UsageError(f"max_iterations must be at least 1, got {max_iterations}")
        if max_execution_time is not None and (
            isinstance(max_execution_time, bool)
            or not isinstance(max_execution_time, int | float)
            or max_execution_time <= 0
        ):
            raise UsageError(
                f"max_execution_time must be a positive number of seconds or None, "
                f"got {max_execution_time!r}"
            )
        if early_stopping not in EARLY_STOPPING:
            raise UsageError(
                f"early_stopping must be 'force' (return a stop message) or 'generate' (ask "
                f"the model for a best-effort answer), got {early_stopping!r}"
            )
        if memory is not None and not isinstance(memory, Memory):
            raise UsageError(
                f"an agent's memory is an agentkit.memory.Memory: it needs load(session) and "
                f"save(session, turn); "
                f"got {type(memory).__name__}"
            )
        if checkpointer is not None and not isinstance(checkpointer, SQLiteCheckpointer):
            raise UsageError(
                f"checkpointer must be an agentkit.agents.SQLiteCheckpointer, got "
                f"{type(checkpointer).__name__}"
            )
        if approval is not None and not callable(approval):
            raise UsageError(
                f"approval must be a function (tool, arguments) -> bool, got {approval!r}"
            )
        self.checkpointer = checkpointer
        self.approval = approval
        self.model = model
        self.tools = as_tools(tools)
        self.memory = memory
        self.max_iterations = max_iterations
        self.max_execution_time = None if max_execution_time is None else float(max_execution_time)
        self.early_stopping = early_stopping
        self.final_instruction = final_instruction or self.default_final_instruction()
        self._by_name = {t.name: t for t in self.tools}
        self._by_lower = {t.name.lower(): t for t in self.tools}
        self._runner = ToolRunner()
        self._load: Lambda | None = None
        self._save: Lambda | None = None
        if memory is not None:
            self._load = Lambda(memory.load, name="memory.load", blocking=True)
            self._save = Lambda(lambda a: memory.save(*a), name="memory.save", blocking=True)
        self.custom_prompt = prompt is not None  # False: the bundled one (left out of specs)
        self.prompt = prompt if prompt is not None else bundled_prompt(self.prompt_file)
        required = [*self.prompt_variables, *(["history"] if memory is not None else [])]
        check_prompt(self.prompt, required, type(self).__name__)
        self._model = self.bind_model(model)

    def default_final_instruction(self) -> str:
        """The bundled text asking for a best-effort answer at a limit."""
        return (PROMPTS_DIR / self.final_instruction_file).read_text(encoding="utf-8").strip()

    # --- what a subclass provides ------------------------------------------------------

    @abstractmethod
    def bind_model(self, model: Runnable[Any, Any]) -> Runnable[Any, Any]:
        """The model as the turns call it (e.g. with a stop sequence or tool schemas)."""

    def begin(self, run: AgentRun, config: RunConfig) -> None:
        """Prepare a run (e.g. render the conversation's first messages)."""

    @abstractmethod
    def turn(self, run: AgentRun, config: RunConfig) -> FlowGen:
        """One model call and the tool runs it asks for; return the answer or ``None``."""

    @abstractmethod
    def final_call(self, run: AgentRun, config: RunConfig) -> FlowGen:
        """Ask the model for a best-effort answer from the steps so far; return it
        (an empty string when the reply has none)."""

    # --- the loop ----------------------------------------------------------------------

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        values = self._values(input)
        session = str(config.get("session_id", "default"))
        if self._load is not None:
            values["history"] = list((yield Call(self._load, session, config)))
        else:
            values.setdefault("history", [])
        run = AgentRun(values)
        self.begin(run, config)
        if self.checkpointer is not None:
            run.durable = yield from start_thread(self, run, session, config)
        return (yield from self.loop(run, session, config))

    def loop(self, run: AgentRun, session: str, config: RunConfig) -> FlowGen:
        """The turns from ``run.turn`` on, the limits, and the memory save."""
        started = time.monotonic()
        durable = run.durable
        while run.output is None and run.stopped_reason is None:
            limit = self.max_execution_time
            if run.turn >= self.max_iterations:
                run.stopped_reason = "max_iterations"
            elif limit is not None and time.monotonic() - started >= limit:
                run.stopped_reason = "max_execution_time"
            else:
                try:
                    run.output = yield from self.turn(run, config)
                except RunPaused as paused:
                    return (yield from pause_run(run, paused.interrupted, config))
                run.turn += 1
                yield from self._report(run, config)
            if durable is not None:  # one transaction per step
                state = encode_state(run, session)
                yield io(
                    config, durable.store.save, durable.thread_id, state, "running", None, True
                )
        stopped = run.stopped_reason
        if stopped is not None and not run.output:
            output = ""
            if self.early_stopping == "generate":
                try:
                    output = (yield from self.final_call(run, config)).strip()
                except RunPaused as paused:
                    return (yield from pause_run(run, paused.interrupted, config))
                yield from self._report(run, config)
            run.output = output or stop_message(
                stopped, self.max_iterations, self.max_execution_time
            )
        output = run.output or ""
        if self._save is not None:
            turn = [user(str(run.values["input"])), assistant(output)]
            yield Call(self._save, (session, turn), config)
        if durable is not None:
            state = encode_state(run, session)
            yield io(config, durable.store.save, durable.thread_id, state, "done", None, True)
        return AgentResult(output=output, steps=run.steps, stopped_reason=stopped)

    def resume(
        self, thread_id: str, decision: Decision | None = None, **options: Unpack[ResumeOptions]
    ) -> dict[str, Any]:
        """Continue the durable run ``thread_id`` after a pause, a crash or a restart.

        ``decision`` answers a pending tool call (:func:`approve`, :func:`reject`,
        :func:`edit`); ``value=`` answers an :func:`interrupt` (see :class:`ResumeOptions`).
        A finished thread returns its stored result. Needs the agent's ``checkpointer``.
        """
        return run_flow(self._resume_flow(thread_id, decision, options))

    async def aresume(
        self, thread_id: str, decision: Decision | None = None, **options: Unpack[ResumeOptions]
    ) -> dict[str, Any]:
        """Async :meth:`resume`."""
        return await arun_flow(self._resume_flow(thread_id, decision, options))

    def _resume_flow(
        self, thread_id: str, decision: Decision | None, options: ResumeOptions
    ) -> FlowGen:
        """The flow ``resume`` and ``aresume`` drive."""
        check_options(options, ResumeOptions.__optional_keys__, "resume")
        value = options.get("value", NO_VALUE)
        return resume_flow(self, thread_id, decision, value, ensure_config(options.get("config")))

    def resuming(
        self, thread_id: str, decision: Decision | None = None, *, value: Any = NO_VALUE
    ) -> Runnable[Any, Any]:
        """:meth:`resume` as a Runnable (input ignored) to stream or run with events."""
        return Resumption(self, thread_id, decision, value)

    def pending(self, thread_id: str) -> Interrupted | None:
        """What the thread waits for (``None`` when it is not paused)."""
        return pending_of(self, thread_id)

    def call_model(
        self, run: AgentRun, model: Runnable[Any, Any], messages: Any, config: RunConfig
    ) -> FlowGen:
        """Call the model (journaled in a durable run: a resume replays the reply)."""
        if run.durable is None:
            return (yield Call(model, messages, config))
        return (yield from journaled_model_call(run, model, messages, config))

    def needs_approval(self, tool: Any, tool_input: Any) -> bool:
        """Whether a call must wait for a person: the tool says so, or the policy does."""
        if getattr(tool, "requires_approval", False):
            return True
        return self.approval is not None and bool(self.approval(tool, tool_input))

    def _report(self, run: AgentRun, config: RunConfig) -> FlowGen:
        """Stream the steps recorded since the last report (and report them as events)."""
        for step in run.steps[run.reported :]:
            if config.events is not None:
                config.events.emit(AgentStep(config.parent_run_id, self.name, step))
            yield Emit({"step": step})
        run.reported = len(run.steps)

    def _values(self, input: Any) -> dict[str, Any]:
        if isinstance(input, str):
            return {"input": input}
        if isinstance(input, Mapping):
            if "input" not in input:
                raise UsageError(
                    f"{self.name} takes a question string or a dict with an 'input' key, got "
                    f"a dict with keys {sorted(input)}"
                )
            return dict(input)
        raise UsageError(
            f"{self.name} takes a question string or {{'input': question}}, "
            f"got {type(input).__name__}"
        )

    def act(
        self,
        run: AgentRun,
        requests: Sequence[tuple[str, str | dict[str, Any], str | None]],
        thought: str,
        config: RunConfig,
    ) -> FlowGen:
        """Run the requested ``(tool name, input, call id)`` calls safely (errors become
        observations), concurrently when there are several; return their steps in order.
        In a durable run the calls are journaled, and approvals pause the run first."""
        if run.durable is not None:
            return (yield from durable_act(self, run, requests, thought, config))
        steps: list[Step | None] = [None] * len(requests)
        pending: list[tuple[int, Any]] = []
        for i, (name, tool_input, call_id) in enumerate(requests):
            tool = self.find_tool(name)
            if tool is None:
                steps[i] = self.unknown_step(name, tool_input, thought, call_id)
            elif self.needs_approval(tool, tool_input):
                raise UsageError(
                    f"the tool {tool.name!r} needs approval, which needs a durable run: give "
                    "the agent checkpointer=SQLiteCheckpointer(path) and run it with "
                    "{'configurable': {'thread_id': ...}}"
                )
            else:
                pending.append((i, tool))
        calls = [Call(self._runner, (tool, requests[i][1]), config) for i, tool in pending]
        outcomes: list[Any] = []
        if len(calls) == 1:
            outcomes = [(yield calls[0])]
        elif calls:
            outcomes = yield Gather(calls, config.max_concurrency)
        for (i, tool), out in zip(pending, outcomes, strict=True):
            _, tool_input, call_id = requests[i]
            steps[i] = Step(
                thought, tool.name, tool_input, out.observation, out.seconds, out.error, call_id
            )
        return steps

    def unknown_step(self, name: str, tool_input: Any, thought: str, call_id: str | None) -> Step:
        message = unknown_tool_message(name, list(self._by_name))
        return Step(thought, name, tool_input, message, 0.0, f"unknown tool {name!r}", call_id)

    def find_tool(self, name: str) -> Any:
        """The tool called ``name`` (exact, else case-insensitive), or ``None``."""
        return self._by_name.get(name) or self._by_lower.get(name.lower())

    def graph(self) -> Graph:
        return Graph.fan_out(self, [self.model.graph(), *(t.graph() for t in self.tools)])

    def __repr__(self) -> str:
        return f"<{self.name} tools={[t.name for t in self.tools]}>"


def reply_text(reply: Any) -> str:
    """The text of a model's reply (a Message, or a string from a text runnable)."""
    if isinstance(reply, Message):
        return reply.content
    return reply if isinstance(reply, str) else str(reply)
