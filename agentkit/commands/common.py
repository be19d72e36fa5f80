"""Console output shared by the commands: sources, the model line, terminal-safe names and
the range check of numeric options. Text from documents and models is printed as plain text
(never as rich markup), with control characters shown as escapes (:func:`printable`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

_JOINERS = frozenset("\u200c\u200d")  # zero-width (non-)joiners: emoji, some scripts need them
_LAYOUT = _JOINERS | frozenset("\n\t")


def _shown(char: str) -> str:
    return char.encode("unicode_escape").decode("ascii")


def printable(text: object) -> str:
    """``text`` as one terminal-safe line: control characters (escape sequences), line
    breaks and invisible format characters (bidi overrides that reverse a file name) are
    shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``). For file names, ids and labels."""
    line = str(text)
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() or c in _JOINERS else _shown(c) for c in line)


def printable_text(text: object) -> str:
    """Like :func:`printable`, but keeps line breaks and tabs: for answers and snippets."""
    body = str(text)
    if body.isprintable():
        return body
    return "".join(c if c.isprintable() or c in _LAYOUT else _shown(c) for c in body)


def number_range(
    low: float | None = None,
    high: float | None = None,
    *,
    above: bool = False,
    below: bool = False,
) -> Callable[[typer.CallbackParam, Any], Any]:
    """A typer callback for a numeric option: the value must be finite and in
    ``[low, high]`` (``above=True`` excludes ``low``, ``below=True`` excludes ``high``); the
    error names the option and the allowed range. Unset options (``None``) pass."""

    def check(param: typer.CallbackParam, value: Any) -> Any:
        if value is None:
            return value
        number = float(value)
        bad = not math.isfinite(number)
        bad = bad or (low is not None and (number <= low if above else number < low))
        bad = bad or (high is not None and (number >= high if below else number > high))
        if bad:
            allowed = describe_range(low, high, above=above, below=below)
            raise typer.BadParameter(f"must be {allowed}, got {value!r}")
        return value

    return check


def describe_range(
    low: float | None, high: float | None, *, above: bool = False, below: bool = False
) -> str:
    """``a finite number > 0 and <= 86400`` (the text of a :func:`number_range` error)."""
    parts = []
    if low is not None:
        parts.append(f"{'>' if above else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if below else '<='} {high:g}")
    return "a finite number" + (" " + " and ".join(parts) if parts else "")


def model_line(choice: Any) -> str:
    """``model: <backend> (<why>)`` for stderr."""
    return f"model: {printable(choice.backend)} ({printable(choice.reason)})"


def sources_table(sources: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title="Sources", title_justify="left", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("title")
    table.add_column("score", justify="right")
    table.add_column("snippet", overflow="fold")
    for i, source in enumerate(sources, 1):
        score = source.get("score")
        table.add_row(
            str(i),
            Text(printable(source.get("title") or source.get("source") or "")),
            f"{score:.3f}" if isinstance(score, int | float) else "",
            Text(printable_text(source.get("snippet", ""))),
        )
    return table


def sources_lines(sources: Sequence[Mapping[str, Any]], limit: int = 5) -> list[str]:
    """Compact one-line citations (for the chat REPL)."""
    lines = []
    for i, source in enumerate(sources[:limit], 1):
        score = source.get("score")
        shown = f" ({score:.3f})" if isinstance(score, int | float) else ""
        title = printable(source.get("title") or source.get("source"))
        lines.append(f"  [{i}] {title}{shown}")
    return lines
