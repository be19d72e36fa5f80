"""Safe display text for model and document content.

Text from a model or a document is untrusted. The app renders it as Markdown with raw HTML
disabled (it never passes it to ``unsafe_allow_html``) and, as a second layer, escapes it
first with :class:`MarkdownEscaper`: outside code spans and fenced blocks, ``<``, ``>`` and
``&`` become backslash escapes (so tags show as text), ``!`` is escaped (no remote images
are fetched from ``![...](url)``) and ``$`` is escaped (no LaTeX). Inside code the text is
left as it is (Markdown shows code literally). The escaper works on streamed chunks: its
state carries over from one chunk to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

ESCAPED = frozenset("<>&!$")
PLAIN_ESCAPED = frozenset("\\`*_[]!<>&$~|#")
LIST_START = re.compile(r"^(?:[-+=]|\d{1,9}[.)])")


class MarkdownEscaper:
    """Escapes streamed text chunk by chunk (see the module docstring)."""

    def __init__(self) -> None:
        self.fence = 0  # length of the open fence's backtick run, 0 outside a fence
        self.inline = 0  # length of the open inline code's backtick run
        self.ticks = 0  # backticks seen but not yet emitted
        self.line_start = True  # only spaces so far on this line
        self.tick_at_line_start = False

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        for char in chunk:
            if char == "`":
                if self.ticks == 0:
                    self.tick_at_line_start = self.line_start
                self.ticks += 1
                continue
            if self.ticks:
                out.append(self._close_ticks())
            out.append(self._char(char))
        return "".join(out)

    def flush(self) -> str:
        """Whatever is held back at the end of the stream."""
        return self._close_ticks() if self.ticks else ""

    def _close_ticks(self) -> str:
        run, self.ticks = self.ticks, 0
        if self.fence:
            if self.tick_at_line_start and run >= self.fence:
                self.fence = 0
        elif self.inline:
            if run == self.inline:
                self.inline = 0
        elif self.tick_at_line_start and run >= 3:
            self.fence = run
        else:
            self.inline = run
        self.line_start = False
        return "`" * run

    def _char(self, char: str) -> str:
        if char == "\n":
            self.line_start = True
            self.inline = 0  # an unclosed code span ends with its line here
            return char
        if char not in " \t":
            self.line_start = False
        if self.fence or self.inline or char not in ESCAPED:
            return char
        return "\\" + char


def safe_markdown(text: str) -> str:
    """``text`` escaped for ``st.markdown`` (see :class:`MarkdownEscaper`)."""
    escaper = MarkdownEscaper()
    return escaper.feed(text) + escaper.flush()


def escaped_stream(chunks: Iterable[str]) -> Iterator[str]:
    """Escape a stream of text chunks (for ``st.write_stream``)."""
    escaper = MarkdownEscaper()
    for chunk in chunks:
        piece = escaper.feed(chunk)
        if piece:
            yield piece
    tail = escaper.flush()
    if tail:
        yield tail


def plain(text: Any, limit: int | None = None) -> str:
    """One line of untrusted text for a caption or a label, cut to ``limit`` and escaped so
    that it shows as it is: no HTML, emphasis, code, links, images, math, headings or lists."""
    line = " ".join(str(text).split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    escaped = "".join("\\" + c if c in PLAIN_ESCAPED else c for c in line)
    block = LIST_START.match(escaped)
    if block:  # "- item", "+ x", "= x", "1. x", "2) x" would start a list or a heading
        cut = block.end() - 1
        escaped = escaped[:cut] + "\\" + escaped[cut:]
    return escaped


def source_line(source: Mapping[str, Any]) -> str:
    """A citation as one Markdown line: number, title, score (the snippet goes below)."""
    title = plain(source.get("title") or source.get("source") or source.get("id") or "?", 120)
    score = source.get("score")
    shown = f" · score {score:.3f}" if isinstance(score, int | float) else ""
    return f"**{title}**{shown}"


def stats_line(stats: Mapping[str, Any]) -> str:
    """Latency, time to first token and token counts of one answer."""
    parts = []
    latency = stats.get("latency")
    if isinstance(latency, int | float):
        parts.append(f"{latency:.2f} s")
    ttft = stats.get("ttft")
    if isinstance(ttft, int | float):
        parts.append(f"first token {ttft:.2f} s")
    prompt, completion = stats.get("prompt_tokens"), stats.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int) and (prompt or completion):
        parts.append(f"{prompt} prompt + {completion} completion tokens")
    if stats.get("stopped"):
        parts.append("stopped")
    return " · ".join(parts)


def step_title(step: Mapping[str, Any], number: int) -> str:
    """The label of one step's status block."""
    tool = step.get("tool")
    if step.get("kind") == "span":
        return f"{number}. {plain(step.get('name', 'step'), 60)} ({step.get('seconds', 0):.2f} s)"
    what = f"{plain(tool, 40)}" if tool else "no tool (format error)"
    return f"{number}. {what} ({float(step.get('seconds') or 0.0):.2f} s)"
