"""Agent loop overhead: a 3-tool-step run with a scripted fake model, agentkit vs LangChain.

Each run: the model asks for a tool three times (one call per turn), each tool adds two
numbers, then the model answers: 4 model calls and 3 tool runs, no latency anywhere, so the
times are the frameworks' own overhead. Measured in one process with interleaved rounds:

- ``langchain_us``: LangChain 1.x ``langchain.agents.create_agent`` (a LangGraph graph) with
  a ``FakeMessagesListChatModel`` issuing the tool calls, and ``@tool`` functions;
- ``tool_agent_us``: agentkit's ``ToolCallingAgent`` (the same protocol: native tool calls)
  with a ``FakeListModel`` of ``ChatResult``s and ``@tool`` functions;
- ``react_agent_us``: agentkit's ``ReActAgent`` with the same steps as ReAct text replies.

``ratio`` is ``langchain_us / tool_agent_us`` (target >= 10); ``ratio_react`` compares the
ReAct agent. Run: ``.venv/bin/python benchmarks/agent_overhead.py [--quick]``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import compare_us, emit, parse_args

STEPS = 3
QUESTION = "Add one three times, starting from 0."
TARGETS = {"ratio": 10.0}


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def agentkit_agents() -> tuple[Any, Any, list[Any]]:
    from agentkit.agents import create_react_agent, create_tool_agent
    from agentkit.llms import ChatResult, FakeListModel, ToolCall
    from agentkit.tools import tool

    add_tool = tool(add)
    calls = [ChatResult("", [ToolCall(f"call_{i}", "add", {"a": i, "b": 1})]) for i in range(STEPS)]
    tool_model = FakeListModel([*calls, ChatResult(str(STEPS))])
    react_replies = [
        f'Thought: add one\nAction: add\nAction Input: {{"a": {i}, "b": 1}}' for i in range(STEPS)
    ]
    react_model = FakeListModel([*react_replies, f"Thought: done\nFinal Answer: {STEPS}"])
    tool_agent = create_tool_agent(tool_model, [add_tool])
    react_agent = create_react_agent(react_model, [add_tool])
    return tool_agent, react_agent, [tool_model, react_model]


def langchain_agent() -> Any:
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool

    class ScriptedChatModel(FakeMessagesListChatModel):
        """Replays the scripted tool calls; the tools are already in the script."""

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

    responses = [
        AIMessage(
            content="",
            tool_calls=[{"id": f"call_{i}", "name": "add", "args": {"a": i, "b": 1}}],
        )
        for i in range(STEPS)
    ]
    model = ScriptedChatModel(responses=[*responses, AIMessage(content=str(STEPS))])
    return create_agent(model, tools=[tool(add)])


def overhead(repeat: int, number: int) -> dict[str, float]:
    from langchain_core.messages import HumanMessage

    tool_agent, react_agent, models = agentkit_agents()
    lc_agent = langchain_agent()

    ours = tool_agent.invoke(QUESTION)
    react = react_agent.invoke(QUESTION)
    theirs = lc_agent.invoke({"messages": [HumanMessage(QUESTION)]})
    tool_messages = [m for m in theirs["messages"] if m.type == "tool"]
    assert ours["output"] == react["output"] == theirs["messages"][-1].content == str(STEPS)
    assert [s.observation for s in ours["steps"]] == [m.content for m in tool_messages]
    assert [s.observation for s in react["steps"]] == ["1", "2", "3"]

    def run_tool_agent() -> None:
        tool_agent.invoke(QUESTION)
        models[0].calls.clear()  # the fake records every call: keep memory flat

    def run_react_agent() -> None:
        react_agent.invoke(QUESTION)
        models[1].calls.clear()

    def run_langchain() -> None:
        lc_agent.invoke({"messages": [HumanMessage(QUESTION)]})

    times = compare_us(
        {"langchain": run_langchain, "tool": run_tool_agent, "react": run_react_agent},
        repeat=repeat,
        number=number,
    )
    return {
        "langchain_us": times["langchain"],
        "tool_agent_us": times["tool"],
        "react_agent_us": times["react"],
        "ratio": times["langchain"] / times["tool"],
        "ratio_react": times["langchain"] / times["react"],
    }


def main() -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "agent overhead")
    repeat, number = (5, 40) if args.quick else (9, 200)
    result: dict[str, Any] = {k: round(v, 2) for k, v in overhead(repeat, number).items()}
    result["tool_steps"] = STEPS
    result["targets"] = TARGETS
    result["meets_targets"] = all(result[k] >= v for k, v in TARGETS.items())
    result["quick"] = args.quick
    print(
        f"LangChain create_agent {result['langchain_us']:.0f} us | agentkit tool agent "
        f"{result['tool_agent_us']:.0f} us (x{result['ratio']:.1f}) | ReAct agent "
        f"{result['react_agent_us']:.0f} us (x{result['ratio_react']:.1f})"
    )
    emit(result, "agent_overhead", args.quick)


if __name__ == "__main__":
    main()
