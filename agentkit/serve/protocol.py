"""The OpenAI chat-completions and embeddings protocol, server side: request bodies in
(checked, with a 400 naming the field and the fix), response and stream-chunk bodies out.

Roles map to agentkit's: ``developer`` is read as ``system``; content may be a string or a
list of ``{"type": "text"}`` parts; assistant ``tool_calls`` and ``tool`` results map to
:class:`~agentkit.core.messages.ToolCall` and ``tool`` messages. Only ``n=1`` is served.
Generation params (``temperature``, ``top_p``, ``max_tokens``/``max_completion_tokens``,
``stop``, ``seed``), ``tools`` and ``response_format`` apply to served models; chains and
agents run with their own models' settings (``tools``/``response_format`` sent to them get a
400). Fields this server does not use (``presence_penalty``, ``logit_bias``, ...) are ignored.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentkit.core.messages import Message, ToolCall, Usage
from agentkit.serve.errors import bad_request

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_STOP = 4


@dataclass(slots=True)
class ChatRequest:
    """A checked ``POST /v1/chat/completions`` body."""

    model: str
    messages: list[Message]
    params: dict[str, Any] = field(default_factory=dict)
    stream: bool = False
    include_usage: bool = False
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None
    user: str | None = None


def _number(body: Mapping[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad_request(f"'{key}' must be a number from {low} to {high}, got {value!r}", key)
    return float(value)


def _positive_int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"'{key}' must be an integer >= 1, got {value!r}", key)
    return value


def _content(value: Any, where: str) -> str:
    """Message content: a string, null, or a list of text parts."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, list):
        texts = []
        for i, part in enumerate(value):
            if not isinstance(part, Mapping) or part.get("type") != "text":
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise bad_request(
                    f"{where}.content[{i}] is a {kind!r} part; this server takes text only "
                    "(a string, or parts of type 'text')",
                    f"{where}.content",
                )
            texts.append(str(part.get("text") or ""))
        return "".join(texts)
    raise bad_request(f"{where}.content must be a string or a list of text parts", where)


def _tool_calls(raw: Any, where: str) -> list[ToolCall]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request(f"{where}.tool_calls must be a list", f"{where}.tool_calls")
    calls = []
    for i, item in enumerate(raw):
        function = item.get("function") if isinstance(item, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise bad_request(
                f"{where}.tool_calls[{i}] needs {{'id', 'type': 'function', 'function': "
                "{'name', 'arguments'}}",
                f"{where}.tool_calls",
            )
        call_id = str(item.get("id") or f"call_{i}")
        calls.append(ToolCall.parse(call_id, function["name"], function.get("arguments")))
    return calls


def parse_message(raw: Any, index: int) -> Message:
    where = f"messages[{index}]"
    if not isinstance(raw, Mapping):
        raise bad_request(f"{where} must be an object with 'role' and 'content'", "messages")
    role = raw.get("role")
    if role == "tool":
        call_id = raw.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise bad_request(f"{where} is a tool result without 'tool_call_id'", where)
        return Message("tool", _content(raw.get("content"), where), tool_call_id=call_id)
    if role not in _ROLES:
        raise bad_request(
            f"{where}.role {role!r} is not supported; use system, developer, user, assistant "
            "or tool",
            f"{where}.role",
        )
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    calls = _tool_calls(raw.get("tool_calls"), where) if role == "assistant" else []
    return Message(_ROLES[role], _content(raw.get("content"), where), calls, None, name)


def _stop(body: Mapping[str, Any]) -> list[str] | None:
    stop = body.get("stop")
    if stop is None:
        return None
    stops = [stop] if isinstance(stop, str) else stop
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP
        or not all(isinstance(s, str) and s for s in stops)
    ):
        raise bad_request(
            f"'stop' must be a non-empty string or a list of up to {MAX_STOP} of them", "stop"
        )
    return stops


