"""Chat messages, tool calls, token usage and model results.

``to_messages`` turns the inputs a model accepts (a string, a message, a list of messages,
``(role, content)`` tuples or ``{"role", "content"}`` dicts) into a list of :class:`Message`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentkit.core.errors import UsageError

ROLES = ("system", "user", "assistant", "tool")
_ROLE_ALIASES = {**{role: role for role in ROLES}, "human": "user", "ai": "assistant"}


def normalize_role(role: str) -> str:
    """The canonical role name (``"human"`` -> ``"user"``, ``"ai"`` -> ``"assistant"``)."""
    try:
        return _ROLE_ALIASES[role]
    except (KeyError, TypeError):
        raise UsageError(
            f"unknown message role {role!r}; use one of {', '.join(ROLES)} "
            "('human' and 'ai' are accepted as aliases of 'user' and 'assistant')"
        ) from None


_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "number",
    float: "number",
}


@dataclass(slots=True)
class ToolCall:
    """A model's request to call tool ``name`` with JSON ``arguments``.

    A call whose argument text is not a JSON object (see :meth:`parse`) is *malformed*:
    ``arguments`` is empty, ``raw_arguments`` keeps the text the model wrote and
    ``arguments_error`` says what is wrong with it. That is the model's mistake, not an
    error: an agent answers the call with the problem so the model can retry.
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    arguments_error: str | None = None
    raw_arguments: str | None = None

    @classmethod
    def parse(cls, id: str, name: str, arguments: Any) -> ToolCall:
        """A call from arguments as a model sent them: JSON object text (OpenAI), a dict
        (some servers), or nothing (no arguments). Anything else gives a malformed call."""
        if isinstance(arguments, Mapping):
            return cls(id, name, dict(arguments))
        if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
            return cls(id, name)
        if isinstance(arguments, str):
            raw = arguments
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError) as exc:
                problem = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
                return cls(id, name, {}, f"not valid JSON ({problem})", raw)
        else:
            raw, value = json.dumps(arguments, ensure_ascii=False, default=str), arguments
        if isinstance(value, dict):
            return cls(id, name, value)
        kind = _JSON_TYPES.get(type(value), "null" if value is None else type(value).__name__)
        return cls(id, name, {}, f"not a JSON object (got a JSON {kind})", raw)

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "name": self.name, "arguments": dict(self.arguments)}
        if self.arguments_error is not None:
            data["raw_arguments"] = self.raw_arguments or ""
            data["arguments_error"] = self.arguments_error
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ToolCall:
        """From :meth:`to_dict`'s form; ``arguments`` may also be the model's JSON text."""
        try:
            call_id, name = str(data["id"]), str(data["name"])
        except KeyError as exc:
            raise UsageError(
                f"a tool call dict needs 'id' and 'name' (and optional 'arguments'); "
                f"{exc.args[0]!r} is missing in {dict(data)!r}"
            ) from None
        if isinstance(data.get("raw_arguments"), str):  # a malformed call: read it again
            return cls.parse(call_id, name, data["raw_arguments"])
        arguments = data.get("arguments")
        return cls.parse(call_id, name, arguments if arguments is not None else {})


