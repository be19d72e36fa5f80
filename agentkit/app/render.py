"""Safe display text for model and document content.

Text from a model or a document is untrusted. The app renders it as Markdown with raw HTML
disabled (it never passes it to ``unsafe_allow_html``) and, as a second layer, escapes it
first with :class:`MarkdownEscaper`: outside code spans and fenced blocks, ``<``, ``>``,
``&`` and ``\\`` become backslash escapes (so tags show as text and a model's own
backslash cannot cancel an escape), ``!`` is escaped (no remote images are fetched from
``![...](url)``) and ``$`` is escaped (no LaTeX). Inside code the text is left as it is
(Markdown shows code literally). Text counts as code only once Markdown would agree: a code
span is held back until its closing backticks arrive (unclosed at the end of its line, it
is escaped as text), and a fence opens only at the end of a line indented at most three
spaces whose info string has no backtick; a fence opened in an indented (list) block ends at
the first line indented less. The escaper works on streamed chunks: its state carries over
from one chunk to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

ESCAPED = frozenset("<>&!$\\")
PLAIN_ESCAPED = frozenset("\\`*_[]!<>&$~|#")
LIST_START = re.compile(r"^(?:[-+=]|\d{1,9}[.)])")
FENCE_INDENT = 3  # Markdown: a fence indented four or more spaces is not a fence


def _escape(text: str) -> str:
    return "".join("\\" + c if c in ESCAPED else c for c in text)


class MarkdownEscaper:
    """Escapes streamed text chunk by chunk (see the module docstring)."""

    def __init__(self) -> None:
        self.fence = 0  # length of the open fence's backtick run, 0 outside a fence
        self.fence_indent = 0  # indentation of the open fence's opening line
        self.opening = 0  # a fence run whose line (the info string) is still arriving
        self.opening_indent = 0
        self.inline = 0  # length of the open code span's backtick run
        self.held: list[str] = []  # the open code span or fence line, not yet emitted
        self.literal = False  # the rest of this line is text whatever its backticks
        self.ticks = 0  # backticks seen but not yet emitted
        self.indent = 0  # columns of spaces and tabs that start this line
        self.line_start = True  # only spaces so far on this line
        self.tick_at_line_start = False
        self.tick_indent = 0

    def feed(self, chunk: str) -> str:
        out: list[str] = []
        for char in chunk:
            if char == "`":
                if self.ticks == 0:
                    self._leave_fence_if_dedented()
                    self.tick_at_line_start = self.line_start
                    self.tick_indent = self.indent
                self.ticks += 1
                continue
            if self.ticks:
                out.append(self._close_ticks())
            out.append(self._char(char))
        return "".join(out)

    def flush(self) -> str:
        """Whatever is held back at the end of the stream."""
        out = self._close_ticks() if self.ticks else ""
        if self.opening:  # a fence opened on the last line: an empty code block
            out += "`" * self.opening + "".join(self.held)
        elif self.inline:
            out += self._abandon_inline()
        self.opening, self.inline, self.held = 0, 0, []
        return out

    def _close_ticks(self) -> str:
        run, self.ticks = self.ticks, 0
        self.line_start = False
        ticks = "`" * run
        if self.fence:
            if self.tick_at_line_start and run >= self.fence:
                self.fence = 0
            return ticks
        if self.opening:  # a backtick in the info string: not a fence, the line is text
            text = "`" * self.opening + _escape("".join(self.held)) + ticks
            self.opening, self.held, self.literal = 0, [], True
            return text
        if self.inline:
            if run != self.inline:
                self.held.append(ticks)
                return ""
            text = "".join(self.held) + ticks
            self.inline, self.held = 0, []
            return text
        if self.literal:
            return ticks
        if self.tick_at_line_start and self.tick_indent <= FENCE_INDENT and run >= 3:
            self.opening, self.opening_indent = run, self.tick_indent
        else:
            self.inline = run
            self.held = [ticks]
        return ""

    def _abandon_inline(self) -> str:
        """An unclosed code span is text: its opening backticks stay, the rest is escaped."""
        opener = self.held[0] if self.held else ""
        text = opener + _escape("".join(self.held[1:]))
        self.inline, self.held = 0, []
        return text

    def _leave_fence_if_dedented(self) -> None:
        """A fence opened inside an indented block (a list item) ends with that block."""
        if self.fence and self.line_start and self.indent < self.fence_indent:
            self.fence = 0

    def _char(self, char: str) -> str:
        if char == "\n":
            out = ""
            if self.opening:
                out = "`" * self.opening + "".join(self.held)
                self.fence, self.fence_indent = self.opening, self.opening_indent
                self.opening, self.held = 0, []
            elif self.inline:
                out = self._abandon_inline()
            self.line_start, self.indent, self.literal = True, 0, False
            return out + char
        if self.line_start and char in " \t":
            self.indent = self.indent + 1 if char == " " else (self.indent // 4 + 1) * 4
        elif self.line_start:
            self._leave_fence_if_dedented()
            self.line_start = False
        if self.opening or self.inline:
            self.held.append(char)
            return ""
        if self.fence or char not in ESCAPED:
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
