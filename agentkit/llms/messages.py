"""Moved: messages live in :mod:`agentkit.core.messages` (every layer uses them, so they sit
in core). This module keeps the old import path working."""

from __future__ import annotations

from agentkit.core.messages import (
    ROLES,
    ChatResult,
    Message,
    ToolCall,
    Usage,
    assistant,
    normalize_role,
    system,
    to_messages,
    tool,
    user,
)

__all__ = [
    "ROLES",
    "ChatResult",
    "Message",
    "ToolCall",
    "Usage",
    "assistant",
    "normalize_role",
    "system",
    "to_messages",
    "tool",
    "user",
]
