"""Tracing: every node run makes a :class:`Span`.

Tracers receive finished spans (and, optionally, started ones). With no tracer configured
the machinery is skipped entirely: a node checks ``config.plain`` and calls straight through.
"""

from __future__ import annotations

import itertools
import json
import os
import reprlib
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agentkit.core.config import RunConfig, default_config, set_default_config

_ids = itertools.count(1)
_PREFIX = os.urandom(3).hex()
PREVIEW_CHARS = 200
_now = time.time


def new_run_id() -> str:
    return f"{_PREFIX}-{next(_ids):06x}"


def _bounded_repr() -> reprlib.Repr:
    bounded = reprlib.Repr()
    bounded.maxlist = bounded.maxtuple = bounded.maxset = bounded.maxfrozenset = 5
    bounded.maxdict, bounded.maxlevel = 8, 3
    bounded.maxstring = bounded.maxother = PREVIEW_CHARS
    return bounded


_BOUNDED = _bounded_repr()


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A short, safe text preview of any value for a span. Containers are rendered with a
    bounded repr, so a list of long documents costs no more than its first few items."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list | tuple | dict | set | frozenset):
        text = _BOUNDED.repr(value)
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(slots=True)
class Span:
    """One node run."""

    id: str
    parent_id: str | None
    name: str
    kind: str
    start: float
    end: float | None = None
    input: str = ""
    output: str = ""
    error: str | None = None
    tags: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, int] | None = None

    @property
    def duration(self) -> float:
        return (self.end or time.time()) - self.start

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"] = list(self.tags)
        return data


@runtime_checkable
class Tracer(Protocol):
    """Receives spans. ``on_end`` is the one method to write; ``on_start`` is optional."""

    def on_end(self, span: Span) -> None: ...


class InMemoryTracer:
    """Keeps every finished span in order of completion (tests, the app, the eval runner)."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.spans.append(span)  # list.append is atomic: no lock on the hot path

    def roots(self) -> list[Span]:
        return [s for s in self.spans if s.parent_id is None]

    def children(self, span: Span) -> list[Span]:
        kids = [s for s in self.spans if s.parent_id == span.id]
        return sorted(kids, key=_start_order)

    def names(self) -> list[str]:
        """Span names in start order."""
        return [s.name for s in sorted(self.spans, key=_start_order)]

    def tree(self) -> str:
        """An indented text rendering of the span tree."""
        lines: list[str] = []

        def walk(span: Span, depth: int) -> None:
            status = f"error: {span.error}" if span.error else f"{span.duration * 1000:.1f} ms"
            lines.append(f"{'  ' * depth}{span.name} [{span.kind}] {status}")
            for kid in self.children(span):
                walk(kid, depth + 1)

        for root in sorted(self.roots(), key=_start_order):
            walk(root, 0)
        return "\n".join(lines)

    def clear(self) -> None:
        self.spans.clear()


def _start_order(span: Span) -> tuple[float, str]:
    return (span.start, span.id)  # ids grow in start order: they break ties


class JsonlTracer:
    """Appends one JSON line per finished span to a file (flushed per span)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def on_end(self, span: Span) -> None:
        line = json.dumps(span.to_dict(), default=str)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class ConsoleTracer:
    """Prints spans as they start and end, indented by depth, with rich."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self._depth: dict[str, int] = {}

    def on_start(self, span: Span) -> None:
        depth = self._depth.get(span.parent_id or "", -1) + 1
        self._depth[span.id] = depth
        self.console.print(
            f"{'  ' * depth}[bold cyan]▶ {span.name}[/] [dim]{span.kind}[/] "
            f"[dim]input:[/] {_escape(span.input)}"
        )

    def on_end(self, span: Span) -> None:
        depth = self._depth.pop(span.id, 0)
        pad = "  " * depth
        took = f"{span.duration * 1000:.1f} ms"
        if span.error:
            self.console.print(f"{pad}[bold red]✖ {span.name}[/] {took} {_escape(span.error)}")
        else:
            self.console.print(
                f"{pad}[bold green]✔ {span.name}[/] {took} [dim]output:[/] {_escape(span.output)}"
            )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def debug(enabled: bool = True) -> None:
    """Print every node run to stderr (also switched on by ``AGENTKIT_DEBUG=1``)."""
    current = default_config()
    others = tuple(t for t in current.tracers if not isinstance(t, ConsoleTracer))
    tracers = (*others, ConsoleTracer()) if enabled else others
    set_default_config(RunConfig(tracers=tracers))


# --- span lifecycle, used by the node decorators in runnable.py -----------------------


def start_span(name: str, kind: str, input: Any, config: RunConfig) -> Span:
    # positional arguments: this runs once per traced node and keywords cost more
    span = Span(
        f"{_PREFIX}-{next(_ids):06x}",
        config.parent_run_id,
        config.run_name or name,
        kind,
        _now(),
        None,
        input if type(input) is str and len(input) <= PREVIEW_CHARS else preview(input),
        "",
        None,
        config.tags,
        dict(config.metadata) if config.metadata else {},
    )
    for tracer in config.tracers:
        on_start = getattr(tracer, "on_start", None)
        if on_start is not None:
            on_start(span)
    return span


def end_span(
    span: Span, config: RunConfig, output: Any = None, error: BaseException | None = None
) -> None:
    span.end = _now()
    if error is not None:
        span.error = f"{type(error).__name__}: {error}"
    else:
        span.output = (
            output if type(output) is str and len(output) <= PREVIEW_CHARS else preview(output)
        )
        usage = getattr(output, "usage", None)
        if usage is not None and hasattr(usage, "as_dict"):
            span.usage = usage.as_dict()
    for tracer in config.tracers:
        tracer.on_end(span)


if os.environ.get("AGENTKIT_DEBUG", "").lower() in ("1", "true", "yes"):
    debug(True)
