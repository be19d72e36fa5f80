"""Agents with real tools together: the seams between the parser, the tools and the runs."""

from __future__ import annotations

import asyncio
from typing import Any

from agentkit.agents import ReActAction, create_react_agent, create_tool_agent, parse_react
from agentkit.core.config import RunConfig
from agentkit.llms import FakeListModel
from agentkit.llms.base import ChatResult
from agentkit.llms.messages import ToolCall
from agentkit.retrievers import Document
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.tools import Tool, calculator, python_repl, retriever_tool, tool


@tool
def total(numbers: list[float]) -> float:
    """Add up a list of numbers."""
    return sum(numbers)


@tool
def shout(text: str) -> str:
    """Repeat a text in capitals."""
    return text.upper()


class Lookup(Tool):
    """A hand-written tool that returns data, not text."""

    name = "lookup"
    description = "Look a key up."
    args_schema = {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}

    def run(self, args: dict[str, Any], config: RunConfig | None = None) -> Any:
        return {"key": args["key"], "hits": [1, 2]}


def test_python_code_with_blank_lines_reaches_python_repl_whole() -> None:
    code = "def double(x):\n    return 2 * x\n\n\nprint(double(21))"
    model = FakeListModel(
        [
            f"Thought: write a function\nAction: python_repl\nAction Input: {code}",
            "Final Answer: 42",
        ]
    )
    result = create_react_agent(model, [python_repl]).invoke("double 21 in Python")
    [step] = result["steps"]
    assert step.tool_input == code
    assert "stdout:\n42" in step.observation
    # prose after a blank line still ends a plain input
    prose = parse_react("Action: shout\nAction Input: a\nb\n\nThat is my plan.")
    assert isinstance(prose, ReActAction) and prose.tool_input == "a\nb"


def test_plain_text_input_fills_a_typed_main_argument_as_json() -> None:
    model = FakeListModel(
        [
            "Action: total\nAction Input: [1.5, 2.5, 3]",
            "Action: shout\nAction Input: [1.5, 2.5]",
            "Final Answer: 7",
        ]
    )
    first, second = create_react_agent(model, [total, shout]).invoke("sum")["steps"]
    assert (first.observation, first.error) == ("7.0", None)
    assert second.observation == "[1.5, 2.5]"  # a string argument keeps the text as it is
    assert Lookup().invoke("[1]") == '{"key": "[1]", "hits": [1, 2]}'


def test_sync_and_async_runs_show_the_same_observations() -> None:
    bm25 = BM25Retriever(
        [
            Document("Paris is the capital of France.", source="fr.md"),
            Document("Berlin is the capital of Germany.", source="de.md"),
        ]
    )
    tools = [Lookup(), calculator, retriever_tool(bm25, k=1)]
    replies = [
        "Action: lookup\nAction Input: a",
        'Action: calculator\nAction Input: {"expression": "2 ** 10"}',
        "Action: search_documents\nAction Input: capital of France",
        "Final Answer: done",
    ]

    def observations(result: dict[str, Any]) -> list[tuple[str, str | None]]:
        return [(s.observation, s.error) for s in result["steps"]]

    sync = observations(create_react_agent(FakeListModel(replies), tools).invoke("q"))
    agent = create_react_agent(FakeListModel(replies), tools)
    assert observations(asyncio.run(agent.ainvoke("q"))) == sync
    assert sync[0] == ('{"key": "a", "hits": [1, 2]}', None)
    assert sync[1:] == [
        ("1024", None),
        ("[1] fr.md (score 0.350): Paris is the capital of France.", None),
    ]

    calls = [ToolCall("c1", "lookup", {"key": "b"}), ToolCall("c2", "total", {"numbers": [1, 2]})]
    scripted = [ChatResult("", calls), ChatResult("done")]
    sync = observations(create_tool_agent(FakeListModel(scripted), [Lookup(), total]).invoke("q"))
    agent = create_tool_agent(FakeListModel(scripted), [Lookup(), total])
    assert observations(asyncio.run(agent.ainvoke("q"))) == sync
    assert sync == [('{"key": "b", "hits": [1, 2]}', None), ("3.0", None)]


@tool
def ping() -> str:
    """Check that the service is up."""
    return "pong"


def test_a_tool_without_arguments_ignores_plain_text_input() -> None:
    model = FakeListModel(
        [
            "Action: ping\nAction Input: N/A",
            'Action: ping\nAction Input: {"host": "x"}',
            "Final Answer: up",
        ]
    )
    text, unknown = create_react_agent(model, [ping]).invoke("is it up?")["steps"]
    assert (text.observation, text.error) == ("pong", None)
    assert unknown.error is not None and "host: Extra inputs are not permitted" in unknown.error


def test_final_answer_written_as_an_action_finishes_unless_a_tool_has_that_name() -> None:
    for reply in (
        "Thought: done\nAction: Final Answer\nAction Input: 42",
        'Action: final_answer\nAction Input: {"answer": 42}',
    ):
        result = create_react_agent(FakeListModel([reply]), [calculator]).invoke("6 * 7?")
        assert (result["output"], result["steps"], result["stopped_reason"]) == ("42", [], None)

    @tool
    def final_answer(answer: str) -> str:
        """Record the answer."""
        return f"recorded {answer}"

    model = FakeListModel(["Action: final_answer\nAction Input: 42", "Final Answer: ok"])
    [step] = create_react_agent(model, [final_answer]).invoke("q")["steps"]
    assert step.observation == "recorded 42"  # the user's tool wins