@dataclass(slots=True, repr=False)
class Usage:
    """Token counts of one model call (or the sum of several)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __repr__(self) -> str:
        return (
            f"Usage(prompt_tokens={self.prompt_tokens}, completion_tokens={self.completion_tokens})"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Usage:
        return cls(int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0)))


@dataclass(slots=True, repr=False)
class Message:
    """One chat message. Stream chunks of a reply join with ``+``."""

    role: str
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    usage: Usage | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        role = _ROLE_ALIASES.get(self.role) if isinstance(self.role, str) else None
        if role is None:
            normalize_role(self.role)  # raises with the allowed roles
        elif role is not self.role:
            self.role = role
        if not isinstance(self.content, str):
            raise UsageError(
                f"message content must be a string, got {type(self.content).__name__}; "
                "convert it with str() or json.dumps() first"
            )

    def __add__(self, other: Message) -> Message:
        if not isinstance(other, Message):
            return NotImplemented
        if other.role != self.role:
            raise UsageError(
                f"cannot join a {self.role!r} message chunk with a {other.role!r} one; "
                "only chunks of the same reply join with +"
            )
        if self.usage is None:
            usage = other.usage
        else:
            usage = self.usage if other.usage is None else self.usage + other.usage
        return Message(
            self.role,
            self.content + other.content,
            [*self.tool_calls, *other.tool_calls],
            self.tool_call_id or other.tool_call_id,
            self.name or other.name,
            usage,
            {**self.metadata, **other.metadata} if other.metadata else dict(self.metadata),
        )

    @property
    def text(self) -> str:
        return self.content

    def __repr__(self) -> str:  # compact: span previews call it on every traced model run
        parts = [f"role={self.role!r}", f"content={self.content!r}"]
        if self.tool_calls:
            parts.append(f"tool_calls={self.tool_calls!r}")
        if self.tool_call_id is not None:
            parts.append(f"tool_call_id={self.tool_call_id!r}")
        if self.name is not None:
            parts.append(f"name={self.name!r}")
        if self.usage is not None:
            parts.append(f"usage={self.usage!r}")
        return f"Message({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe when ``metadata`` is); empty optional fields are left out."""
        return _with_set(
            {"role": self.role, "content": self.content},
            tool_calls=[tc.to_dict() for tc in self.tool_calls],
            tool_call_id=self.tool_call_id,
            name=self.name,
            usage=None if self.usage is None else self.usage.as_dict(),
            metadata=dict(self.metadata),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        return cls(
            role=_required(data, "role", "a message dict"),
            content=data.get("content") or "",
            tool_calls=_tool_calls(data),
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
            usage=_usage(data),
            metadata=dict(data.get("metadata") or {}),
        )


def _with_set(data: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """``data`` plus the ``optional`` fields that are set (not ``None``, not empty)."""
    data.update((k, v) for k, v in optional.items() if v is not None and v != [] and v != {})
    return data


def _required(data: Mapping[str, Any], key: str, what: str) -> Any:
    """``data[key]``; a missing key is an error naming ``what`` the dict is and its keys."""
    if key not in data:
        raise UsageError(f"{what} needs a {key!r}, got keys {sorted(data)}")
    return data[key]


def _tool_calls(data: Mapping[str, Any]) -> list[ToolCall]:
    """The ``tool_calls`` of a message or result dict (ToolCall objects or their dicts)."""
    return [
        tc if isinstance(tc, ToolCall) else ToolCall.from_dict(tc)
        for tc in data.get("tool_calls") or ()
    ]


def _usage(data: Mapping[str, Any]) -> Usage | None:
    """The ``usage`` of a message or result dict (``None`` when it has none)."""
    usage = data.get("usage")
    return None if usage is None else Usage.from_dict(usage)


def system(content: str) -> Message:
    return Message("system", content)


def user(content: str) -> Message:
    return Message("user", content)


def assistant(content: str = "", tool_calls: Iterable[ToolCall] = ()) -> Message:
    return Message("assistant", content, list(tool_calls))


def tool(content: str, tool_call_id: str, name: str | None = None) -> Message:
    """A tool's result, answering the tool call ``tool_call_id``."""
    return Message("tool", content, tool_call_id=tool_call_id, name=name)


@dataclass(slots=True)
class ChatResult:
    """What a model's ``generate`` returns."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> Message:
        """The result as an assistant message (``metadata`` carries ``finish_reason``)."""
        meta = {**self.metadata, "finish_reason": self.finish_reason}
        return Message("assistant", self.text, list(self.tool_calls), None, None, self.usage, meta)

    def to_dict(self) -> dict[str, Any]:
        return _with_set(
            {"text": self.text},
            tool_calls=[tc.to_dict() for tc in self.tool_calls],
            usage=self.usage.as_dict() if self.usage.total_tokens else None,
            finish_reason=None if self.finish_reason == "stop" else self.finish_reason,
            metadata=dict(self.metadata),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChatResult:
        return cls(
            text=str(_required(data, "text", "a ChatResult dict")),
            tool_calls=_tool_calls(data),
            usage=_usage(data) or Usage(),
            finish_reason=str(data.get("finish_reason", "stop")),
            metadata=dict(data.get("metadata") or {}),
        )


_ACCEPTED = (
    "a string, a Message, a list of Messages / (role, content) tuples / "
    "{'role': ..., 'content': ...} dicts, or a dict with a 'messages' list"
)


def to_messages(value: Any) -> list[Message]:
    """Normalise a model input into a list of messages (a string is one user message)."""
    if type(value) is str:
        return [Message("user", value)]
    if isinstance(value, Message):
        return [value]
    if isinstance(value, list | tuple):
        return [_one_message(item, i) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        if "messages" in value:
            return to_messages(value["messages"])
        if "role" in value:
            return [Message.from_dict(value)]
        raise UsageError(
            f"a model got a dict with keys {sorted(value)}; it accepts {_ACCEPTED}. "
            "Put a prompt template before the model to turn variables into messages"
        )
    if isinstance(value, str):  # str subclasses
        return [Message("user", str(value))]
    raise UsageError(f"a model cannot take {type(value).__name__} as input; it accepts {_ACCEPTED}")


def _one_message(item: Any, index: int) -> Message:
    if isinstance(item, Message):
        return item
    if isinstance(item, tuple) and len(item) == 2:
        role, content = item
        return Message(normalize_role(role), content)
    if isinstance(item, Mapping):
        return Message.from_dict(item)
    raise UsageError(
        f"item {index} of the message list is a {type(item).__name__} ({item!r}); "
        "use Message objects, (role, content) tuples or {'role': ..., 'content': ...} dicts"
    )
