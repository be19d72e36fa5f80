"""Agents round-trip through specs; tools by registered name or module:function."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentkit
from agentkit.agents import ReActAgent, ToolCallingAgent, create_react_agent, create_tool_agent
from agentkit.core import spec
from agentkit.core.errors import SpecError
from agentkit.llms import ChatResult, FakeListModel, ToolCall
from agentkit.memory import BufferMemory
from agentkit.prompts import PromptTemplate
from agentkit.tools import calculator, get_tool, tool


@tool
def shout(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


def plain_double(n: int) -> int:
    """Double a number."""
    return 2 * n


SCRIPT = ["Action: shout\nAction Input: hi", "Final Answer: HI"]


def test_react_agent_round_trip_with_tools_by_name_and_reference(tmp_path: Path) -> None:
    agent = create_react_agent(
        FakeListModel(SCRIPT),
        [calculator, shout, get_tool("wikipedia", top_k=3)],
        max_iterations=4,
        early_stopping="generate",
    )
    data = spec.dump(agent)
    assert data["type"] == "react_agent"
    assert data["tools"][:2] == ["calculator", f"{__name__}:shout"]
    assert data["tools"][2] == {"type": "tool", "name": "wikipedia", "top_k": 3}
    assert data["max_iterations"] == 4 and data["early_stopping"] == "generate"
    assert "prompt" not in data and "max_execution_time" not in data  # defaults left out
    path = agentkit.save(agent, tmp_path / "agent.yaml")
    loaded = agentkit.load(path)
    assert isinstance(loaded, ReActAgent) and spec.dump(loaded) == data
    assert loaded.tools[1] is shout
    assert loaded.invoke("shout hi")["output"] == "HI"


def test_tool_agent_round_trip_with_prompt_memory_and_limits() -> None:
    model = FakeListModel(
        [ChatResult("", [ToolCall("c", "calculator", {"expression": "1+2"})]), ChatResult("3")]
    )
    agent = create_tool_agent(
        model,
        ["calculator"],
        memory=BufferMemory(),
        max_execution_time=30,
        final_instruction="Answer now.",
    )
    data = spec.dump(agent)
    assert data["type"] == "tool_agent" and data["tools"] == ["calculator"]
    assert data["memory"]["type"] == "buffer_memory"
    assert data["max_execution_time"] == 30.0 and data["final_instruction"] == "Answer now."
    loaded = spec.load(data)
    assert isinstance(loaded, ToolCallingAgent) and spec.dump(loaded) == data
    assert loaded.invoke("1+2?")["output"] == "3"


def test_custom_prompt_is_written_and_plain_function_refs_load_as_tools() -> None:
    prompt = PromptTemplate("Q: {input}\n{agent_scratchpad}")
    agent = ReActAgent(FakeListModel(["Final Answer: 4"]), [calculator], prompt=prompt)
    data = spec.dump(agent)
    assert data["prompt"]["type"] == "prompt"
    data["tools"] = [f"{__name__}:plain_double"]
    loaded = spec.load(data)
    assert loaded.tools[0].name == "plain_double"
    assert loaded.invoke("q")["output"] == "4"


def test_unserialisable_tools_and_bad_specs_raise_spec_errors() -> None:
    local = tool(lambda text: text, name="anon", description="A lambda tool.")
    agent = create_react_agent(FakeListModel(SCRIPT), [local])
    with pytest.raises(SpecError, match=r"\$\.tools\[0\].*'anon' cannot be serialised"):
        spec.dump(agent)
    base = spec.dump(create_react_agent(FakeListModel(SCRIPT), [calculator]))
    bad_cases = [
        ({"tools": ["no_such_tool"]}, "unknown tool 'no_such_tool'"),
        ({"tools": ["agentkit.tools:truncate_nothing"]}, "has no attribute"),
        ({"tools": [42]}, "expected a tool name"),
        ({"tools": ["agentkit.tools.arithmetic:HINT"]}, "not a tool"),
        ({"early_stopping": "maybe"}, "allowed values: force, generate"),
        ({"max_iterations": 0}, "at least 1"),
        ({"max_iters": 3}, "unknown field 'max_iters'"),
    ]
    for patch, fragment in bad_cases:
        with pytest.raises(SpecError, match=fragment):
            spec.load({**base, **patch})


def test_a_memory_without_a_spec_is_refused() -> None:
    class Notes:
        def load(self, session: str) -> list[object]:
            return []

        def save(self, session: str, turn: list[object]) -> None:
            pass

    agent = create_tool_agent(FakeListModel(["x"]), [calculator], memory=Notes())
    with pytest.raises(SpecError, match="memory Notes cannot be serialised"):
        spec.dump(agent)
