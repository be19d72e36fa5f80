"""The calculator: correct arithmetic, and clear refusals of everything else."""

from __future__ import annotations

import time

import pytest

from agentkit.tools import ToolInputError, calculator, evaluate, run_tool_safely
from agentkit.tools.arithmetic import format_number, normalize


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("25% of 300", "75"),
        ("What is 25% of 300?", None),  # prose is refused, see below
        ("2 + 3 * 4", "14"),
        ("(2 + 3) * 4", "20"),
        ("7 / 2", "3.5"),
        ("7 // 2", "3"),
        ("-7 % 3", "2"),
        ("10 % 3", "1"),
        ("2 ** 10", "1024"),
        ("2^10", "1024"),
        ("-(3)", "-3"),
        ("+4", "4"),
        ("0.1 + 0.2", "0.3"),
        ("sqrt(16) + abs(-2)", "6"),
        ("round(pi, 3)", "3.142"),
        ("log(e)", "1"),
        ("log(8, 2)", "3"),
        ("min(3, 1, 2) + max(4, 5)", "6"),
        ("floor(2.7) + ceil(2.1)", "5"),
        ("200 * 15%", "30"),
        ("50%", "0.5"),
        ("12.5% of 80", "10"),
        ("3 \u00d7 4 \u00f7 2 \u2212 1", "5"),
        ("1e3 + 1", "1001"),
        ("2 ** 0.5", "1.4142135623731"),
        ("10 ** 100", "1" + "0" * 100),
        ("(1 + 2) =", "3"),
    ],
)
def test_arithmetic(expression: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ToolInputError):
            calculator.invoke(expression)
    else:
        assert calculator.invoke({"expression": expression}) == expected


def test_percent_rewriting_keeps_modulo() -> None:
    assert normalize("25% of 300") == "(25/100)*300"
    assert normalize("10 % 3") == "10 % 3"
    assert normalize("x % pi") == "x % pi"
    assert normalize("(5%)") == "((5/100))"


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("__import__('os')", "the function '__import__' is not allowed"),
        ("x + 1", "unknown name 'x'"),
        ("(1).real", "attribute access"),
        ("math.pi", "attribute access"),
        ("sqrt.__globals__", "attribute access"),
        ("open('f')", "the function 'open' is not allowed"),
        ("(lambda: 1)()", "only calls of the allowed functions"),
        ("lambda x: x", "lambda expressions are not allowed"),
        ("[x for x in (1, 2)]", "comprehensions are not allowed"),
        ("sum(x for x in (1, 2))", "the function 'sum' is not allowed"),
        ("max(x for x in (1, 2))", "comprehensions are not allowed"),
        ("(1, 2)[0]", "subscripts"),
        ("'a' * 3", "str literals are not allowed"),
        ("1 < 2", "comparisons are not supported"),
        ("1 and 2", "'and'/'or' are not supported"),
        ("1 if 1 else 2", "conditional expressions"),
        ("(y := 2)", "assignments are not allowed"),
        ("1 << 10", "the operator LShift is not allowed"),
        ("9**9**9", "digits; the limit is 1000"),
        ("2 ** (10 ** 100)", "digits; the limit is 1000"),
        ("(10**600) * (10**600)", "more than 1000 digits"),
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("sqrt(-1)", "math domain error"),
        ("exp(1000)", "too large"),
        ("1e308 * 10", "too large"),
        ("(-8) ** (1/3)", "complex number"),
        ("2 +", "not a valid arithmetic expression"),
        ("", "empty"),
        ("1+" * 300 + "1", "longer than 500 characters"),
        ("-" * 60 + "1", "nested more than 50 levels"),
        ("round(1.5, ndigits=1)", "plain positional arguments"),
        ("max()", "between 1 and 20 arguments"),
        ("max(1)", "max():"),
    ],
)
def test_everything_else_is_refused_with_a_clear_message(expression: str, fragment: str) -> None:
    with pytest.raises(ToolInputError) as info:
        calculator.invoke({"expression": expression})
    message = str(info.value)
    assert fragment in message
    assert "Use numbers, + - * / // % ** and parentheses" in message  # the hint for the model


def test_huge_powers_are_refused_from_the_operands_without_computing() -> None:
    started = time.perf_counter()
    with pytest.raises(ToolInputError, match=r"9\*\*387420489 would have about 3\.7e\+08 digits"):
        evaluate("9**9**9")
    assert time.perf_counter() - started < 1.0  # sanity bound; the benchmark measures ms


def test_refusals_are_observations_for_agents() -> None:
    outcome = run_tool_safely(calculator, "__import__('os').system('ls')")
    assert outcome.error is not None and outcome.error.startswith("ToolInputError")
    assert "only calls of the allowed functions" in outcome.observation
    assert outcome.observation.endswith("pi, e. Call the tool again with corrected arguments.")


def test_numbers_are_formatted_for_reading() -> None:
    assert [format_number(v) for v in (75.0, 3, 1 / 3, 1e20, -0.5)] == [
        "75",
        "3",
        "0.333333333333333",
        "1e+20",
        "-0.5",
    ]
