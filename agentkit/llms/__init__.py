"""Chat models: messages, generation params, the ChatModel contract and the fakes.

Importing this package is light (no heavy dependencies) and registers the fakes' spec types.
"""

from __future__ import annotations

from agentkit.llms.base import BaseChatModel, ChatModel
from agentkit.llms.fake import FakeListModel, FakeModel, FunctionModel
from agentkit.llms.messages import (
    ChatResult,
    Message,
    ToolCall,
    Usage,
    assistant,
    system,
    to_messages,
    tool,
    user,
)
from agentkit.llms.params import GenerationParams
from agentkit.llms.switch import allow_model_requests, model_requests, model_requests_allowed

__all__ = [
    "BaseChatModel",
    "ChatModel",
    "ChatResult",
    "FakeListModel",
    "FakeModel",
    "FunctionModel",
    "GenerationParams",
    "Message",
    "ToolCall",
    "Usage",
    "allow_model_requests",
    "assistant",
    "model_requests",
    "model_requests_allowed",
    "system",
    "to_messages",
    "tool",
    "user",
]
