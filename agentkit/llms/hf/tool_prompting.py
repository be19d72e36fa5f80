"""Prompt-based tool calling for models without native tool calls.

The tools' JSON schemas are described in the system prompt together with a call format, a
fenced JSON block ``{"tool": <name>, "arguments": {...}}`` (several blocks, or a JSON list,
call several tools). Replies are parsed back into :class:`ToolCall` objects; a reply with no
valid call (unknown tool, bad JSON) stays a plain text answer. Earlier tool calls and tool
results in the history are rendered in the same format, so any chat template can show them.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.llms.messages import Message, ToolCall

TOOL_PROMPT = """You can call these tools:
{tools}

To call a tool, reply with only a JSON block in this format:
```json
{{"tool": "<tool name>", "arguments": {{<arguments as JSON>}}}}
```
To answer without a tool, reply with plain text."""
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def tool_schema(tool: Any) -> dict[str, Any]:
    """A tool as ``{"name", "description", "parameters"}`` from that form or the
    ``{"type": "function", "function": {...}}`` form."""
    if isinstance(tool, Mapping):
        function = tool.get("function") if tool.get("type") == "function" else tool
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return {
                "name": function["name"],
                "description": str(function.get("description") or ""),
                "parameters": dict(function.get("parameters") or {"type": "object"}),
            }
    raise UsageError(
        "a tool must be a JSON schema dict: {'name': ..., 'description': ..., 'parameters': "
        f"{{...}}}} or {{'type': 'function', 'function': {{...}}}}; got {tool!r}"
    )


def describe(tools: Sequence[Mapping[str, Any]], template: str = TOOL_PROMPT) -> str:
    """The system-prompt text that lists ``tools`` and the call format."""
    lines = []
    for t in tools:
        lines.append(f"- {t['name']}: {t['description']}".rstrip(": "))
        lines.append(f"  arguments (JSON schema): {json.dumps(t['parameters'], sort_keys=True)}")
    return template.format(tools="\n".join(lines))


def render_history(
    messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], template: str = TOOL_PROMPT
) -> list[dict[str, str]]:
    """Chat-template messages: the tool description joined to the system prompt, assistant
    tool calls as JSON blocks, tool results as user turns (same-role neighbours merged)."""
    out: list[dict[str, str]] = []
    converted = bool(tools)
    for m in messages:
        content = m.content
        role = m.role
        if m.tool_calls:
            blocks = [_block(c.name, c.arguments) for c in m.tool_calls]
            content = "\n".join(p for p in (content, *blocks) if p)
            converted = True
        if role == "tool":
            role, content = "user", f"Result of tool {m.name or 'call'}:\n{content}"
            converted = True
        out.append({"role": role, "content": content})
    if tools:
        text = describe(tools, template)
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{text}"}
        else:
            out.insert(0, {"role": "system", "content": text})
    return _merge_neighbours(out) if converted else out


def _block(name: str, arguments: Mapping[str, Any]) -> str:
    return "```json\n" + json.dumps({"tool": name, "arguments": dict(arguments)}) + "\n```"


def _merge_neighbours(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    merged: list[dict[str, str]] = []
    for m in messages:
        if merged and merged[-1]["role"] == m["role"]:
            merged[-1] = {
                "role": m["role"],
                "content": f"{merged[-1]['content']}\n\n{m['content']}",
            }
        else:
            merged.append(m)
    return merged


def parse_tool_calls(text: str, names: Sequence[str]) -> tuple[str, list[ToolCall]]:
    """The reply's text (stripped, without the call blocks) and its tool calls. Blocks that
    are not valid calls of known tools are left in the text."""
    calls: list[ToolCall] = []
    kept: list[str] = []
    position = 0
    for match in _FENCE.finditer(text):
        found = _calls(match.group(1), names)
        if found:
            calls += found
            kept.append(text[position : match.start()])
            position = match.end()
    kept.append(text[position:])
    if not calls:
        stripped = text.strip()
        if stripped.startswith(("{", "[")):
            calls = _calls(stripped, names)
            if calls:
                return "", calls
        return stripped, []
    return "".join(kept).strip(), calls


def _calls(raw: str, names: Sequence[str]) -> list[ToolCall]:
    """The calls in a JSON block. A block that names a known tool but whose JSON (or whose
    ``arguments``) is broken gives a malformed call (see :meth:`ToolCall.parse`), which the
    agent answers with the problem, rather than no call (which would end the run)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        named = _NAMED.search(raw)
        if named is None or named.group(1) not in names:
            return []
        return [ToolCall.parse(_new_id(), named.group(1), raw)]
    items = data if isinstance(data, list) else [data]
    calls = []
    for item in items:
        if not isinstance(item, dict):
            return []
        name = item.get("tool", item.get("name"))
        if not isinstance(name, str) or name not in names:
            return []
        calls.append(ToolCall.parse(_new_id(), name, item.get("arguments", {})))
    return calls


def _new_id() -> str:
    return f"call_{uuid.uuid4().hex[:12]}"


_NAMED = re.compile(r'"(?:tool|name)"\s*:\s*"([^"\\]+)"')


class ToolCallFilter:
    """Streams the text of a reply that may hold tool calls: text before a code fence (or a
    reply that starts as JSON) is passed on; the rest waits for :meth:`finish`, which parses
    the whole reply. Joined, the pieces equal the text that :func:`parse_tool_calls` gives."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.text = ""
        self.sent = 0

    def feed(self, piece: str) -> str:
        self.text += piece
        body = self.text.lstrip()
        if body.startswith(("{", "[")):
            return ""
        fence = self.text.find("```")
        safe = self.text if fence < 0 else self.text[:fence]
        if fence < 0:
            safe = safe.rstrip("`")
        safe = safe.rstrip()
        lead = len(self.text) - len(body)
        if len(safe) <= lead + self.sent:
            return ""
        out = safe[lead + self.sent :]
        self.sent += len(out)
        return out

    def finish(self) -> tuple[str, list[ToolCall]]:
        """The text not yet passed on, and the reply's tool calls."""
        text, calls = parse_tool_calls(self.text, self.names)
        return text[self.sent :], calls
