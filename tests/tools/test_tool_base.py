"""The Tool base class: hand-written tools, timeouts, truncation, safe runs, the registry."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from agentkit.core import RunConfig, UsageError, spec
from agentkit.core.tracing import InMemoryTracer
from agentkit.tools import (
    Tool,
    ToolExecutionError,
    ToolInputError,
    ToolOutcome,
    ToolRunner,
    arun_tool_safely,
    builtin_tools,
    get_tool,
    register_tool,
    run_tool_safely,
    tool,
    truncate,
)


class Greeter(Tool):
    name = "greeter"
    description = "Greet someone."
    args_schema = {
        "type": "object",
        "properties": {
            "who": {"type": "string"},
            "times": {"type": "integer"},
            "tone": {"type": "string", "enum": ["warm", "cold"]},
        },
        "required": ["who"],
    }

    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> str:
        return " ".join([f"Hello {args['who']}"] * args.get("times", 1))


def test_a_hand_written_tool_is_checked_against_its_schema() -> None:
    greeter = Greeter()
    assert greeter.invoke("Ann") == "Hello Ann"
    assert greeter.invoke({"who": "Bo", "times": 2}) == "Hello Bo Hello Bo"
    assert asyncio.run(greeter.ainvoke('{"who": "Cy"}')) == "Hello Cy"
    with pytest.raises(ToolInputError) as info:
        greeter.invoke({"times": True, "tone": "loud", "extra": 1})
    message = str(info.value)
    for fragment in (
        "who: missing (required)",
        "times: expected integer, got True",
        "tone: must be one of ['warm', 'cold']",
        "extra: unknown argument (allowed: who, times, tone)",
    ):
        assert fragment in message
    assert greeter.to_schema()["function"]["parameters"] is Greeter.args_schema


@tool(timeout=0.2)
def sleepy(seconds: float) -> str:
    """Sleep, then answer."""
    time.sleep(seconds)
    return "awake"


@tool(timeout=0.2)
async def async_sleepy(seconds: float) -> str:
    """Sleep asynchronously, then answer."""
    await asyncio.sleep(seconds)
    return "awake"


def test_sync_tools_stop_waiting_at_their_timeout() -> None:
    assert sleepy.invoke({"seconds": 0}) == "awake"
    started = time.monotonic()
    with pytest.raises(ToolExecutionError, match=r"tool 'sleepy' timed out.*0\.2 s limit"):
        sleepy.invoke({"seconds": 5})
    assert time.monotonic() - started < 4  # did not wait for the sleep to end


def test_async_tools_are_cancelled_at_their_timeout() -> None:
    assert asyncio.run(async_sleepy.ainvoke({"seconds": 0})) == "awake"
    with pytest.raises(ToolExecutionError, match=r"'async_sleepy' timed out.*0\.2 s"):
        asyncio.run(async_sleepy.ainvoke({"seconds": 5}))
    with pytest.raises(ToolExecutionError, match="timed out"):
        asyncio.run(sleepy.ainvoke({"seconds": 5}))


def test_the_timeout_thread_sees_the_callers_context_and_config() -> None:
    seen: dict[str, Any] = {}

    @tool(timeout=2)
    def record(x: int, config: RunConfig) -> str:
        """Record the thread and the config."""
        seen["thread"] = threading.current_thread().name
        seen["session"] = config.get("session_id")
        return "ok"

    record.invoke({"x": 1}, RunConfig(configurable={"session_id": "s1"}))
    assert seen == {"thread": "tool-record", "session": "s1"}


def test_long_results_are_truncated_with_a_marker() -> None:
    assert truncate("abc", 3) == "abc" and truncate("abc", None) == "abc"
    assert truncate("abcdef", 4) == "abcd\n[... truncated 2 of 6 characters]"

    @tool(max_output_chars=5)
    def long_text(n: int) -> str:
        """Return n characters."""
        return "x" * n

    assert long_text.invoke({"n": 12}) == "xxxxx\n[... truncated 7 of 12 characters]"


@tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def test_run_tool_safely_turns_every_failure_into_an_observation() -> None:
    ok = run_tool_safely(divide, {"a": 1, "b": 4})
    assert isinstance(ok, ToolOutcome) and (ok.observation, ok.error) == ("0.25", None)
    assert ok.seconds >= 0

    raised = run_tool_safely(divide, {"a": 1, "b": 0})
    assert raised.error is not None and raised.error.startswith("ToolExecutionError:")
    assert "ZeroDivisionError" in raised.observation
    assert raised.observation.startswith("Error: tool 'divide' failed")
    assert "Try a different input" in raised.observation

    bad = run_tool_safely(divide, {"a": "one"})
    assert bad.error is not None and bad.error.startswith("ToolInputError:")
    assert "b: Field required" in bad.observation
    assert "Call the tool again with corrected arguments" in bad.observation

    timed_out = run_tool_safely(sleepy, {"seconds": 3})
    assert "timed out" in (timed_out.error or "") and "0.2 s" in timed_out.observation


def test_arun_tool_safely_shares_the_logic() -> None:
    async def main() -> list[ToolOutcome]:
        return list(
            await asyncio.gather(
                arun_tool_safely(divide, {"a": 3, "b": 2}),
                arun_tool_safely(async_sleepy, {"seconds": 3}),
                arun_tool_safely(divide, "not json"),
            )
        )

    ok, slow, bad = asyncio.run(main())
    assert (ok.observation, ok.error) == ("1.5", None)
    assert "timed out" in (slow.error or "")
    assert "ToolInputError" in (bad.error or "")


def test_tool_runner_and_tracing() -> None:
    tracer = InMemoryTracer()
    outcome = ToolRunner().invoke((divide, {"a": 1, "b": 2}), RunConfig(tracers=[tracer]))
    assert outcome.observation == "0.5"
    assert "divide" in tracer.names()
    tracer = InMemoryTracer()
    run_tool_safely(divide, {"a": 1, "b": 2}, RunConfig(tracers=[tracer]))
    assert tracer.names() == ["divide"]


def test_the_registry_builds_tools_by_name() -> None:
    assert {"calculator", "wikipedia", "web_search", "python_repl", "today", "now"} <= set(
        builtin_tools()
    )
    assert get_tool("calculator").invoke("2+3") == "5"
    repl = get_tool("python_repl", timeout=3)
    assert repl.to_dict() == {"type": "tool", "name": "python_repl", "timeout": 3.0}
    with pytest.raises(UsageError, match=r"unknown tool 'nope'.*calculator"):
        get_tool("nope")
    with pytest.raises(UsageError, match="takes no options"):
        get_tool("calculator", precision=3)
    with pytest.raises(UsageError, match="does not accept"):
        get_tool("python_repl", colour="red")


def test_registered_tools_round_trip_through_specs() -> None:
    register_tool("test_greeter", lambda loud=False: Greeter())
    greeter = get_tool("test_greeter", loud=True)
    assert greeter.to_dict() == {"type": "tool", "name": "test_greeter", "loud": True}
    for name in ("calculator", "today", "wikipedia", "python_repl", "web_search"):
        data = get_tool(name).to_dict()
        assert data == {"type": "tool", "name": name}
        assert spec.load(data).name == name
    loaded = spec.load({"type": "tool", "name": "wikipedia", "lang": "fr", "top_k": 1})
    assert (loaded.lang, loaded.top_k) == ("fr", 1)
    with pytest.raises(spec.SpecError, match="does not accept"):
        spec.load({"type": "tool", "name": "wikipedia", "langue": "fr"})
    with pytest.raises(spec.SpecError, match="cannot be serialised"):
        Greeter().to_dict()


def test_a_tools_own_timeout_error_is_a_failure_not_its_limit() -> None:
    @tool
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        raise TimeoutError("socket timed out")

    with pytest.raises(ToolExecutionError, match="failed: TimeoutError: socket timed out"):
        asyncio.run(fetch.ainvoke("x"))
