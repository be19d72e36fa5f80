"""The ``calculator`` tool: a safe arithmetic evaluator over the Python AST.

The expression is parsed with :func:`ast.parse` and walked node by node; nothing is ever
passed to ``eval``, ``exec`` or ``compile``. Allowed: int and float literals, ``+ - * / //
% **``, unary ``+``/``-``, parentheses, and the functions and constants in
:data:`FUNCTIONS` / :data:`CONSTANTS`. Percentages are rewritten first (``"25% of 300"`` ->
``(25/100)*300``, ``"15%"`` -> ``(15/100)``), as are ``^`` (power) and the typographic
times, divide and minus signs.

Every step is bounded, so that no input can make it compute for long (CPython computes
big integers holding the GIL, so a thread timeout could not stop it):

- the length is checked first (:data:`MAX_LENGTH`), before any rewriting, and the
  rewriting itself is linear (possessive regexes anchored at the start of a number);
- only printable ASCII reaches the parser, and nesting is limited (:data:`MAX_DEPTH`);
- integers have at most :data:`MAX_DIGITS` digits, literals and results alike; ``a ** b``
  and ``a * b`` are refused from their operands' sizes, without computing them
  (``9**9**9``); ``round(x, n)`` takes ``|n| <= MAX_DIGITS`` (``round(1, -10**8)`` would
  compute ``10**(10**8)``); floats that overflow are refused;
- nothing else can grow a number: shifts, bit operations, ``pow(a, b, m)``, factorials,
  strings (hence repetition), names other than ``pi``/``e`` and attribute access are not
  part of the language; ``floor``/``ceil``/``round`` of a float give at most 309 digits.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable
from typing import Any

from agentkit.tools.base import ToolInputError
from agentkit.tools.function import FunctionTool
from agentkit.tools.registry import register_tool

MAX_LENGTH = 500
MAX_DEPTH = 50
MAX_DIGITS = 1000
LOG10_2 = math.log10(2)

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "floor": math.floor,
    "ceil": math.ceil,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}
_REJECTED = {
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Subscript: "subscripts (x[i]) are not allowed",
    ast.Compare: "comparisons are not supported; write a number expression",
    ast.BoolOp: "'and'/'or' are not supported; write a number expression",
    ast.IfExp: "conditional expressions are not supported",
    ast.JoinedStr: "strings are not allowed; write numbers",
    ast.NamedExpr: "assignments are not allowed",
    ast.Starred: "*-unpacking is not allowed",
}
_SIGNS = {"\u00d7": "*", "\u00f7": "/", "\u2212": "-", "^": "**"}  # times, divide, minus
# A number starts where no digit or point precedes it; possessive quantifiers never give
# back what they matched: each character is looked at a bounded number of times.
_NUMBER = r"(?<![\d.])(\d++(?:\.\d++)?+)"
_PERCENT_OF = re.compile(_NUMBER + r"\s*+%\s*+of\b\s*+", re.IGNORECASE)
_PERCENT = re.compile(_NUMBER + r"\s*+%(?!\s*+[\w(.])")
_ALLOWED_SPACE = frozenset(" \t\r\n")
HINT = (
    "Use numbers, + - * / // % ** and parentheses, percentages like '25% of 300', and "
    f"{', '.join(FUNCTIONS)}, pi, e."
)


class _Rejected(Exception):
    """Why the expression cannot be evaluated."""


def normalize(expression: str) -> str:
    """Rewrite percentages and common operator spellings into Python arithmetic (in time
    linear in the length of ``expression``)."""
    text = expression.strip().rstrip("=?").strip()
    for sign, operator in _SIGNS.items():
        text = text.replace(sign, operator)
    text = _PERCENT_OF.sub(r"(\1/100)*", text)
    return _PERCENT.sub(r"(\1/100)", text)


def _digits(n: int) -> float:
    return n.bit_length() * LOG10_2


def _check_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "complex number" if isinstance(value, complex) else type(value).__name__
        raise _Rejected(f"the result is a {kind}; only real numbers are supported")
    if isinstance(value, int) and _digits(value) > MAX_DIGITS:
        raise _Rejected(f"a number has more than {MAX_DIGITS} digits")
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            raise _Rejected("the result is not a number (NaN)")
        raise _Rejected("the result is too large (overflow)")
    return value


def _check_length(text: str) -> None:
    if not text:
        raise _Rejected("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise _Rejected(f"the expression is longer than {MAX_LENGTH} characters")


def _check_text(text: str) -> None:
    """Refuse text the parser should never see: too long, or not printable ASCII."""
    _check_length(text)
    if text.isascii() and text.isprintable():
        return
    bad = next(
        (c for c in text if not (c.isascii() and c.isprintable()) and c not in _ALLOWED_SPACE), None
    )
    if bad is None:
        return  # tabs and newlines
    raise _Rejected(
        f"the character {bad!r} (U+{ord(bad):04X}) is not allowed; write ASCII digits and operators"
    )


def _check_round(args: list[Any]) -> None:
    """``round(x, n)`` computes ``10**|n|`` for an integer ``x``: bound ``n``."""
    if len(args) == 2:
        digits = args[1]
        if not isinstance(digits, int) or isinstance(digits, bool):
            raise _Rejected("round(): the number of digits must be a whole number")
        if abs(digits) > MAX_DIGITS:
            raise _Rejected(
                f"round(): the number of digits must be between -{MAX_DIGITS} and "
                f"{MAX_DIGITS}, got {digits if _digits(digits) < 20 else 'a huge number'}"
            )


_ARGUMENT_CHECKS: dict[str, Callable[[list[Any]], None]] = {"round": _check_round}


def _check_operands(op: ast.operator, a: Any, b: Any) -> None:
    """Refuse operations whose integer result would be too big, before computing them."""
    if isinstance(op, ast.Pow):
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            size = b * math.log10(abs(a)) if _digits(b) < 20 else math.inf
            if size > MAX_DIGITS:
                raise _Rejected(
                    f"the power {a if _digits(a) < 20 else 'n'}**{b if _digits(b) < 20 else 'm'}"
                    f" would have about {size:.3g} digits; the limit is {MAX_DIGITS}"
                )
    elif isinstance(op, ast.Mult) and isinstance(a, int) and isinstance(b, int):  # noqa: SIM102
        if _digits(a) + _digits(b) > MAX_DIGITS:
            raise _Rejected(f"the product would have more than {MAX_DIGITS} digits")


def _eval(node: ast.AST, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise _Rejected(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _Rejected(f"{type(node.value).__name__} literals are not allowed; use numbers")
        return _check_number(node.value)
    if isinstance(node, ast.BinOp):
        operation = _BINARY.get(type(node.op))
        if operation is None:
            raise _Rejected(f"the operator {type(node.op).__name__} is not allowed")
        left, right = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        _check_operands(node.op, left, right)
        return _check_number(operation(left, right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        value = _eval(node.operand, depth + 1)
        return value if isinstance(node.op, ast.UAdd) else -value
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise _Rejected(f"unknown name {node.id!r}; only the constants pi and e are allowed")
    if isinstance(node, ast.Call):
        return _call(node, depth)
    for kind, reason in _REJECTED.items():
        if isinstance(node, kind):
            raise _Rejected(reason)
    raise _Rejected(f"{type(node).__name__} expressions are not allowed")


def _call(node: ast.Call, depth: int) -> Any:
    if not isinstance(node.func, ast.Name):
        raise _Rejected("only calls of the allowed functions by name are allowed (e.g. sqrt(2))")
    fn = FUNCTIONS.get(node.func.id)
    if fn is None:
        raise _Rejected(f"the function {node.func.id!r} is not allowed")
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise _Rejected(f"{node.func.id}() takes plain positional arguments only")
    if not node.args or len(node.args) > 20:
        raise _Rejected(f"{node.func.id}() needs between 1 and 20 arguments")
    args = [_eval(a, depth + 1) for a in node.args]
    check = _ARGUMENT_CHECKS.get(node.func.id)
    if check is not None:
        check(args)
    try:
        return _check_number(fn(*args))
    except TypeError as exc:
        raise _Rejected(f"{node.func.id}(): {exc}") from None


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression; :class:`ToolInputError` says why not."""
    given = expression if isinstance(expression, str) else type(expression).__name__
    try:
        if not isinstance(expression, str):
            raise _Rejected(f"the expression must be text, got {type(expression).__name__}")
        # the length first, so that nothing long is ever scanned (or copied by strip)
        _check_length(expression if len(expression) > 4 * MAX_LENGTH else expression.strip())
        text = normalize(expression)
        _check_text(text)
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            reason = exc.msg if isinstance(exc, SyntaxError) else type(exc).__name__
            raise _Rejected(f"not a valid arithmetic expression ({reason})") from None
        value: int | float = _eval(tree.body)
        return value
    except _Rejected as exc:
        raise ToolInputError(f"calculator cannot evaluate this: {exc}", given, HINT) from None
    except ZeroDivisionError:
        raise ToolInputError("calculator: division by zero", given, HINT) from None
    except OverflowError:
        raise ToolInputError(
            "calculator: the result is too large (overflow)", given, HINT
        ) from None
    except ValueError as exc:  # math domain errors: sqrt(-1), log(0)
        raise ToolInputError(f"calculator: {exc}", given, HINT) from None


def format_number(value: int | float) -> str:
    """Integers as is; floats with 15 significant digits (``75.0`` -> ``"75"``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}" if isinstance(value, float) else str(value)


def calculate(expression: str) -> str:
    """Evaluate an arithmetic expression and return the number.

    Supports + - * / // % ** and parentheses, percentages ("25% of 300", "15%"), the
    functions sqrt, log, log10, log2, exp, sin, cos, tan, floor, ceil, abs, round, min, max
    and the constants pi and e.

    Args:
        expression: the expression to evaluate, e.g. "2 * (3 + 4)" or "25% of 300".
    """
    return format_number(evaluate(expression))


DESCRIPTION = (
    "Evaluate an arithmetic expression and return the number. " + HINT + " Input: the "
    "expression, e.g. 2 * (3 + 4) or 25% of 300."
)
calculator = FunctionTool(calculate, name="calculator", description=DESCRIPTION)
calculator.idempotent = True  # pure: safe to run again after a crash
register_tool("calculator", calculator)
