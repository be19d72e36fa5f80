"""Run a tool for an agent: every failure becomes an observation, never an exception.

:func:`run_tool_safely` and :func:`arun_tool_safely` drive ONE flow (see
:mod:`agentkit.core.flow`), so the sync and async paths share their logic. The tool's span
is a child of the caller's span. :class:`ToolRunner` is the same flow as a Runnable taking
``(tool, args)``, for agents that run tools through ``Call`` operations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.flow import Call, Flow, FlowGen, arun_flow, run_flow
from agentkit.tools.base import Tool, ToolExecutionError, ToolInputError, truncate


@dataclass(frozen=True)
class ToolOutcome:
    """What an agent records about one tool run.

    Attributes:
        observation: the text to show the model (the output, or the error with a hint).
        error: ``None`` on success, else a one-line ``"<ErrorType>: <message>"``.
        seconds: wall-clock time of the run.
    """

    observation: str
    error: str | None
    seconds: float


def failure_observation(tool: Tool, exc: BaseException) -> str:
    """The text shown to the model when ``tool`` failed with ``exc``."""
    if isinstance(exc, ToolInputError):
        hint = "Call the tool again with corrected arguments."
    elif isinstance(exc, ToolExecutionError):
        hint = "Try a different input or another tool."
    else:
        hint = "Try a different input or another tool."
        exc = ToolExecutionError(f"tool {tool.name!r} failed: {type(exc).__name__}: {exc}")
    return truncate(f"Error: {exc} {hint}", tool.max_output_chars)


def safe_flow(tool: Tool, args: Any, config: RunConfig) -> FlowGen:
    """The shared logic: run the tool, catch any failure, time it."""
    start = time.perf_counter()
    try:
        output = yield Call(tool, args, config)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        first_line = error.splitlines()[0] if error else error
        return ToolOutcome(
            failure_observation(tool, exc), first_line[:300], time.perf_counter() - start
        )
    return ToolOutcome(str(output), None, time.perf_counter() - start)


def run_tool_safely(tool: Tool, args: Any, config: ConfigLike = None) -> ToolOutcome:
    """Run ``tool`` on ``args`` (a dict or text); failures become the observation."""
    outcome: ToolOutcome = run_flow(safe_flow(tool, args, ensure_config(config)))
    return outcome


async def arun_tool_safely(tool: Tool, args: Any, config: ConfigLike = None) -> ToolOutcome:
    """Async :func:`run_tool_safely` (native for async tools)."""
    outcome: ToolOutcome = await arun_flow(safe_flow(tool, args, ensure_config(config)))
    return outcome


class ToolRunner(Flow[Any, ToolOutcome]):
    """``(tool, args) -> ToolOutcome`` as a Runnable (the same flow as run_tool_safely)."""

    kind = "tool_runner"

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        tool, args = input
        return (yield from safe_flow(tool, args, config))
