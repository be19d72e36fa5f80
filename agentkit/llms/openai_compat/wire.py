"""The OpenAI chat-completions wire format: request bodies out, results in.

Messages map one to one (``tool`` messages carry ``tool_call_id``; assistant tool calls go
out as ``{"id", "type": "function", "function": {"name", "arguments": "<json>"}}``; a
malformed call, whose arguments were not a JSON object, goes out with ``"{}"``).
Tool-call arguments that are not a JSON object do not raise: they are the model's mistake
(:meth:`~agentkit.llms.messages.ToolCall.parse`); a reply that is not a completion does.
Generation params map to ``temperature``, ``top_p``, ``top_k`` (sent only when set: vLLM and
llama.cpp accept it, OpenAI does not), ``max_tokens``, ``stop`` and ``seed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import ModelOutputError, RunError, UsageError
from agentkit.llms.messages import ChatResult, Message, ToolCall, Usage
from agentkit.llms.params import GenerationParams

TOOL_CHOICES = ("auto", "none", "required")
_FORMAT_TYPES = ("text", "json_object", "json_schema")
_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class ModelServerError(RunError):
    """A model server answered with an error (``status`` is the HTTP status, 0 if none)."""

    def __init__(self, message: str, status: int = 0, body: str = "") -> None:
        self.status = status
        self.body = body
        super().__init__(message)


def message_to_wire(message: Message) -> dict[str, Any]:
    """One :class:`Message` as an OpenAI chat message dict."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
    elif message.name:
        out["name"] = message.name
    if message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {
                "id": tc.id,
                "type": "function",
                # a malformed call goes back as "{}": its text is not JSON, and servers that
                # parse the history's arguments (vLLM) would reject the request
                "function": {"name": tc.name, "arguments": json.dumps(tc.arguments)},
            }
            for tc in message.tool_calls
        ]
    return out


def tool_to_wire(tool: Any) -> dict[str, Any]:
    """A tool's JSON schema in the ``{"type": "function", "function": {...}}`` form.

    Accepts that form, or a bare ``{"name", "description", "parameters"}`` function schema.
    """
    if isinstance(tool, Mapping):
        if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
            return {"type": "function", "function": dict(tool["function"])}
        if isinstance(tool.get("name"), str):
            function = {k: tool[k] for k in ("name", "description", "parameters") if k in tool}
            function.setdefault("parameters", {"type": "object", "properties": {}})
            return {"type": "function", "function": function}
    raise UsageError(
        f"a tool must be a JSON schema dict: {{'name': ..., 'description': ..., 'parameters': "
        f"{{...}}}} or {{'type': 'function', 'function': {{...}}}}; got {tool!r}"
    )


def tool_choice_to_wire(choice: Any) -> Any:
    """``"auto"``/``"none"``/``"required"``, a tool name (forces that tool), or a raw dict."""
    if choice is None or choice in TOOL_CHOICES or isinstance(choice, Mapping):
        return dict(choice) if isinstance(choice, Mapping) else choice
    if isinstance(choice, str) and choice:
        return {"type": "function", "function": {"name": choice}}
    raise UsageError(
        f"tool_choice must be one of {', '.join(TOOL_CHOICES)}, a tool name or a dict, "
        f"got {choice!r}"
    )


def response_format_to_wire(fmt: Any) -> dict[str, Any] | None:
    """A ``response_format`` body field from ``"json"``/``"json_object"``/``"text"``, a raw
    ``{"type": ...}`` dict, a JSON schema dict, or a pydantic model class."""
    if fmt is None:
        return None
    if fmt in ("json", "json_object", "text"):
        return {"type": "text" if fmt == "text" else "json_object"}
    if isinstance(fmt, Mapping) and fmt.get("type") in _FORMAT_TYPES:
        if fmt["type"] == "json_schema" and not isinstance(fmt.get("json_schema"), Mapping):
            raise UsageError(
                "a json_schema response_format needs a 'json_schema' dict with 'name' and "
                "'schema'; or pass the JSON schema itself and agentkit wraps it"
            )
        return dict(fmt)
    schema: Any = None
    if isinstance(fmt, Mapping):
        schema, name = dict(fmt), str(fmt.get("title") or "response")
    elif isinstance(fmt, type) and hasattr(fmt, "model_json_schema"):
        schema, name = fmt.model_json_schema(), fmt.__name__
    if schema is None:
        raise UsageError(
            "response_format must be 'json', 'json_object', 'text', a JSON schema dict, a "
            f"pydantic model class or a raw {{'type': ...}} dict; got {fmt!r}"
        )
    name = _SCHEMA_NAME.sub("_", name)[:64] or "response"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def build_body(
    model: str,
    messages: Sequence[Message],
    params: GenerationParams,
    *,
    stream: bool,
    tools: Sequence[Mapping[str, Any]] = (),
    tool_choice: Any = None,
    response_format: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of a ``POST /chat/completions`` request."""
    body: dict[str, Any] = {"model": model, "messages": [message_to_wire(m) for m in messages]}
    for name in ("temperature", "top_p", "top_k", "seed"):
        value = getattr(params, name)
        if value is not None:
            body[name] = value
    if params.max_new_tokens is not None:
        body["max_tokens"] = params.max_new_tokens
    if params.stop:
        body["stop"] = list(params.stop)
    if tools:
        body["tools"] = [dict(t) for t in tools]
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    if response_format is not None:
        body["response_format"] = dict(response_format)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def parse_tool_call(raw: Mapping[str, Any], position: int) -> ToolCall:
    """One ``tool_calls`` entry; arguments that are not a JSON object give a malformed call
    (see :meth:`ToolCall.parse`): the model's mistake, for the agent to send back."""
    function = raw.get("function") or {}
    name = str(function.get("name") or "")
    call_id = str(raw.get("id") or f"call_{position}")
    return ToolCall.parse(call_id, name, function.get("arguments"))


def check_error_payload(data: Any) -> None:
    """Raise :class:`ModelServerError` for an ``{"error": ...}`` payload sent with 200 OK."""
    if isinstance(data, Mapping) and data.get("error"):
        error = data["error"]
        message = error.get("message") if isinstance(error, Mapping) else error
        raise ModelServerError(f"the model server reported an error: {message}", 200, str(data))


def parse_completion(data: Any) -> ChatResult:
    """A ``chat.completion`` JSON object as a :class:`ChatResult`."""
    check_error_payload(data)
    choices = data.get("choices") if isinstance(data, Mapping) else None
    if not choices or not isinstance(choices[0], Mapping):
        raise ModelOutputError(
            "the model server's reply has no 'choices'",
            json.dumps(data)[:500],
            hint="Check that the base URL points at an OpenAI-compatible /v1 endpoint",
        )
    choice = choices[0]
    message = choice.get("message") or {}
    raw_calls = message.get("tool_calls") or []
    tool_calls = [parse_tool_call(tc, i) for i, tc in enumerate(raw_calls)]
    finish = choice.get("finish_reason") or ("tool_calls" if tool_calls else "stop")
    usage = data.get("usage")
    return ChatResult(
        text=message.get("content") or "",
        tool_calls=tool_calls,
        usage=Usage.from_dict(usage) if isinstance(usage, Mapping) else Usage(),
        finish_reason=str(finish),
        metadata=response_metadata(data),
    )


def response_metadata(data: Mapping[str, Any]) -> dict[str, Any]:
    """The response's ``model`` and ``id`` (what the server says it ran)."""
    return {k: data[k] for k in ("model", "id") if data.get(k)}
