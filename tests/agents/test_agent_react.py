"""ReAct agent acceptance scenarios, driven by scripted fake models."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from agentkit.agents import ReActAgent, Step, create_react_agent
from agentkit.core.errors import UsageError
from agentkit.llms import FakeListModel, FunctionModel, GenerationParams, Message
from agentkit.retrievers.base import Retriever
from agentkit.retrievers.document import Document
from agentkit.tools import calculator, get_tool, retriever_tool, tool


def test_calculator_question_25_percent_of_300() -> None:
    model = FakeListModel(
        [
            "Thought: 25% of 300 is a calculation.\nAction: calculator\nAction Input: 25% of 300",
            "Thought: I now know the final answer\nFinal Answer: 75",
        ]
    )
    result = create_react_agent(model, [calculator]).invoke("What is 25% of 300?")
    assert result["output"] == "75"
    assert result["stopped_reason"] is None
    [step] = result["steps"]
    assert (step.tool, step.tool_input, step.observation, step.error) == (
        "calculator", "25% of 300", "75", None,
    )  # fmt: skip
    assert step.thought == "25% of 300 is a calculation."
    assert step.seconds >= 0.0
    first, second = model.calls
    assert "calculator" in first[0].content  # the tools are described in the system prompt
    assert "Question: What is 25% of 300?" in first[-1].content
    assert "Observation: 75" in second[-1].content  # the observation went back to the model


def test_stop_sequence_is_passed_to_the_model_and_imagined_observations_are_cut() -> None:
    seen: list[GenerationParams] = []

    def fn(messages: list[Message], params: GenerationParams) -> str:
        seen.append(params)
        if len(seen) == 1:
            return "Action: calculator\nAction Input: 2+2\nObservation: 5\nFinal Answer: 5"
        return "Final Answer: 4"

    result = create_react_agent(FunctionModel(fn), [calculator]).invoke("2+2?")
    assert seen[0].stop == ("\nObservation:",)
    create_react_agent(FunctionModel(fn).bind(stop=["END"]), [calculator]).invoke("2+2?")
    assert seen[2].stop == ("END", "\nObservation:")  # the user's stop sequences are kept
    assert result["output"] == "4"
    assert result["steps"][0].observation == "4"  # the real observation, not the imagined one


def test_wikipedia_question_from_a_recorded_response(recorded_wikipedia: list[Any]) -> None:
    model = FakeListModel(
        [
            "Thought: look it up\nAction: wikipedia\nAction Input: Eiffel Tower",
            "Thought: the summary says 330 metres\nFinal Answer: The Eiffel Tower is 330 m tall.",
        ]
    )
    agent = create_react_agent(model, [get_tool("wikipedia")])
    result = agent.invoke("How tall is the Eiffel Tower?")
    assert result["output"] == "The Eiffel Tower is 330 m tall."
    [step] = result["steps"]
    assert step.error is None and "330 metres" in step.observation
    assert "https://en.wikipedia.org/wiki/Eiffel_Tower" in step.observation
    assert recorded_wikipedia[0]["srsearch"] == "Eiffel Tower"


def test_date_question_with_the_today_tool(fixed_clock: Any) -> None:
    model = FakeListModel(
        [
            'Thought: I need the date\nAction: today\nAction Input: {"timezone": "UTC"}',
            "Final Answer: Today is Monday, 23 November 2026.",
        ]
    )
    result = create_react_agent(model, ["today"]).invoke("what's the date today?")
    assert result["steps"][0].observation == "2026-11-23 (Monday)"
    assert result["steps"][0].tool_input == {"timezone": "UTC"}
    assert result["output"] == "Today is Monday, 23 November 2026."


def test_missing_action_input_calls_the_tool_without_arguments(fixed_clock: Any) -> None:
    model = FakeListModel(["Action: today", "Final Answer: ok"])
    result = create_react_agent(model, ["today"]).invoke("date?")
    assert result["steps"][0].tool_input == ""
    assert result["steps"][0].observation.startswith("2026-11-2")


class TinyRetriever(Retriever):
    """Keyword overlap over a few documents."""

    def __init__(self, docs: list[Document]) -> None:
        super().__init__(k=1)
        self.docs = docs

    def retrieve(self, query: str, k: int) -> list[Document]:
        words = set(query.lower().split())
        scored = [(len(words & set(d.text.lower().split())), d) for d in self.docs]
        scored.sort(key=lambda pair: -pair[0])
        return [d for score, d in scored[:k] if score]


def test_multi_step_question_with_a_retriever_tool() -> None:
    docs = [
        Document("Ada Lovelace was born in London in 1815.", metadata={"source": "ada.txt"}),
        Document("London is the capital of England.", metadata={"source": "london.txt"}),
        Document("Grace Hopper was born in New York City.", metadata={"source": "grace.txt"}),
    ]
    search = retriever_tool(TinyRetriever(docs), name="search_notes", description="Search notes")
    model = FakeListModel(
        [
            "Thought: where was Ada born?\nAction: search_notes\nAction Input: ada lovelace born",
            "Thought: London; what is London?\nAction: search_notes\nAction Input: london capital",
            "Thought: I know both.\nAction: calculator\nAction Input: 2026 - 1815",
            "Final Answer: Ada Lovelace was born in London, the capital of England, 211 years ago.",
        ]
    )
    result = create_react_agent(model, [search, calculator]).invoke(
        "Where was Ada Lovelace born, what is that city, and how many years ago?"
    )
    steps = result["steps"]
    assert [s.tool for s in steps] == ["search_notes", "search_notes", "calculator"]
    assert "born in London in 1815" in steps[0].observation
    assert "ada.txt" in steps[0].observation  # cited snippets
    assert "capital of England" in steps[1].observation
    assert steps[2].observation == "211"
    assert "211 years" in result["output"]
    # every earlier step is in the scratchpad of the last call
    last_prompt = model.calls[-1][-1].content
    assert last_prompt.count("Observation:") == 3


def test_unknown_tool_goes_back_as_an_observation_and_case_is_forgiven() -> None:
    model = FakeListModel(
        [
            "Action: search_web\nAction Input: x",
            "Action: CALCULATOR\nAction Input: 6*7",
            "Final Answer: 42",
        ]
    )
    result = create_react_agent(model, [calculator]).invoke("6*7?")
    unknown, calc = result["steps"]
    assert unknown.error == "unknown tool 'search_web'"
    assert "Available tools: calculator" in unknown.observation
    assert (calc.tool, calc.observation, calc.error) == ("calculator", "42", None)
    assert result["output"] == "42"


def test_custom_prompt_is_checked_for_its_variables() -> None:
    from agentkit.prompts import PromptTemplate

    good = PromptTemplate("Tools: {tool_names}\nQ: {input}\n{agent_scratchpad}")
    agent = ReActAgent(FakeListModel(["Final Answer: x"]), [calculator], prompt=good)
    assert agent.invoke("q")["output"] == "x"
    with pytest.raises(UsageError, match="agent_scratchpad"):
        ReActAgent(FakeListModel(["x"]), [calculator], prompt=PromptTemplate("Q: {input}"))


def test_plain_functions_become_tools_and_bad_options_are_rejected() -> None:
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    model = FakeListModel(["Action: shout\nAction Input: hi", "Final Answer: HI"])
    result = create_react_agent(model, [shout]).invoke("shout hi")
    assert result["steps"][0].observation == "HI"
    for bad, fragment in [
        ({"max_iterations": 0}, "max_iterations"),
        ({"max_execution_time": -1}, "max_execution_time"),
        ({"early_stopping": "never"}, "early_stopping"),
    ]:
        with pytest.raises(UsageError, match=fragment):
            create_react_agent(model, [shout], **bad)
    with pytest.raises(UsageError, match="unique"):
        create_react_agent(model, [calculator, calculator])
    with pytest.raises(UsageError, match="list of tools"):
        create_react_agent(model, calculator)  # type: ignore[arg-type]


def test_input_forms() -> None:
    model = FakeListModel(["Final Answer: ok"])
    agent = create_react_agent(model, [calculator])
    assert agent.invoke({"input": "q"})["output"] == "ok"
    with pytest.raises(UsageError, match="'input' key"):
        agent.invoke({"question": "q"})
    with pytest.raises(UsageError, match="question string"):
        agent.invoke(42)


@tool
def echo(text: str) -> str:
    """Repeat the text."""
    return text


def test_step_records_are_plain_data() -> None:
    model = FakeListModel(['Action: echo\nAction Input: {"text": "hi"}', "Final Answer: hi"])
    step = create_react_agent(model, [echo]).invoke("echo hi")["steps"][0]
    data = step.to_dict()
    assert data["tool_input"] == {"text": "hi"} and data["observation"] == "hi"
    assert Step.from_dict(data) == step


def test_the_prompt_describes_argument_types_and_which_are_optional() -> None:
    @tool
    def weather(city: str, units: Literal["C", "F"] = "C", days: list[int] | None = None) -> str:
        """Weather for a city."""
        return f"{city}: 20 {units}"

    model = FakeListModel(["Final Answer: fine"])
    create_react_agent(model, [weather, get_tool("today")]).invoke("weather?")
    prompt = str(model.calls[0])
    assert (
        'weather: Weather for a city. Arguments: city (string), units (one of "C" | "F", '
        'optional, default "C"), days (array of integer, optional)'
    ) in prompt
    assert "Arguments: timezone (string, optional)" in prompt
