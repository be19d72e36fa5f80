"""Calculator fuzz: 500 hostile and ordinary inputs, each answered or refused in < 50 ms.

The set is seeded (the same 500 inputs every run): the issue's reproducers
(``round(1, -10**8)``, ``'1' * 10_000``, 10 MB of digits), huge exponents, shifts and
``round`` digits, nested powers (``9**9**9``), long digit strings, deep parentheses,
unicode digits and operators, ``__import__``, attribute access, lambdas, comprehensions,
names, f-strings, inputs up to 10 MB, NaN/inf, and random valid arithmetic.

Each input goes through ``calculator.invoke({"expression": ...})`` in this process, with:

- a watchdog (``faulthandler.dump_traceback_later``, which fires even while a C loop holds
  the GIL): an input that takes 5 s ends the run with a traceback;
- a canary: an audit hook that counts ``exec``/``import``/``open``/``os.system``/
  ``subprocess.Popen``/... events raised while the calculator runs (``compile`` is allowed:
  ``ast.parse`` raises it).

``unsafe`` counts inputs that set off the canary or took over 50 ms (an input over 50 ms is
timed twice more and keeps its best time, so a scheduling hiccup on a loaded machine is not
counted; ``max_ms_first`` is the worst first try). The comparison: how many of the inputs a
naive ``ast`` evaluator without any caps (no length, digit or exponent limits) cannot
finish within 1 s, run in a child process killed at 1 s (counting stops at ``naive_cap``).

Run: ``.venv/bin/python benchmarks/calculator_fuzz.py [--quick]``.
"""

from __future__ import annotations

import ast
import faulthandler
import math
import multiprocessing
import operator
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, parse_args

INPUTS = 500
LIMIT_MS = 50.0
CANARY = ("exec", "import", "open", "os.", "subprocess.", "shutil.", "socket.", "ctypes.",
          "builtins.input", "sys._getframe", "object.__getattr__", "pickle.")  # fmt: skip
_armed: list[list[str]] = []


def _canary(event: str, args: tuple[Any, ...]) -> None:
    if _armed and event.startswith(CANARY):
        _armed[-1].append(event)


