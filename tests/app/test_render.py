"""Untrusted text is escaped for Markdown: tags, images and math never render."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentkit.app.render import (
    WORD_JOINER,
    MarkdownEscaper,
    escaped_stream,
    plain,
    safe_markdown,
    source_line,
    stats_line,
    step_title,
)

# The URLs GFM Markdown (Streamlit's renderer) links by itself, as mdast's
# gfm-autolink-literal finds them in text.
GFM_URL = re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE)
GFM_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.ASCII)
LINK_PIECES = [
    "http://127.0.0.1:9/leak?d=x", "https://evil.example/p", "www.evil.com", "me@evil.com",
    "mailto:a@b.co", "//evil.com/x", "[x](http://a.b/c)", "[x][r]", "[r]: http://e.f/",
    "<http://g.h>", "<a@b.co>", "![i](http://i.j/p.png)", "[", "]", "(", ")", "<", ">",
    ":", "/", ".", "@", "w", "`", "```", "\\", "!", " ", "\n", "a", "h", "-", "  ",
]  # fmt: skip


def markdown() -> Any:
    """markdown-it as GFM reads text: CommonMark links and autolinks, plus linkify for bare
    URLs and e-mail addresses (GFM does not link bare domain names: no fuzzy links)."""
    pytest.importorskip("linkify_it", reason="linkify-it-py finds bare URLs for markdown-it")
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})
    return md


MD = markdown()


def link_tokens(text: str) -> list[str]:
    """The link and image tokens markdown-it makes of ``text``, and the URLs GFM would
    autolink in its text runs (outside code)."""
    found = []
    for block in MD.parse(text):
        run = ""
        for token in [*(block.children or []), None]:
            if token is not None and token.type in ("link_open", "image"):
                found.append(f"{token.type} {token.attrGet('href') or token.attrGet('src')}")
            if token is not None and token.type in ("text", "softbreak"):
                run += token.content if token.type == "text" else "\n"
                continue
            found += [m.group(0) for m in GFM_URL.finditer(run)]
            found += [m.group(0) for m in GFM_EMAIL.finditer(run)]
            run = ""
    return found


def test_links_show_as_plain_text_never_as_links() -> None:
    leak = "Click [here](http://127.0.0.1:9/leak?d=SECRET) for details."
    assert link_tokens(leak)  # raw, it is a link
    out = safe_markdown(leak)
    assert link_tokens(out) == []
    shown = MD.render(out).replace(WORD_JOINER, "")
    assert "<a " not in shown
    assert "[here](http://127.0.0.1:9/leak?d=SECRET)" in shown  # the text, as it was
    for text in (
        "see http://127.0.0.1:9/leak?d=1 now",
        "www.evil.com/x",
        "mail me@evil.com",
        "<http://evil.com/a>",
        "[a][ref]\n\n[ref]: http://evil.com/b",
        "[ref]\n\n[ref]: <http://evil.com/c>",
        "`ok http://code.example` then https://evil.com/d",
    ):
        assert link_tokens(text), text
        assert link_tokens(safe_markdown(text)) == [], text
        assert link_tokens(plain(text)) == [], text
    assert "http://code.example" in safe_markdown("`ok http://code.example`")  # code: as is


@given(st.lists(st.sampled_from(LINK_PIECES), max_size=12).map("".join), st.integers(1, 7))
def test_no_link_survives_escaping(text: str, size: int) -> None:
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    streamed = "".join(escaped_stream(chunks))
    assert streamed == safe_markdown(text)
    assert link_tokens(streamed) == []
    assert link_tokens(plain(text)) == []


def test_html_images_and_math_are_escaped() -> None:
    text = "Hi <script>alert(1)</script> & ![x](http://evil/p.png) costs $5"
    out = safe_markdown(text)
    assert "<script>" not in out
    assert "\\<script\\>" in out
    assert "\\&" in out
    assert "\\!\\[x\\]" in out
    assert "\\$5" in out


def test_code_is_left_alone() -> None:
    text = "Use `a < b` here.\n```python\nif x < 3 and y > 2:\n    print('$')\n```\nthen <b>"
    out = safe_markdown(text)
    assert "`a < b`" in out
    assert "if x < 3 and y > 2:\n    print('$')" in out
    assert out.endswith("then \\<b\\>")


def test_unclosed_code_span_ends_with_its_line() -> None:
    # an unclosed backtick is text, escaped (raw, it could pair with one on the next line,
    # as a Markdown code span may span lines), and what follows it is escaped too
    assert safe_markdown("a `b <c>\n<d>") == "a \\`b \\<c\\>\n\\<d\\>"
    assert safe_markdown("`\n`![a](u)`") == "\\`\n`![a](u)`"  # line 2 is a code span


@given(st.text(alphabet="ab<>&!$`\n ", max_size=60), st.integers(1, 7))
def test_streamed_chunks_escape_like_the_whole_text(text: str, size: int) -> None:
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    assert "".join(escaped_stream(chunks)) == safe_markdown(text)


@given(st.text(max_size=80))
def test_no_raw_angle_bracket_outside_code(text: str) -> None:
    out = safe_markdown(text.replace("`", ""))
    for i, char in enumerate(out):
        if char in "<>":
            assert i > 0 and out[i - 1] == "\\"


def test_escaper_holds_back_backticks_until_the_run_ends() -> None:
    escaper = MarkdownEscaper()
    assert escaper.feed("x ``") == "x "
    assert escaper.feed("`") == ""
    assert escaper.flush() == "\\`\\`\\`"  # an unclosed run at the end is text


def test_plain_and_lines() -> None:
    assert plain("a\n  b <i>", 100) == "a b \\<i\\>"
    assert plain("x" * 50, 10) == "x" * 9 + "…"
    assert plain("# Title with *stars* and [a](b)") == "\\# Title with \\*stars\\* and \\[a\\](b)"
    assert plain("- item") == "\\- item" and plain("12) x") == "12\\) x"
    assert plain("1999 was (a) year.") == "1999 was (a) year."
    line = source_line({"title": "<T>", "score": 0.51234})
    assert line == "**\\<T\\>** · retrieval score 0.512"
    stats = {"latency": 1.234, "ttft": 0.2, "prompt_tokens": 12, "completion_tokens": 3}
    assert stats_line(stats) == "1.23 s · first token 0.20 s · 12 prompt + 3 completion tokens"
    assert stats_line({"latency": 0.5, "stopped": True}) == "0.50 s · stopped"
    assert step_title({"kind": "tool", "tool": "calculator", "seconds": 0.01}, 1) == (
        "1. calculator (0.01 s)"
    )
    assert step_title({"kind": "tool", "tool": None}, 2).startswith("2. no tool")


def test_no_app_module_renders_raw_html() -> None:
    import ast
    from pathlib import Path

    import agentkit.app

    root = Path(agentkit.app.__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword):
                assert node.arg != "unsafe_allow_html", f"{path}:{node.value.lineno}"
            if isinstance(node, ast.Attribute):
                assert node.attr != "html", f"{path}:{node.lineno} calls st.html"


def test_highlighted_marks_the_span_and_escapes_everything_else() -> None:
    from agentkit.app.render import highlighted

    text = "Intro. The Amazon covers 5 km. [x](http://evil.example/?d=1) <img src=x> end"
    start = text.index("5 km")
    shown = highlighted(text, start, start + len("5 km"))
    assert ":orange-background[**5 km**]" in shown
    assert "\\[x\\]" in shown and "\\<img src=x\\>" in shown  # no link, no HTML
    assert "http://" not in shown  # the autolink is cut by a word joiner
    # a span that ends right before "(" cannot become a Markdown link target
    hostile = "click here(http://x.example)"
    at = hostile.index("here")
    assert highlighted(hostile, at, at + 4).startswith("click :orange-background[**here**]\\(")
    # text around the span is cut to the context, marked with an ellipsis
    long = "a" * 1000 + "SPAN" + "b" * 1000
    cut = highlighted(long, 1000, 1004, context=10)
    assert cut == "…" + "a" * 10 + ":orange-background[**SPAN**]" + "b" * 10 + "…"
    # offsets that do not fit the passage show the passage plainly
    assert highlighted("1. <b>", 5, 99) == "1\\. \\<b\\>"
