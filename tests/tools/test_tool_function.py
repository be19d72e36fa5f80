"""Functions become tools: schema from hints and docstrings, validation, sync and async,
config injection, conversion of results, specs."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from agentkit.core import RunConfig, UsageError, spec
from agentkit.tools import FunctionTool, Tool, ToolExecutionError, ToolInputError, tool


@tool
def search_flights(
    origin: str,
    destination: str,
    max_stops: int = 1,
    cabin: Literal["economy", "business"] = "economy",
) -> list[str]:
    """Find flights between two airports.

    Longer explanation that is not part of the description.

    Args:
        origin: IATA code of the departure airport,
            e.g. "CDG".
        destination (str): IATA code of the arrival airport.
        max_stops: the most stops allowed.

    Returns:
        Flight numbers.
    """
    return [f"{origin}-{destination}-{max_stops}-{cabin}"]


def test_schema_comes_from_hints_and_the_docstring() -> None:
    assert search_flights.name == "search_flights"
    assert search_flights.description == "Find flights between two airports."
    schema = search_flights.args_schema
    assert schema["required"] == ["origin", "destination"]
    props = schema["properties"]
    assert props["origin"] == {
        "type": "string",
        "description": 'IATA code of the departure airport, e.g. "CDG".',
    }
    assert props["destination"]["description"] == "IATA code of the arrival airport."
    assert props["max_stops"] == {
        "type": "integer",
        "default": 1,
        "description": "the most stops allowed.",
    }
    assert props["cabin"]["enum"] == ["economy", "business"]
    assert search_flights.to_schema() == {
        "type": "function",
        "function": {
            "name": "search_flights",
            "description": "Find flights between two airports.",
            "parameters": schema,
        },
    }


def test_arguments_are_validated_and_converted() -> None:
    assert search_flights.invoke({"origin": "CDG", "destination": "JFK", "max_stops": "2"}) == (
        '["CDG-JFK-2-economy"]'
    )
    with pytest.raises(ToolInputError) as info:
        search_flights.invoke({"origin": "CDG", "max_stops": "many", "seats": 2})
    message = str(info.value)
    assert "invalid arguments for tool 'search_flights'" in message
    assert "destination: Field required" in message
    assert "max_stops: Input should be a valid integer" in message and "'many'" in message
    assert "seats: Extra inputs are not permitted" in message
    assert "Expected arguments (JSON schema)" in message and '"origin"' in message
    assert "Your output could not be parsed" in info.value.feedback()


def test_input_may_be_a_json_string_or_a_plain_string_for_one_argument() -> None:
    @tool
    def shout(text: str, times: int = 1) -> str:
        """Repeat text in capitals."""
        return " ".join([text.upper()] * times)

    assert shout.invoke("hello") == "HELLO"
    assert shout.invoke('{"text": "hi", "times": 2}') == "HI HI"
    assert shout.invoke('"quoted"') == "QUOTED"
    assert shout.invoke("{not json}") == "{NOT JSON}"
    with pytest.raises(ToolInputError, match="JSON object"):
        search_flights.invoke("CDG to JFK")


def test_a_tool_without_arguments_accepts_empty_input() -> None:
    @tool
    def ping() -> str:
        """Answer pong."""
        return "pong"

    assert ping.args_schema["properties"] == {}
    assert [ping.invoke(x) for x in ("", "{}", None, {})] == ["pong"] * 4


def test_results_are_converted_to_text() -> None:
    cases = {"dict": {"a": 1}, "none": None, "number": 3.5, "tuple": (1, "é")}
    outputs = {}
    for label, value in cases.items():
        outputs[label] = Tool.from_function(lambda v=value: v, name=label, description="x").invoke(
            {}
        )
    assert outputs == {
        "dict": '{"a": 1}',
        "none": "(no output)",
        "number": "3.5",
        "tuple": '[1, "é"]',
    }


def test_async_functions_run_natively_and_from_sync_code() -> None:
    @tool
    async def slow_add(a: int, b: int) -> int:
        """Add two numbers, slowly."""
        await asyncio.sleep(0.01)
        return a + b

    assert slow_add.invoke({"a": 1, "b": 2}) == "3"
    assert asyncio.run(slow_add.ainvoke({"a": 2, "b": 3})) == "5"
    assert asyncio.run(search_flights.ainvoke({"origin": "A", "destination": "B"})) == (
        '["A-B-1-economy"]'
    )

    async def inside_a_loop() -> str:
        return slow_add.invoke({"a": 5, "b": 5})

    assert asyncio.run(inside_a_loop()) == "10"


def test_a_config_parameter_receives_the_run_config() -> None:
    @tool
    def whoami(greeting: str, config: RunConfig) -> str:
        """Greet the user of this session."""
        return f"{greeting}, {config.get('user', 'stranger')}"

    assert "config" not in whoami.args_schema["properties"]
    config = RunConfig(configurable={"user": "Ann"})
    assert whoami.invoke("Hi", config) == "Hi, Ann"
    assert asyncio.run(whoami.ainvoke({"greeting": "Hey"}, config)) == "Hey, Ann"
    assert whoami.run({"greeting": "Yo"}) == "Yo, stranger"


def test_errors_inside_the_function_become_tool_execution_errors() -> None:
    @tool
    def explode(x: int) -> int:
        """Always fails."""
        raise ValueError(f"bad {x}")

    with pytest.raises(
        ToolExecutionError, match=r"tool 'explode' failed: ValueError: bad 1"
    ) as info:
        explode.invoke({"x": 1})
    assert info.value.tool == "explode"
    with pytest.raises(ToolExecutionError, match="ValueError: bad 2"):
        asyncio.run(explode.ainvoke({"x": 2}))


def test_decorator_forms_and_overrides() -> None:
    @tool("lookup", timeout=2, description="Look a word up.")
    def f(word: str) -> str:
        return word

    @tool(max_output_chars=10)
    def g(word: str) -> str:
        """Echo."""
        return word * 20

    assert (f.name, f.description, f.timeout) == ("lookup", "Look a word up.", 2.0)
    assert g.invoke("ab").startswith("abababababab"[:10] + "\n[... truncated 30 of 40")


def test_bad_tool_definitions_are_usage_errors() -> None:
    def undocumented(x: int) -> int:
        return x

    def variadic(*args: int) -> int:
        """Sum."""
        return sum(args)

    with pytest.raises(UsageError, match="docstring or pass description"):
        FunctionTool(undocumented)
    with pytest.raises(UsageError, match=r"\*args"):
        FunctionTool(variadic)
    with pytest.raises(UsageError, match="timeout"):
        FunctionTool(undocumented, description="x", timeout=0)
    with pytest.raises(UsageError, match="name"):
        FunctionTool(undocumented, name="two words", description="x")


def test_function_tools_round_trip_through_specs() -> None:
    from agentkit.tools.arithmetic import calculate

    plain = FunctionTool(calculate, name="calc", timeout=3, max_output_chars=100)
    data = plain.to_dict()
    assert data == {
        "type": "function_tool",
        "fn": "agentkit.tools.arithmetic:calculate",
        "name": "calc",
        "timeout": 3.0,
        "max_output_chars": 100,
    }
    loaded = spec.load(data)
    assert isinstance(loaded, FunctionTool) and loaded.to_dict() == data
    assert loaded.invoke("6*7") == "42"
    # a name replaced by @tool resolves to the tool; its function is used
    again = spec.load({"type": "function_tool", "fn": "agentkit.tools.arithmetic:calculator"})
    assert again.invoke("1+1") == "2"
    with pytest.raises(spec.SpecError, match="module-level"):
        Tool.from_function(lambda: 1, name="anon", description="x").to_dict()
