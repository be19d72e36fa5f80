"""Step records and the result of an agent run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NotRequired, TypedDict

from agentkit.agents.interrupts import Interrupted

STOP_REASONS = ("max_iterations", "max_execution_time", "interrupted")


@dataclass
class Step:
    """One step of an agent run: a tool call and its observation, or a format error.

    Attributes:
        thought: the model's reasoning (ReAct ``Thought:``, or the text sent with tool calls).
        tool: the tool the model asked for (``None`` when the reply could not be parsed).
        tool_input: the tool's input as the model gave it (a dict of arguments or text).
        observation: what the model is shown: the tool's output, or an error with a hint.
        seconds: how long the tool ran (0.0 when no tool ran).
        error: what went wrong (a parse error, an unknown tool, a tool failure), else None.
        tool_call_id: the id of a native tool call (tool-calling agents).
        log: the model's raw reply (ReAct).
    """

    thought: str = ""
    tool: str | None = None
    tool_input: str | dict[str, Any] | None = None
    observation: str = ""
    seconds: float = 0.0
    error: str | None = None
    tool_call_id: str | None = None
    log: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-safe data (when the tool input is)."""
        data = asdict(self)
        if isinstance(self.tool_input, dict):
            data["tool_input"] = dict(self.tool_input)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class AgentResult(TypedDict):
    """What an agent's ``invoke`` returns.

    ``output`` is the final answer (or the stop message); ``stopped_reason`` is ``None``
    when the model finished, else ``"max_iterations"`` or ``"max_execution_time"``, or
    ``"interrupted"`` when a durable run paused: then ``output`` is empty and ``interrupt``
    holds the :class:`~agentkit.agents.Interrupted` record (what the run waits for).
    """

    output: str
    steps: list[Step]
    stopped_reason: str | None
    interrupt: NotRequired[Interrupted]


def stop_message(reason: str, max_iterations: int, max_execution_time: float | None) -> str:
    """The output of a run stopped with ``early_stopping="force"``."""
    if reason == "max_iterations":
        return f"Agent stopped: iteration limit ({max_iterations}) reached"
    return f"Agent stopped: time limit ({max_execution_time} s) reached"


def result_to_dict(result: Mapping[str, Any]) -> dict[str, Any]:
    """An agent result with its steps as plain dicts (for JSON)."""
    return {**result, "steps": [s.to_dict() for s in result["steps"]]}
