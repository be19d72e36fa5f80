"""Console output shared by the commands: sources and the model line. Text from documents
and models is printed as plain text (never as rich markup)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def model_line(choice: Any) -> str:
    """``model: <backend> (<why>)`` for stderr."""
    return f"model: {choice.backend} ({choice.reason})"


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
            Text(str(source.get("title") or source.get("source") or "")),
            f"{score:.3f}" if isinstance(score, int | float) else "",
            Text(str(source.get("snippet", ""))),
        )
    return table


def sources_lines(sources: Sequence[Mapping[str, Any]], limit: int = 5) -> list[str]:
    """Compact one-line citations (for the chat REPL)."""
    lines = []
    for i, source in enumerate(sources[:limit], 1):
        score = source.get("score")
        shown = f" ({score:.3f})" if isinstance(score, int | float) else ""
        lines.append(f"  [{i}] {source.get('title') or source.get('source')}{shown}")
    return lines
