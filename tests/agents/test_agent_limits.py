"""Failures and limits: tools that raise or time out, unparsable replies, runaway models."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from agentkit.agents import ReActAgent, ToolCallingAgent, create_react_agent, create_tool_agent
from agentkit.core.errors import UsageError
from agentkit.llms import (
    ChatResult,
    FakeListModel,
    FunctionModel,
    GenerationParams,
    Message,
    ToolCall,
)
from agentkit.tools import calculator, tool


@tool
def flaky(city: str) -> str:
    """Look up the weather of a city."""
    if city == "Atlantis":
        raise ConnectionError("weather service unreachable")
    return f"sunny in {city}"


def test_a_tool_that_raises_becomes_an_observation_and_the_agent_recovers() -> None:
    model = FakeListModel(
        [
            "Action: flaky\nAction Input: Atlantis",
            "Thought: try another city\nAction: flaky\nAction Input: Paris",
            "Final Answer: sunny in Paris",
        ]
    )
    result = create_react_agent(model, [flaky]).invoke("weather?")
    failed, ok = result["steps"]
    assert failed.error is not None and "ConnectionError" in failed.error
    assert "weather service unreachable" in failed.observation
    assert failed.observation.startswith("Error:")
    assert (ok.observation, ok.error) == ("sunny in Paris", None)
    assert result["output"] == "sunny in Paris" and result["stopped_reason"] is None
    assert "Observation: Error:" in model.calls[1][-1].content


def test_invalid_tool_arguments_go_back_to_the_model() -> None:
    model = FakeListModel(['Action: flaky\nAction Input: {"town": "Paris"}', "Final Answer: ?"])
    step = create_react_agent(model, [flaky]).invoke("weather?")["steps"][0]
    assert step.error is not None and "ToolInputError" in step.error
    assert "city" in step.observation  # the expected schema is shown


def test_a_tool_that_times_out_is_reported_and_the_agent_goes_on() -> None:
    release = threading.Event()

    @tool(timeout=0.05)
    def slow(query: str) -> str:
        """A tool that hangs."""
        release.wait(10)
        return "late"

    model = FakeListModel(["Action: slow\nAction Input: x", "Final Answer: gave up on slow"])
    try:
        result = create_react_agent(model, [slow]).invoke("q")
    finally:
        release.set()
    [step] = result["steps"]
    assert step.error is not None and "timed out" in step.error
    assert "timed out" in step.observation and "0.05 s" in step.observation
    assert result["output"] == "gave up on slow"


def test_five_unparsable_replies_then_a_good_one() -> None:
    bad = [
        "I think I should use the calculator.",
        "Action Input: 2+2",
        "",
        "Action:\nAction Input: 2+2",
        "Thought: hmm\nFinal Answer:",
    ]
    model = FakeListModel([*bad, "Action: calculator\nAction Input: 2+2", "Final Answer: 4"])
    result = create_react_agent(model, [calculator]).invoke("2+2?")
    assert result["output"] == "4" and result["stopped_reason"] is None
    steps = result["steps"]
    assert len(steps) == 6
    for step, text in zip(steps[:5], bad, strict=True):
        assert step.tool is None and step.log == text
        assert step.error is not None and step.error.startswith("parse error:")
        assert step.observation.startswith("Invalid format:")
    assert (steps[5].tool, steps[5].observation) == ("calculator", "4")
    # each correction hint was shown to the model on the next call
    assert "Invalid format" in model.calls[1][-1].content
    assert model.calls[5][-1].content.count("Invalid format") == 5


LOOPING = "Thought: once more\nAction: calculator\nAction Input: 1+1"


def test_never_finishing_model_force_stops_at_the_iteration_limit() -> None:
    model = FakeListModel([LOOPING])
    result = create_react_agent(model, [calculator]).invoke("loop")
    assert result["stopped_reason"] == "max_iterations"
    assert result["output"] == "Agent stopped: iteration limit (10) reached"
    assert len(result["steps"]) == 10 and len(model.calls) == 10


def test_never_finishing_model_generate_asks_once_more_for_an_answer() -> None:
    def fn(messages: list[Message], params: GenerationParams) -> str:
        if "cannot use any more tools" in messages[-1].content:
            return "Thought: enough\nFinal Answer: 2, probably"
        return LOOPING

    model = FunctionModel(fn)
    agent = create_react_agent(model, [calculator], max_iterations=3, early_stopping="generate")
    result = agent.invoke("loop")
    assert result["stopped_reason"] == "max_iterations"
    assert result["output"] == "2, probably"
    assert len(result["steps"]) == 3 and len(model.calls) == 4
    assert model.calls[-1][-2].content.count("Observation: 2") == 3  # built from the steps


def test_generate_falls_back_to_the_stop_message_when_the_model_still_wants_a_tool() -> None:
    agent = create_react_agent(
        FakeListModel([LOOPING]), [calculator], max_iterations=2, early_stopping="generate"
    )
    result = agent.invoke("loop")
    assert result["output"] == "Agent stopped: iteration limit (2) reached"
    prose = create_react_agent(
        FunctionModel(lambda m, p: LOOPING if len(m) < 3 else "It is 2."),
        [calculator],
        max_iterations=1,
        early_stopping="generate",
    )
    assert prose.invoke("loop")["output"] == "It is 2."  # unmarked prose is the best effort


def test_max_execution_time_stops_before_the_next_model_call() -> None:
    clock = itertools.count()

    def fn(messages: list[Message], params: GenerationParams) -> str:
        time.sleep(0.02)
        next(clock)
        return LOOPING

    agent = create_react_agent(FunctionModel(fn), [calculator], max_execution_time=0.05)
    result = agent.invoke("loop")
    assert result["stopped_reason"] == "max_execution_time"
    assert result["output"] == "Agent stopped: time limit (0.05 s) reached"
    assert 1 <= len(result["steps"]) < 10


def looping_tool_calls(messages: list[Message], params: GenerationParams) -> ChatResult:
    if "cannot call any more tools" in messages[-1].content:
        return ChatResult("My best guess is 2.")
    return ChatResult("", [ToolCall("", "calculator", {"expression": "1+1"})])


@pytest.mark.parametrize("mode", ["force", "generate"])
def test_tool_agent_that_never_finishes_stops_in_both_modes(mode: str) -> None:
    model = FunctionModel(looping_tool_calls)
    agent = ToolCallingAgent(model, [calculator], max_iterations=4, early_stopping=mode)
    result = agent.invoke("loop")
    assert result["stopped_reason"] == "max_iterations"
    assert len(result["steps"]) == 4
    assert len({s.tool_call_id for s in result["steps"]}) == 4  # missing ids are made unique
    if mode == "force":
        assert result["output"] == "Agent stopped: iteration limit (4) reached"
        assert len(model.calls) == 4
    else:
        assert result["output"] == "My best guess is 2."
        assert len(model.calls) == 5


def test_limits_are_validated_for_both_agents() -> None:
    for make in (create_react_agent, create_tool_agent):
        with pytest.raises(UsageError, match="max_iterations must be"):
            make(FakeListModel(["x"]), [calculator], max_iterations=True)
    assert ReActAgent(FakeListModel(["x"]), []).max_iterations == 10
