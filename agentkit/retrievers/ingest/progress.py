"""Progress bars on stderr, with rich (imported on first use).

:func:`rich_progress` builds a bar from column names; ingestion's bar
(:func:`ingest_progress`) and the eval runner's (``agentkit.evals.cli``) are both made by it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

_COLUMNS = {
    "bar": "BarColumn",
    "count": "MofNCompleteColumn",
    "elapsed": "TimeElapsedColumn",
    "remaining": "TimeRemainingColumn",
}


def rich_progress(*columns: str, console: Any = None) -> Any:
    """A ``rich.progress.Progress`` (not started) showing ``columns`` in order.

    A column is ``"bar"``, ``"count"`` (done/total), ``"elapsed"``, ``"remaining"``, a task
    field as ``"{name}"`` (shown as plain text, never read as markup: it may be a file name
    such as ``[/x].md``), or any other text, shown as it is. ``console`` defaults to stderr.
    """
    from rich import progress
    from rich.console import Console

    made: list[Any] = []
    for column in columns:
        if column in _COLUMNS:
            made.append(getattr(progress, _COLUMNS[column])())
        elif len(column) > 2 and column[0] == "{" and column[-1] == "}":
            made.append(progress.TextColumn(f"{{task.fields[{column[1:-1]}]}}", markup=False))
        else:
            text = column.replace("{", "{{").replace("}", "}}")
            made.append(progress.TextColumn(text, markup=False))
    return progress.Progress(*made, console=console or Console(stderr=True))


@contextlib.contextmanager
def ingest_progress(enabled: bool | None, total: int) -> Iterator[Callable[[str], None]]:
    """Ingestion's bar over ``total`` files; yields ``advance(source)``. ``enabled=None``
    shows it when stderr is a terminal; off, ``advance`` does nothing."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda source: None
        return
    with rich_progress("ingesting", "bar", "count", "elapsed", "remaining", "{source}") as bar:
        task = bar.add_task("ingest", total=total, source="")
        yield lambda source: bar.update(task, advance=1, source=source[-60:])
