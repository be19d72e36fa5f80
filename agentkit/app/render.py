"""Safe display text for model and document content.

Text from a model or a document is untrusted. The app renders it as Markdown with raw HTML
disabled (it never passes it to ``unsafe_allow_html``) and, as a second layer, escapes it
first with :class:`MarkdownEscaper`: outside code spans and fenced blocks, ``<``, ``>``,
``&`` and ``\\`` become backslash escapes (so tags show as text and a model's own
backslash cannot cancel an escape), ``!`` is escaped (no remote images are fetched from
``![...](url)``) and ``$`` is escaped (no LaTeX). Inside code the text is left as it is
(Markdown shows code literally).

No text becomes a clickable link: a click on a link that injected text wrote
(``[x](http://127.0.0.1:9/leak?d=<secret>)``) would send data anywhere. ``[`` and ``]`` are
escaped (no inline or reference links, no link definitions), ``<`` is (no ``<url>``
autolinks), and the URLs that GFM Markdown links by itself (``http://``, ``www.``,
``user@host``) get an invisible word joiner (U+2060) between the two slashes, before the dot
after ``www`` and before the ``@``: they show as they are, as plain text.
Text counts as code only where Markdown must agree:

- a code span is held back until its closing backticks arrive on the same line; unclosed
  at the end of its line, it is escaped as text, backticks included (so Markdown cannot
  pair them with backticks on a later line);
- a line that starts (after any indentation) with three or more backticks and an info
  string without a backtick opens a fence, and the escaper writes that line, and the line
  that closes the fence (a run at least as long, then only spaces), at column 0: Markdown
  then reads a top-level fence whatever list the text was in, exactly where the escaper
  does (an indented fence line inside a list would otherwise be read differently by a
  Markdown that tracks the list and an escaper that does not);
- ``~`` is escaped, so Markdown sees no ``~~~`` fences; ``>`` is, so it sees no block
  quotes.

The escaper works on streamed chunks: its state carries over from one chunk to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

ESCAPED = frozenset("<>&!$\\~[]")
PLAIN_ESCAPED = frozenset("\\`*_[]!<>&$~|#")
LIST_START = re.compile(r"^(?:[-+=]|\d{1,9}[.)])")
WORD_JOINER = "\u2060"  # invisible; breaks an autolinked URL without changing what shows
EMAIL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.+_")


def link_cut(recent: str, char: str) -> str:
    """A word joiner to put before ``char`` when ``recent`` (the text just before it) and
    ``char`` would let Markdown autolink a URL: ``//``, ``www.``, ``name@``; else ``""``."""
    if (
        (char == "/" and recent.endswith("/"))
        or (char == "." and recent[-3:].lower() == "www")
        or (char == "@" and recent[-1:] in EMAIL_CHARS)
    ):
        return WORD_JOINER
    return ""


def unlinked(text: str) -> str:
    """``text`` with a word joiner wherever :func:`link_cut` puts one."""
    out: list[str] = []
    for i, char in enumerate(text):
        out.append(link_cut(text[max(0, i - 3) : i], char) + char)
    return "".join(out)