def parse_chat_request(body: Any) -> ChatRequest:
    """Check a chat-completions body; raise a 400 :class:`APIError` naming the field."""
    if not isinstance(body, Mapping):
        raise bad_request("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required: the name of a served model (GET /v1/models)")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise bad_request("'messages' must be a non-empty list of messages", "messages")
    n = body.get("n")
    if n is not None and n != 1:
        raise bad_request(f"only n=1 is supported, got n={n!r}; send n separate requests", "n")
    messages = [parse_message(m, i) for i, m in enumerate(raw_messages)]
    params: dict[str, Any] = {
        "temperature": _number(body, "temperature", 0, 2),
        "top_p": _number(body, "top_p", 0, 1),
        "max_new_tokens": _positive_int(body, "max_completion_tokens")
        or _positive_int(body, "max_tokens"),
        "stop": _stop(body),
        "seed": _seed(body),
    }
    if params["top_p"] == 0:
        raise bad_request("'top_p' must be greater than 0", "top_p")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, Mapping):
        raise bad_request("'stream_options' must be an object", "stream_options")
    tools = body.get("tools") or []
    if not isinstance(tools, list) or not all(_is_tool(t) for t in tools):
        raise bad_request(
            "'tools' must be a list of {'type': 'function', 'function': {'name', "
            "'description', 'parameters'}}",
            "tools",
        )
    return ChatRequest(
        model=model,
        messages=messages,
        params={k: v for k, v in params.items() if v is not None},
        stream=body.get("stream") is True,
        include_usage=bool(options and options.get("include_usage")),
        tools=[dict(t) for t in tools],
        tool_choice=body.get("tool_choice"),
        response_format=_response_format(body),
        user=body.get("user") if isinstance(body.get("user"), str) else None,
    )


def _seed(body: Mapping[str, Any]) -> int | None:
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request(f"'seed' must be an integer, got {seed!r}", "seed")
    return seed


def _response_format(body: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if fmt is None or (isinstance(fmt, Mapping) and fmt.get("type") == "text"):
        return None
    if not isinstance(fmt, Mapping) or fmt.get("type") not in ("json_object", "json_schema"):
        raise bad_request(
            "'response_format' must be {'type': 'text' | 'json_object' | 'json_schema', ...}",
            "response_format",
        )
    return dict(fmt)


def _is_tool(tool: Any) -> bool:
    function = tool.get("function") if isinstance(tool, Mapping) else None
    return isinstance(function, Mapping) and isinstance(function.get("name"), str)


def parse_embedding_input(body: Any) -> tuple[str, list[str], str]:
    """``(model, texts, encoding_format)`` of an embeddings body."""
    if not isinstance(body, Mapping) or not isinstance(body.get("model"), str):
        raise bad_request("'model' is required: the name of a served embedder")
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise bad_request(
            "'input' must be a string or a non-empty list of strings (token arrays are not "
            "supported)",
            "input",
        )
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    return body["model"], texts, fmt


# --- response bodies -------------------------------------------------------------------


def new_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def tool_calls_to_wire(calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.id,
            "type": "function",
            "function": {
                "name": c.name,
                "arguments": c.raw_arguments
                if c.arguments_error is not None
                else json.dumps(c.arguments, ensure_ascii=False),
            },
        }
        for c in calls
    ]


def usage_to_wire(usage: Usage | None) -> dict[str, int]:
    return (usage or Usage()).as_dict()


def completion_body(
    cid: str,
    model: str,
    text: str,
    tool_calls: Sequence[ToolCall],
    finish_reason: str,
    usage: Usage | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["content"] = text or None
        message["tool_calls"] = tool_calls_to_wire(tool_calls)
    body = {
        "id": cid,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": usage_to_wire(usage),
    }
    if extra:
        body["agentkit"] = dict(extra)
    return body


def chunk_body(
    cid: str,
    model: str,
    delta: Mapping[str, Any] | None,
    finish_reason: str | None = None,
    *,
    usage: Usage | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion.chunk``; ``delta=None`` makes the usage-only chunk (no choices)."""
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": dict(delta), "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = usage_to_wire(usage)
    if extra:
        body["agentkit"] = dict(extra)
    return body


def sse(data: Mapping[str, Any] | str) -> bytes:
    """One server-sent event carrying ``data`` (JSON unless it is a string)."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return f"data: {text}\n\n".encode()
