"""The agent loop, written once as a flow (see :mod:`agentkit.core.flow`).

:class:`Agent` runs: load history from the memory, then up to ``max_iterations`` turns of
"call the model, run the tools it asks for", each turn adding :class:`Step` records, until
the model gives a final answer; then save the turn to the memory. At a limit it stops
cleanly (``early_stopping="force"``: a stop message) or asks the model once more for a
best-effort answer (``"generate"``). ``invoke`` and a native ``ainvoke`` come from the one
flow, and so do :meth:`Agent.stream` / :meth:`Agent.astream`, which yield
``{"step": Step}`` as each step happens and then the result.

Subclasses (:class:`~agentkit.agents.react.ReActAgent`,
:class:`~agentkit.agents.tool_calling.ToolCallingAgent`) name their bundled prompt files,
bind the model, and implement one turn and the best-effort final call.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from agentkit.agents.steps import AgentResult, Step, stop_message
from agentkit.agents.toolbox import as_tools, unknown_tool_message
from agentkit.core.compose import Lambda
from agentkit.core.config import ConfigLike, RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, Flow, FlowGen, Gather, Op, arun_flow, run_flow
from agentkit.core.graph import Graph
from agentkit.core.runnable import Runnable, traced
from agentkit.llms.messages import Message, assistant, user
from agentkit.tools import ToolRunner

EARLY_STOPPING = ("force", "generate")
PROMPTS_DIR = Path(__file__).parent / "prompts"


def bundled_prompt(file: str) -> Runnable[Any, Any]:
    """A prompt bundled as data in ``agentkit/agents/prompts/``."""
    from agentkit.prompts import load_prompt

    return load_prompt(PROMPTS_DIR / file)


def check_prompt(prompt: Any, required: Sequence[str], owner: str) -> None:
    """Raise when a prompt template lacks a variable the agent fills in."""
    if not isinstance(prompt, Runnable):
        raise UsageError(f"{owner}'s prompt must be a prompt template, got {type(prompt).__name__}")
    names = getattr(prompt, "variables", None)
    if names is None:  # another kind of runnable: trust it
        return
    known = set(names) | set(getattr(prompt, "optional_variables", ()))
    missing = [v for v in required if v not in known]
    if missing:
        raise UsageError(
            f"{owner}'s prompt lacks the variable(s) {missing} (it has {sorted(known)}); "
            "start from the bundled prompt in agentkit/agents/prompts/ and keep its variables"
        )


@dataclass
class AgentRun:
    """The state of one run: prompt values, steps so far, the tool-agent conversation."""

    values: dict[str, Any]
    emit: Callable[[Step], None] | None = None
    steps: list[Step] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def add(self, step: Step) -> None:
        self.steps.append(step)
        if self.emit is not None:
            self.emit(step)


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
        memory: an object with ``load(session)`` / ``save(session, turn)``.
        max_iterations: the most model calls before stopping (default 10).
        max_execution_time: seconds after which no new model call starts.
        early_stopping: at a limit, ``"force"`` returns a stop message, ``"generate"`` asks
            the model once more for a best-effort answer.
        final_instruction: the text of that last request (default: the bundled
            ``final_instruction_file``).
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
        memory: Any = None,
        max_iterations: int = 10,
        max_execution_time: float | None = None,
        early_stopping: str = "force",
        final_instruction: str | None = None,
    ) -> None:
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
        if memory is not None and not (
            callable(getattr(memory, "load", None)) and callable(getattr(memory, "save", None))
        ):
            raise UsageError(
                f"an agent's memory needs load(session) and save(session, turn); "
                f"got {type(memory).__name__}"
            )
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
        return (yield from self._run(input, config, None))

    def _run(self, input: Any, config: RunConfig, emit: Callable[[Step], None] | None) -> FlowGen:
        values = self._values(input)
        session = str(config.get("session_id", "default"))
        if self._load is not None:
            values["history"] = list((yield Call(self._load, session, config)))
        else:
            values.setdefault("history", [])
        run = AgentRun(values, emit)
        self.begin(run, config)
        started = time.monotonic()
        output: str | None = None
        stopped: str | None = None
        for _ in range(self.max_iterations):
            limit = self.max_execution_time
            if limit is not None and time.monotonic() - started >= limit:
                stopped = "max_execution_time"
                break
            output = yield from self.turn(run, config)
            if output is not None:
                break
        else:
            stopped = "max_iterations"
        if stopped is not None:
            output = ""
            if self.early_stopping == "generate":
                output = (yield from self.final_call(run, config)).strip()
            output = output or stop_message(stopped, self.max_iterations, self.max_execution_time)
        assert output is not None
        if self._save is not None:
            turn = [user(str(values["input"])), assistant(output)]
            yield Call(self._save, (session, turn), config)
        return AgentResult(output=output, steps=run.steps, stopped_reason=stopped)

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
        requests: Sequence[tuple[str, str | dict[str, Any], str | None]],
        thought: str,
        config: RunConfig,
    ) -> FlowGen:
        """Run the requested ``(tool name, input, call id)`` calls safely (errors become
        observations), concurrently when there are several; return their steps in order."""
        steps: list[Step | None] = [None] * len(requests)
        pending: list[tuple[int, Any]] = []
        for i, (name, tool_input, call_id) in enumerate(requests):
            tool = self.find_tool(name)
            if tool is None:
                message = unknown_tool_message(name, list(self._by_name))
                error = f"unknown tool {name!r}"
                steps[i] = Step(thought, name, tool_input, message, 0.0, error, call_id)
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

    def find_tool(self, name: str) -> Any:
        """The tool called ``name`` (exact, else case-insensitive), or ``None``."""
        return self._by_name.get(name) or self._by_lower.get(name.lower())

    # --- streaming: the same flow, driven op by op -------------------------------------

    @traced
    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[dict[str, Any]]:
        """Yield ``{"step": Step}`` as each step completes, then the result dict. The chunks
        are dicts, so they merge (as stream chunks do) into the result plus a ``"step"``
        key, and the agent streams inside a chain like any other node."""
        feed = _StepFeed(self, input, config)  # type: ignore[arg-type]
        value: Any = None
        error: Exception | None = None
        while True:
            yield from feed.resume(value, error)
            if feed.op is None:
                return
            try:
                value, error = run_flow(_single(feed.op)), None
            except Exception as exc:
                value, error = None, exc

    @traced
    async def astream(self, input: Any, config: ConfigLike = None) -> AsyncIterator[dict[str, Any]]:
        """Async :meth:`stream` (tools and model run through their async paths)."""
        feed = _StepFeed(self, input, config)  # type: ignore[arg-type]
        value: Any = None
        error: Exception | None = None
        while True:
            for chunk in feed.resume(value, error):
                yield chunk
            if feed.op is None:
                return
            try:
                value, error = await arun_flow(_single(feed.op)), None
            except Exception as exc:
                value, error = None, exc

    def graph(self) -> Graph:
        return Graph.fan_out(self, [self.model.graph(), *(t.graph() for t in self.tools)])

    def __repr__(self) -> str:
        return f"<{self.name} tools={[t.name for t in self.tools]}>"


class _StepFeed:
    """An agent run driven one operation at a time, for :meth:`Agent.stream` and
    :meth:`Agent.astream` (which differ only in how they perform ``op``)."""

    def __init__(self, agent: Agent, input: Any, config: RunConfig) -> None:
        self.steps: list[Step] = []
        self.gen = agent._run(input, config, self.steps.append)
        self.op: Op | None = None  # the operation to perform next; None once the run is done

    def resume(self, value: Any, error: Exception | None) -> list[dict[str, Any]]:
        """Hand the last operation's outcome to the run; return the chunks now ready: the
        new steps, then the result when the run has finished."""
        try:
            self.op = self.gen.send(value) if error is None else self.gen.throw(error)
        except StopIteration as stop:
            self.op = None
            return [*self._drain(), stop.value]
        return self._drain()

    def _drain(self) -> list[dict[str, Any]]:
        chunks = [{"step": step} for step in self.steps]
        self.steps.clear()
        return chunks


def _single(op: Op) -> FlowGen:
    """A flow of one operation (lets the stream drivers reuse the core's runners)."""
    return (yield op)


def reply_text(reply: Any) -> str:
    """The text of a model's reply (a Message, or a string from a text runnable)."""
    if isinstance(reply, Message):
        return reply.content
    return reply if isinstance(reply, str) else str(reply)
