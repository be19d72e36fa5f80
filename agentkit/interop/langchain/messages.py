"""Messages, documents and values between LangChain and agentkit.

LangChain messages (``HumanMessage``, ``AIMessage`` with ``tool_calls``, ``ToolMessage``,
``SystemMessage``) map to agentkit :class:`~agentkit.core.messages.Message` and back; token
usage maps to ``usage_metadata``. Content blocks other than text (images, audio, files)
have no agentkit form and raise a :class:`UsageError` saying so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, ToolCall, Usage, to_messages
from agentkit.retrievers.document import Document

_ROLE = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_ROLE.update({"HumanMessageChunk": "user", "AIMessageChunk": "assistant"})
_ROLE.update({"SystemMessageChunk": "system", "ToolMessageChunk": "tool"})
_SKIPPED_BLOCKS = {"tool_use", "tool_call", "reasoning", "thinking"}


def content_text(content: Any) -> str:
    """The text of LangChain message content: a string, or a list of blocks (text blocks are
    joined; tool-use and reasoning blocks are left out as their data lives elsewhere)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content or ():
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, Mapping) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif isinstance(block, Mapping) and block.get("type") in _SKIPPED_BLOCKS:
            continue
        else:
            kind = block.get("type") if isinstance(block, Mapping) else type(block).__name__
            raise UsageError(
                f"agentkit models take text only; a {kind!r} content block cannot be sent to "
                "one. Describe the content in text, or use a multimodal LangChain model"
            )
    return "".join(parts)


def from_lc_message(message: Any) -> Message:
    """An agentkit :class:`Message` from a LangChain message."""
    kind = getattr(message, "type", None)
    role = _ROLE.get(str(kind)) if kind else None
    if role is None:
        if kind == "chat":  # ChatMessage(role=...)
            return Message(str(getattr(message, "role", "user")), content_text(message.content))
        raise UsageError(f"cannot convert a LangChain {type(message).__name__} to a message")
    text = content_text(message.content)
    if role == "tool":
        return Message("tool", text, tool_call_id=message.tool_call_id, name=message.name)
    if role != "assistant":
        return Message(role, text, name=message.name)
    calls = [
        ToolCall(str(c.get("id") or f"call_{i}"), c["name"], dict(c.get("args") or {}))
        for i, c in enumerate(message.tool_calls or ())
    ]
    calls += [
        ToolCall.parse(str(c.get("id") or "call_bad"), str(c.get("name") or ""), c.get("args"))
        for c in message.invalid_tool_calls or ()
    ]
    usage = message.usage_metadata
    return Message(
        role,
        text,
        calls,
        name=message.name,
        usage=Usage(usage["input_tokens"], usage["output_tokens"]) if usage else None,
    )


def from_lc_messages(messages: Any) -> list[Message]:
    """agentkit messages from LangChain messages, a prompt value, or anything
    :func:`~agentkit.core.messages.to_messages` accepts."""
    to_list = getattr(messages, "to_messages", None)
    if callable(to_list) and not isinstance(messages, Message):  # a PromptValue
        messages = to_list()
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        return [from_lc_message(m) if _is_lc_message(m) else to_messages([m])[0] for m in messages]
    if _is_lc_message(messages):
        return [from_lc_message(messages)]
    return to_messages(messages)


def _is_lc_message(value: Any) -> bool:
    return hasattr(value, "content") and hasattr(value, "type") and not isinstance(value, Message)


def usage_metadata(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "output_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def lc_tool_calls(calls: Sequence[ToolCall]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """LangChain ``tool_calls`` and ``invalid_tool_calls`` of agentkit tool calls."""
    valid = [
        {"name": c.name, "args": dict(c.arguments), "id": c.id, "type": "tool_call"}
        for c in calls
        if c.arguments_error is None
    ]
    invalid = [
        {
            "name": c.name,
            "args": c.raw_arguments,
            "id": c.id,
            "error": c.arguments_error,
            "type": "invalid_tool_call",
        }
        for c in calls
        if c.arguments_error is not None
    ]
    return valid, invalid


def to_lc_message(message: Message) -> Any:
    """A LangChain message from an agentkit :class:`Message`."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    if message.role == "user":
        return HumanMessage(message.content, name=message.name)
    if message.role == "system":
        return SystemMessage(message.content)
    if message.role == "tool":
        return ToolMessage(
            message.content, tool_call_id=message.tool_call_id or "", name=message.name
        )
    valid, invalid = lc_tool_calls(message.tool_calls)
    meta = {k: v for k, v in message.metadata.items() if _plain(v)}
    return AIMessage(
        message.content,
        tool_calls=valid,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(message.usage),
        response_metadata=meta,
    )


def _plain(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def from_lc_document(doc: Any) -> Document:
    """An agentkit :class:`Document` from a LangChain one (``id`` and metadata kept; the
    ``source`` metadata key also fills ``Document.source``)."""
    metadata = dict(doc.metadata or {})
    source = metadata.get("source")
    return Document(
        doc.page_content,
        str(doc.id) if getattr(doc, "id", None) else "",
        metadata,
        str(source) if source is not None else None,
    )


def to_lc_document(doc: Document, *, with_score: bool = False) -> Any:
    """A LangChain ``Document``: metadata as stored, plus ``source`` (when the agentkit
    document has one) and, for retriever results, ``score``."""
    from langchain_core.documents import Document as LCDocument

    metadata = dict(doc.metadata)
    if doc.source is not None:
        metadata.setdefault("source", doc.source)
    if with_score and doc.score is not None:
        metadata.setdefault("score", doc.score)
    return LCDocument(page_content=doc.text, metadata=metadata, id=doc.id or None)


def from_lc_value(value: Any) -> Any:
    """A LangChain runnable's output in agentkit terms: messages become :class:`Message`,
    prompt values a message list, documents :class:`Document`; other values stay."""
    if _is_lc_message(value):
        return from_lc_message(value)
    if hasattr(value, "to_messages") and callable(value.to_messages):
        return from_lc_messages(value)
    if hasattr(value, "page_content") and hasattr(value, "metadata"):
        return from_lc_document(value)
    if isinstance(value, list) and value and all(_is_lc_value(v) for v in value):
        return [from_lc_value(v) for v in value]
    return value


def _is_lc_value(value: Any) -> bool:
    return _is_lc_message(value) or hasattr(value, "page_content")


def to_lc_value(value: Any) -> Any:
    """An agentkit value in LangChain terms (messages and documents; others stay)."""
    if isinstance(value, Message):
        return to_lc_message(value)
    if isinstance(value, Document):
        return to_lc_document(value)
    if isinstance(value, list) and value and all(isinstance(v, Message | Document) for v in value):
        return [to_lc_value(v) for v in value]
    return value
