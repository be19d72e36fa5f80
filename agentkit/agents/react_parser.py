"""``parse_react``: a tolerant parser of the ReAct text protocol.

A reply is either an action (``Action: <tool>`` and ``Action Input: <input>``) or a final
answer (``Final Answer: <answer>``), optionally after a ``Thought:``. The parser accepts:

- markers in any case, with ``_`` or extra spaces (``action_input``, ``FINAL ANSWER``),
  markdown decoration (``**Action:**``, ``- Action:``) and step numbers (``Action 1:``);
- an action input that is JSON (an object becomes a dict, a string its value) or plain
  text, on one line or many (a blank line ends it, as prose may follow, unless the whole
  text parses as Python: code keeps its blank lines) or inside a code fence (kept whole);
  a missing ``Action Input:`` means an empty input;
  ``Action: search[query]`` (the ReAct paper's form) is read as tool and input;
- a reply wrapped in a code fence, and text before or after the markers;
- a JSON blob ``{"action": ..., "action_input": ...}`` after ``Action:``.

When a reply holds both an action and a final answer, **the one that comes first wins**:
an action followed by an answer means the model went on to imagine the observation, so the
action runs and its real observation goes back to the model; an answer followed by an action
is a final answer. Anything else raises :class:`ReActParseError`, whose ``feedback()`` is a
short correction to send back to the model. No other exception escapes.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

from agentkit.core.errors import ModelOutputError

FORMAT_HINT = (
    "Reply with 'Thought: ...' then either 'Action: <tool name>' and 'Action Input: <input>' "
    "to use a tool, or 'Final Answer: <answer>' to finish"
)
_MARKER = re.compile(
    r"^[ \t>*_#`-]*"
    r"(?P<key>thoughts?|action[ \t]*\d*[ \t]*_?[ \t]*input|action|final[ \t]*_?[ \t]*answer"
    r"|observation|question)"
    r"[ \t]*\d*[ \t]*[*_`]*[ \t]*:[*_`]*[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)
_INLINE_FINAL = re.compile(r"final[ \t]*_?[ \t]*answer[ \t]*[*_]*[ \t]*:[*_]*[ \t]*", re.I)
_INLINE_INPUT = re.compile(r"[ \t]action[ \t]*_?[ \t]*input[ \t]*:[ \t]*", re.I)
_CALL_FORM = re.compile(r"([A-Za-z_][\w.-]*)\s*[\[(](.*)[\])]", re.DOTALL)
_FENCE_LINE = re.compile(r"^[ \t]*```[^\n`]*$", re.MULTILINE)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_DECODER = json.JSONDecoder()
_NAME_JUNK = "`'\"*[]() \t.:"


class ReActParseError(ModelOutputError):
    """A reply that follows neither the action nor the final-answer format."""

    def __init__(self, problem: str, text: str, hint: str = FORMAT_HINT) -> None:
        self.problem = problem
        super().__init__(problem, text, hint)

    def feedback(self) -> str:
        """A short observation telling the model what to fix."""
        return f"Invalid format: {self.problem}. {self.hint}."


@dataclass(frozen=True)
class ReActAction:
    """The model asks to run ``tool`` on ``tool_input``."""

    tool: str
    tool_input: str | dict[str, Any]
    thought: str = ""
    log: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class ReActFinish:
    """The model gives its final ``answer``."""

    answer: str
    thought: str = ""
    log: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class _Mark:
    key: str  # thought | action | input | final | observation | question
    start: int
    end: int


def _key(raw: str) -> str:
    word = raw.lower()
    if word.startswith("thought"):
        return "thought"
    if word.startswith("final"):
        return "final"
    if word.startswith("action"):
        return "input" if word.endswith("input") else "action"
    return word


def parse_react(text: str) -> ReActAction | ReActFinish:
    """Parse one ReAct reply (see the module docstring for what is tolerated)."""
    if not isinstance(text, str):
        raise ReActParseError(f"expected text, got {type(text).__name__}", repr(text))
    body = _unfence(text)
    marks = [_Mark(_key(m.group("key")), m.start(), m.end()) for m in _MARKER.finditer(body)]
    action = next((m for m in marks if m.key == "action"), None)
    final = next((m for m in marks if m.key == "final"), None)
    if final is None and action is None:
        inline = _INLINE_FINAL.search(body)
        if inline is not None:
            final = _Mark("final", inline.start(), inline.end())
            marks = sorted([*marks, final], key=lambda m: m.start)
    if action is None and final is None:
        if any(m.key == "input" for m in marks):
            raise ReActParseError("'Action Input:' without an 'Action:' line", text)
        problem = "the reply is empty" if not body.strip() else "no 'Action:' or 'Final Answer:'"
        raise ReActParseError(problem, text)
    if action is not None and (final is None or action.start < final.start):
        first = action
    else:
        assert final is not None
        first = final
    thought = _thought(body, marks, first.start)
    if first.key == "final":
        return _finish(body, marks, first, thought, text)
    return _action(body, marks, first, thought, text)


def _unfence(text: str) -> str:
    """Drop a code fence that wraps the whole reply."""
    stripped = text.strip()
    lines = stripped.split("\n")
    if len(lines) >= 2 and _FENCE_LINE.fullmatch(lines[0]) and lines[-1].strip() == "```":
        return "\n".join(lines[1:-1])
    return text


def _thought(body: str, marks: list[_Mark], upto: int) -> str:
    """The text before ``upto`` without its ``Thought:`` markers and fence lines."""
    pieces, pos = [], 0
    for mark in marks:
        if mark.start >= upto:
            break
        if mark.key == "thought":
            pieces.append(body[pos : mark.start])
            pos = mark.end
    pieces.append(body[pos:upto])
    return _FENCE_LINE.sub("", "".join(pieces)).strip()


def _next_mark(marks: list[_Mark], after: int, end: int) -> int:
    return next((m.start for m in marks if m.start >= after), end)


def _finish(body: str, marks: list[_Mark], final: _Mark, thought: str, text: str) -> ReActFinish:
    answer = body[final.end : _next_mark(marks, final.end, len(body))].strip()
    if answer.count("```") % 2 == 1 and answer.endswith("```"):
        answer = answer[:-3].rstrip()
    if not answer:
        raise ReActParseError(
            "'Final Answer:' is empty", text, "Write the answer after 'Final Answer:'"
        )
    return ReActFinish(answer, thought, text)


def _action(
    body: str, marks: list[_Mark], action: _Mark, thought: str, text: str
) -> ReActAction | ReActFinish:
    later = [m for m in marks if m.start >= action.end]
    nxt = later[0] if later else None
    name_end = nxt.start if nxt is not None else len(body)
    region = body[action.end : name_end]
    blob = _json_action(region)
    if blob is not None:
        blob_tool, blob_input = blob
        if blob_tool.lower().replace("_", " ") == "final answer":
            answer = str(blob_input).strip()
            if not answer:
                raise ReActParseError(
                    "the final answer is empty", text, "Put the answer in 'action_input'"
                )
            return ReActFinish(answer, thought, text)
        return ReActAction(blob_tool, blob_input, thought, text)
    lines = [ln for ln in region.split("\n") if ln.strip() and not _FENCE_LINE.fullmatch(ln)]
    raw_name = lines[0].strip() if lines else ""
    tool_input: str | dict[str, Any]
    if nxt is not None and nxt.key == "input":
        tool_input = _input(body, later[1:], nxt.end)
    elif (inline := _INLINE_INPUT.search(raw_name)) is not None:
        raw_name, tool_input = raw_name[: inline.start()], _decode(raw_name[inline.end() :])
    else:
        tool_input = ""
        call = _CALL_FORM.fullmatch(raw_name)
        if call is not None:
            raw_name, tool_input = call.group(1), _decode(call.group(2).strip())
    name = raw_name.strip(_NAME_JUNK)
    if not name:
        raise ReActParseError(
            "'Action:' names no tool", text, "Write the tool name after 'Action:'"
        )
    return ReActAction(name, tool_input, thought, text)


def _input(body: str, marks: list[_Mark], start: int) -> str | dict[str, Any]:
    rest = body[start:]
    lead = rest.lstrip()
    if lead.startswith("```"):
        opening = lead.find("\n")
        closing = lead.find("```", opening + 1) if opening >= 0 else -1
        if opening >= 0 and closing >= 0:
            return _decode(lead[opening + 1 : closing].strip())
    if lead.startswith("{"):
        try:
            value, _ = _DECODER.raw_decode(lead)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            return value
    end = _next_mark(marks, start, len(body))
    text = _FENCE_LINE.sub("", body[start:end]).strip()
    if _is_python(text):  # code keeps its blank lines
        return _decode(text)
    return _decode(_PARAGRAPH.split(text, maxsplit=1)[0].strip())


def _is_python(text: str) -> bool:
    """Whether ``text`` spans several paragraphs and parses as Python (it is only parsed,
    never run)."""
    if _PARAGRAPH.search(text) is None:
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _decode(raw: str) -> str | dict[str, Any]:
    """A JSON object becomes a dict, a JSON string its value; anything else stays text."""
    if raw[:1] in ("{", '"'):
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            return raw
        if isinstance(value, dict):
            return value
        if isinstance(value, str):
            return value
    return raw


def _json_action(region: str) -> tuple[str, str | dict[str, Any]] | None:
    """``{"action": ..., "action_input": ...}`` (LangChain's structured-chat blob)."""
    inner = _FENCE_LINE.sub("", region).strip()
    if not inner.startswith("{"):
        return None
    try:
        value = json.loads(inner)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("action"), str):
        return None
    arg = value.get("action_input", "")
    tool_input = arg if isinstance(arg, dict | str) else json.dumps(arg)
    return value["action"].strip(), tool_input
