"""Server-sent events of a streamed chat completion, turned into assistant message chunks.

:class:`SSEParser` turns lines into event payloads (``data:`` lines, joined when an event has
several; comments and other fields ignored; ``[DONE]`` ends the stream). :class:`StreamState`
turns ``chat.completion.chunk`` payloads into :class:`Message` chunks, accumulating tool-call
deltas by their ``index``; :meth:`StreamState.final` is the last chunk, carrying the tool
calls, usage and finish reason. Joined argument text that is not a JSON object gives a
malformed call, as in a non-streamed reply (:meth:`ToolCall.parse`).

A payload that is not JSON raises :class:`ModelOutputError` (the stream is not silently
repaired: a dropped chunk would change the reply's text without anyone noticing), and a
stream that stops with neither ``[DONE]`` nor a finish reason raises :class:`RunError`
(:meth:`StreamState.check_ended`): the connection was cut, the reply is incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentkit.core.errors import ModelOutputError, RunError
from agentkit.llms.messages import Message, ToolCall, Usage
from agentkit.llms.openai_compat.wire import check_error_payload, response_metadata

DONE = "[DONE]"


class SSEParser:
    """Feed lines (without their newline); :meth:`feed` returns an event's data when the
    blank line that ends the event arrives, and :meth:`flush` the last unterminated one."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        line = line.rstrip("\r")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None  # a comment / keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data = []
        return payload


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class StreamState:
    """Accumulates one streamed completion."""

    usage: Usage | None = None
    finish_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    _last_index: int = 0

    def feed(self, payload: str) -> Message | None:
        """The text chunk in one event payload, if any."""
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise ModelOutputError(
                f"the model server sent a malformed stream chunk (not JSON: {exc.msg})",
                payload,
                hint="The server broke the OpenAI streaming format; retry, or call the model "
                "without streaming (invoke instead of stream)",
            ) from exc
        check_error_payload(data)
        if not isinstance(data, Mapping):
            raise ModelOutputError(
                "the model server sent a stream chunk that is not a JSON object", payload
            )
        if not self.metadata:
            self.metadata = response_metadata(data)
        if isinstance(data.get("usage"), Mapping):
            self.usage = Usage.from_dict(data["usage"])
        text = ""
        for choice in data.get("choices") or ():
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            for tc in delta.get("tool_calls") or ():
                self._add_call_delta(tc)
        return Message("assistant", text) if text else None

    def _add_call_delta(self, delta: Mapping[str, Any]) -> None:
        index = delta.get("index")
        if index is None:  # servers that send whole calls without an index
            index = len(self.calls) if delta.get("id") or not self.calls else self._last_index
        self._last_index = int(index)
        call = self.calls.setdefault(self._last_index, _PartialCall())
        if delta.get("id"):
            call.id = str(delta["id"])
        function = delta.get("function") or {}
        if function.get("name"):
            call.name = str(function["name"])
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            call.arguments = json.dumps(arguments)
        elif arguments:
            call.arguments += str(arguments)

    def tool_calls(self) -> list[ToolCall]:
        return [
            ToolCall.parse(c.id or f"call_{i}", c.name, c.arguments)
            for i, c in sorted(self.calls.items())
        ]

    def check_ended(self, url: str) -> None:
        """Call when the stream stopped without ``[DONE]``: raise unless the reply ended
        (a finish reason came), as a cut connection would otherwise look like a short reply."""
        if self.finish_reason is None:
            raise RunError(
                f"the stream from the model server at {url} ended before the reply was "
                "complete (no finish_reason and no [DONE]); call again, and check the "
                "server's log (or a proxy's timeout) if it keeps happening"
            )

    def final(self) -> Message:
        """The last chunk: tool calls, usage and ``finish_reason`` (no text)."""
        tool_calls = self.tool_calls()
        finish = self.finish_reason or ("tool_calls" if tool_calls else "stop")
        metadata = {**self.metadata, "finish_reason": finish}
        return Message("assistant", "", tool_calls, usage=self.usage, metadata=metadata)