def _random_expression(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice([str(rng.randint(0, 999)), f"{rng.uniform(0, 100):.3f}", "pi", "e"])
    kind = rng.random()
    if kind < 0.6:
        op = rng.choice(["+", "-", "*", "/", "//", "%", "**", "^"])
        right = str(rng.randint(0, 5)) if op in ("**", "^") else _random_expression(rng, depth + 1)
        return f"({_random_expression(rng, depth + 1)} {op} {right})"
    if kind < 0.85:
        fn = rng.choice(["sqrt", "log", "exp", "sin", "cos", "floor", "ceil", "abs", "round"])
        return f"{fn}({_random_expression(rng, depth + 1)})"
    return f"{rng.randint(1, 99)}% of {rng.randint(1, 9999)}"


def fuzz_set(seed: int = 12) -> list[str]:
    """The 500 inputs (seeded)."""
    rng = random.Random(seed)
    big = [10**k for k in (3, 5, 8, 12, 100, 999)]
    cases = ["round(1, -10**8)", "1" * 10_000, "1" * 10_000_000, "9**9**9", "9**9**9**9"]
    cases += [f"round({x}, {sign}{n})" for x in ("1", "1.5", "10**999", "-7")
              for sign in ("-", "") for n in ("10**8", "10**99", "1001", "1000")]  # fmt: skip
    cases += [f"{a}**{b}" for a in ("2", "10", "-3", "1.0001", "0.5", "1", "-1") for b in big]
    cases += [f"({a}**{b})**{c}" for a, b, c in ((10, 300, 4), (2, 999, 2), (7, 7, 77))]
    cases += [f"1 {op} {n}" for op in ("<<", ">>") for n in big[:4]]
    cases += ["10**999 * 10**999", "floor(1e308)**4", "floor(1e308) * floor(1e308) * 10**500",
              "pow(2, 10**8, 7)", "factorial(10**6)", "max(10**999, 1)**2", "'9' * 10**8",
              "abs(-10**999)**2", "exp(10**999)", "log(10**999)", "sqrt(10**999)",
              "10**999 / 10**-999", "10**999 // 0.1", "10**999 % 1.5", "2.0**10**8"]  # fmt: skip
    cases += ["1e999", "-1e999", "1e308 * 10", "inf", "nan", "float('nan')", "1e999 - 1e999",
              "0 * 1e999", "sqrt(-1)", "log(0)", "1/0", "0**-1", "(-8)**(1/3)"]  # fmt: skip
    cases += ["1" * n for n in (400, 500, 501, 1000, 100_000)]
    cases += ["1" * n + "%" for n in (499, 5000, 1_000_000)]
    cases += ["(" * n + "1" + ")" * n for n in (10, 49, 50, 51, 100, 199, 200, 250)]
    cases += [op * n + "1" for op in ("-", "+", "~") for n in (10, 51, 300, 499)]
    cases += ["(" * 100_000, "1+" * 250_000 + "1", " " * 5_000_000 + "1", "1%" * 3_000_000,
              "9" * 2_000_000 + ".5% of 3", "1 % of " * 500_000, "1." * 2_000_000]  # fmt: skip
    cases += ["\uff12 + \uff12", "\u0661\u0662 + 1", "2\u00b2", "\u221a2", "\u00bd + 1",
              "3 \u00d7 4 \u00f7 2 \u2212 1", "\U0001d7d7 * 2", "\u0968 + 2", "1\u200b+1",
              "\u2157", "\u20ac5", "1\x00+1", "1\n+1", "\t2*3\t", "\u202e1+2"]  # fmt: skip
    cases += ["__import__('os').system('id')", "open('/etc/passwd').read()", "exec('1')",
              "eval('1')", "compile('1','','eval')", "(1).__class__.__bases__",
              "().__class__.__base__.__subclasses__()", "sqrt.__globals__", "math.pi",
              "(lambda: 1)()", "lambda x: x", "[x for x in (1, 2)]", "{x for x in (1,)}",
              "sum(x for x in (1, 2))", "x", "os", "__builtins__", "globals()",
              "f'{1+1}'", "f'{__import__(\"os\")}'", "'abc'", "b'x'", "(1, 2)[0]", "{1: 2}",
              "1 if 1 else 2", "(y := 2)", "*[1]", "1 and 2", "1 < 2", "...", "None", "True",
              "round.__call__(1, 2)", "max(*[1, 2])", "round(1.5, ndigits=1)", "breakpoint()",
              "getattr(1, 'real')", "1j", "1 @ 2", "1 | 2", "1 & 2", "1 ^^ 2", "not 1"]  # fmt: skip
    while len(cases) < INPUTS:
        pick = rng.random()
        if pick < 0.55:
            cases.append(_random_expression(rng))
        elif pick < 0.7:
            cases.append(f"{rng.randint(2, 10**6)}**{rng.randint(2, 10 ** rng.randint(1, 9))}")
        elif pick < 0.8:
            cases.append(f"round({rng.randint(1, 10**6)}, -{10 ** rng.randint(1, 9)})")
        elif pick < 0.9:
            cases.append(rng.choice("0123456789%.+-*/() ^") * rng.randint(400, 3_000_000))
        else:
            noise = "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 40)))
            cases.append(noise)
    return cases[:INPUTS]


def run_calculator(cases: list[str]) -> dict[str, Any]:
    from agentkit.tools import ToolInputError, calculator

    sys.addaudithook(_canary)
    calculator.invoke({"expression": "1+1"})  # warm up (the argument model is built lazily)
    worst_first, best, touched, answered = 0.0, [], 0, 0
    for expression in cases:
        times = []
        for attempt in range(3):
            events: list[str] = []
            faulthandler.dump_traceback_later(5.0, exit=True)
            _armed.append(events)
            start = time.perf_counter()
            try:
                calculator.invoke({"expression": expression})
                ok = True
            except ToolInputError:
                ok = False
            times.append((time.perf_counter() - start) * 1000)
            _armed.pop()
            faulthandler.cancel_dump_traceback_later()
            if attempt == 0:
                answered += ok
                touched += bool(events)
            if times[-1] <= LIMIT_MS:
                break
        worst_first = max(worst_first, times[0])
        best.append(min(times))
    slow = sum(ms > LIMIT_MS for ms in best)
    return {
        "inputs": len(cases),
        "max_ms": round(max(best), 3),
        "unsafe": touched + slow,
        "answered": answered,
        "refused": len(cases) - answered,
        "touched": touched,
        "over_50ms": slow,
        "median_ms": round(statistics.median(best), 4),
        "max_ms_first": round(worst_first, 3),
    }


# --- the comparison: a naive AST evaluator with no caps -----------------------------------
_NAIVE_OPS: dict[type, Any] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip
_NAIVE_FUNCS = {n: getattr(math, n) for n in ("sqrt", "log", "exp", "sin", "cos", "floor", "ceil")}
_NAIVE_FUNCS |= {"abs": abs, "round": round, "max": max, "min": min}


def _naive(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _naive(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _NAIVE_OPS:
        return _NAIVE_OPS[type(node.op)](_naive(node.left), _naive(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _naive(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _NAIVE_FUNCS[node.func.id](*[_naive(a) for a in node.args])
    if isinstance(node, ast.Name) and node.id in ("pi", "e"):
        return getattr(math, node.id)
    raise ValueError("not allowed")


def _naive_worker(conn: Any) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    sys.setrecursionlimit(10_000)
    while True:
        expression = conn.recv()
        try:
            text = expression.replace("^", "**")
            _naive(ast.parse(text, mode="eval"))
        except BaseException:
            pass
        conn.send(True)


def naive_hangs(cases: list[str], cap: int) -> dict[str, Any]:
    """How many inputs the uncapped evaluator cannot finish within 1 s (stops at ``cap``)."""
    context = multiprocessing.get_context("fork")
    hangs, checked, worker, conn = 0, 0, None, None
    for expression in cases:
        if hangs >= cap:
            break
        if worker is None:
            conn, child = context.Pipe()
            worker = context.Process(target=_naive_worker, args=(child,), daemon=True)
            worker.start()
        assert conn is not None
        conn.send(expression)
        checked += 1
        if not conn.poll(1.0):
            hangs += 1
            worker.kill()
            worker.join()
            worker = None
            continue
        conn.recv()
    if worker is not None:
        worker.kill()
        worker.join()
    return {"naive_hangs": hangs, "naive_checked": checked, "naive_cap": cap}


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    cases = fuzz_set()
    result = run_calculator(cases)
    result |= naive_hangs(cases, cap=8 if args.quick else 40)
    result["targets"] = {"unsafe": 0, "max_ms": LIMIT_MS}
    emit(result, "calculator_fuzz", args.quick)


if __name__ == "__main__":
    main()