class MarkdownEscaper:
    """Escapes streamed text chunk by chunk (see the module docstring)."""

    def __init__(self) -> None:
        self.fence = 0  # length of the open fence's backtick run, 0 outside a fence
        self.opening = 0  # a fence run whose line (the info string) is still arriving
        self.closing = 0  # in a fence, a run that closes it if only spaces follow
        self.closing_ws = ""  # the indentation before that run (kept if it is not a close)
        self.inline = 0  # length of the open code span's backtick run
        self.held: list[str] = []  # the open code span or fence line, not yet emitted
        self.literal = False  # the rest of this line is text whatever its backticks
        self.ticks = 0  # backticks seen but not yet emitted
        self.line_start = True  # only spaces and tabs so far on this line
        self.indent: list[str] = []  # those spaces and tabs, held back
        self.tick_at_line_start = False
        self.recent = ""  # the last few characters written as text (see link_cut)

    def _text(self, text: str, ticks: bool = False) -> str:
        """Characters written as text: escaped (backticks too, with ``ticks``), and URLs
        cut so that Markdown does not autolink them."""
        out: list[str] = []
        for char in text:
            cut = link_cut(self.recent, char)
            self.recent = (self.recent + char)[-3:]
            escape = char in ESCAPED or (ticks and char == "`")
            out.append(cut + ("\\" + char if escape else char))
        return "".join(out)

    def _code(self, text: str) -> str:
        """Characters written as code (left as they are): they end any text run."""
        if text:
            self.recent = ""
        return text

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
        out = self._close_ticks() if self.ticks else ""
        if self.closing:
            out += self._code("`" * self.closing + "".join(self.held))
        elif self.opening:  # a fence opened on the last line: an empty code block
            out += self._code("`" * self.opening + "".join(self.held))
        elif self.inline:
            out += self._abandon_inline()
        out += "".join(self.indent)
        self.closing = self.opening = self.inline = 0
        self.held, self.indent = [], []
        return out

    def _take_indent(self) -> str:
        text, self.indent = "".join(self.indent), []
        return text

    def _close_ticks(self) -> str:
        run, self.ticks = self.ticks, 0
        at_start, self.line_start = self.tick_at_line_start, False
        ticks = "`" * run
        if self.fence:
            if at_start and run >= self.fence:  # a close, if nothing but spaces follows
                self.closing, self.closing_ws, self.indent = run, "".join(self.indent), []
                return ""
            return self._code(self._take_indent() + ticks)
        if self.opening:  # a backtick in the info string: not a fence, the line is text
            text = self._text("`" * self.opening + "".join(self.held) + ticks, ticks=True)
            self.opening, self.held, self.literal = 0, [], True
            return text
        if self.inline:
            if run != self.inline:
                self.held.append(ticks)
                return ""
            text = self._code("".join(self.held) + ticks)
            self.inline, self.held = 0, []
            return text
        if self.literal:
            return self._text(ticks, ticks=True)
        if at_start and run >= 3:  # a fence: written at column 0 (see the module docs)
            self.opening, self.indent = run, []
            return ""
        self.inline, self.held = run, [ticks]
        return self._take_indent()

    def _abandon_inline(self) -> str:
        """An unclosed code span is text, escaped, backticks included: left raw, they could
        pair with backticks on the next line (a code span may span lines in Markdown), and
        move what Markdown treats as code away from what this escaper did."""
        text = self._text("".join(self.held), ticks=True)
        self.inline, self.held = 0, []
        return text

    def _char(self, char: str) -> str:
        if char == "\n":
            out = ""
            if self.closing:
                out = "`" * self.closing + "".join(self.held)
                self.fence = self.closing = 0
                self.held = []
            elif self.opening:
                out = "`" * self.opening + "".join(self.held)
                self.fence, self.opening, self.held = self.opening, 0, []
            elif self.inline:
                out = self._abandon_inline()
            out += self._take_indent()
            self.line_start, self.literal, self.recent = True, False, ""
            return out + char
        if self.line_start and char in " \t":
            self.indent.append(char)
            return ""
        self.line_start = False
        if self.closing:
            if char in " \t":
                self.held.append(char)
                return ""
            text = self.closing_ws + "`" * self.closing + "".join(self.held) + char
            self.closing, self.held = 0, []
            return self._code(text)  # text after the run: a line of code, not the close
        prefix = self._take_indent()
        if self.opening or self.inline:
            self.held.append(char)
            return prefix
        if self.fence:
            return prefix + char
        return prefix + self._text(char)


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
    that it shows as it is: no HTML, emphasis, code, links (autolinked URLs included),
    images, math, headings or lists."""
    line = " ".join(str(text).split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    line = unlinked(line)
    escaped = "".join("\\" + c if c in PLAIN_ESCAPED else c for c in line)
    block = LIST_START.match(escaped)
    if block:  # "- item", "+ x", "= x", "1. x", "2) x" would start a list or a heading
        cut = block.end() - 1
        escaped = escaped[:cut] + "\\" + escaped[cut:]
    return escaped


def source_line(source: Mapping[str, Any]) -> str:
    """A citation as one Markdown line: title and retrieval score (the passage goes below;
    the list's order is the rank)."""
    title = plain(source.get("title") or source.get("source") or source.get("id") or "?", 120)
    score = source.get("score")
    shown = f" · retrieval score {score:.3f}" if isinstance(score, int | float) else ""
    return f"**{title}**{shown}"


def _inline(text: str) -> str:
    """Untrusted text escaped as :func:`plain` does, but keeping its outer spaces (it is a
    piece of a line) and never read as a block (list, heading)."""
    line = unlinked(re.sub(r"\s+", " ", text))
    return "".join("\\" + c if c in PLAIN_ESCAPED else c for c in line)


def highlighted(passage: str, start: int, end: int, context: int = 400) -> str:
    """Markdown of ``passage`` with ``passage[start:end]`` highlighted, at most ``context``
    characters either side. Every piece of the passage is escaped (:func:`_inline`): the
    only markup is the highlight's own."""
    if not 0 <= start < end <= len(passage):
        return plain(passage)
    left, right = max(0, start - context), min(len(passage), end + context)
    before = ("…" if left else "") + passage[left:start]
    after = passage[end:right] + ("…" if right < len(passage) else "")
    span = passage[start:end].strip() or passage[start:end]
    mark = f":orange-background[**{_inline(span)}**]"
    tail = _inline(after)
    tail = "\\" + tail if tail.startswith("(") else tail  # "](" would make a link
    text = _inline(before) + mark + tail
    block = LIST_START.match(text)
    if block:  # as in plain: "1. x" or "- x" must not start a list
        cut = block.end() - 1
        text = text[:cut] + "\\" + text[cut:]
    return text


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
