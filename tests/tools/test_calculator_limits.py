"""The calculator holds its limits: no input makes it compute for long or scan for long.

No timed assertions: each input must be answered or refused (a watchdog fails a hang).
"""

from __future__ import annotations

import pytest

from agentkit.tools import ToolInputError, calculator, evaluate
from agentkit.tools.arithmetic import MAX_DIGITS, MAX_LENGTH, normalize

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("round(1, -10**8)", "the number of digits must be between -1000 and 1000"),
        ("round(1, -(10**999))", "got a huge number"),
        ("round(7, 10**8)", "the number of digits must be between"),
        ("round(2.5, 0.5)", "must be a whole number"),
        ("1" * 10_000, f"longer than {MAX_LENGTH} characters"),
        ("1" * 10_000_000, f"longer than {MAX_LENGTH} characters"),
        ("1%" * 2_000_000, f"longer than {MAX_LENGTH} characters"),
        (" " * 5_000_000 + "1" + " " * 5_000_000, f"longer than {MAX_LENGTH} characters"),
        ("9**9**9**9", "digits; the limit is 1000"),
        ("(10**999)**2", "digits; the limit is 1000"),
        ("(-10)**(10**999)", "digits; the limit is 1000"),
        ("2**3333", "digits; the limit is 1000"),
        ("10**500 * 10**501", "more than 1000 digits"),
        ("1 << 10**8", "the operator LShift is not allowed"),
        ("10**8 >> 1", "the operator RShift is not allowed"),
        ("pow(2, 10**8, 7)", "the function 'pow' is not allowed"),
        ("factorial(10**8)", "the function 'factorial' is not allowed"),
        ("'x' * 10**8", "str literals are not allowed"),
        ("floor(1e308) * floor(1e308) * floor(1e308) * floor(1e308)", "more than 1000 digits"),
        ("2.0 ** 10**8", "too large"),
        ("1e999", "too large"),
        ("nan", "unknown name 'nan'"),
        ("\uff12 + 2", "the character '\uff12' (U+FF12) is not allowed"),
        ("1 +\x00 1", "(U+0000) is not allowed"),
        ("\u0661\u0662", "(U+0661) is not allowed"),
    ],
)
def test_inputs_that_would_compute_or_scan_for_long_are_refused(
    expression: str, fragment: str
) -> None:
    with pytest.raises(ToolInputError) as info:
        calculator.invoke({"expression": expression})
    assert fragment in str(info.value)


def test_the_limits_still_allow_big_but_bounded_answers() -> None:
    assert evaluate("round(12345, -3)") == 12000
    assert evaluate(f"round(7, -{MAX_DIGITS})") == 0
    assert evaluate("round(10**999, -999)") == 10**999
    assert evaluate("2**3000") == 2**3000  # 904 digits
    assert evaluate("1**(10**999)") == 1 and evaluate("(-1)**(10**999 + 1)") == -1
    assert evaluate("floor(1e308)") == int(1e308)
    assert calculator.invoke("3 \u00d7 4") == "12"  # the typographic signs still work


def test_normalize_is_linear_on_adversarial_text() -> None:
    # the quadratic cases of the old patterns: long digit runs, with and without %
    digits = "1" * 1_000_000
    assert normalize(digits) == digits
    assert normalize("1 %" * 200_000).count("(1/100)") == 1  # only the last one is a percent
    assert normalize("1." * 300_000 + "5%").endswith("5%")  # inside a dotted run: no number
    assert normalize("12.5% of 80") == "(12.5/100)*80"


def test_whitespace_inside_is_left_to_the_parser() -> None:
    assert calculator.invoke({"expression": "\t2 * 3\t"}) == "6"
    assert calculator.invoke({"expression": "(1\n+ 1)"}) == "2"
    with pytest.raises(ToolInputError, match="not a valid arithmetic expression"):
        evaluate("1\n+1")


def test_a_non_text_expression_is_refused() -> None:
    with pytest.raises(ToolInputError, match="the expression must be text, got int"):
        evaluate(10**5000)  # type: ignore[arg-type]
