"""Chat models: messages, generation params, the ChatModel contract and the fakes.

Importing this package is light (no heavy dependencies) and registers the fakes' spec types.
"""

from __future__ import annotations

from agentkit.llms.base import BaseChatModel, ChatModel
from agentkit.llms.extractive import ExtractiveAnswer, ExtractiveReader
from agentkit.llms.fake import FakeListModel, FakeModel, FunctionModel
from agentkit.llms.hf import HFChatModel
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
from agentkit.llms.openai_compat import ModelServerError, OpenAICompatModel
from agentkit.llms.params import GenerationParams
from agentkit.llms.resolve import Resolution, load, resolve
from agentkit.llms.switch import allow_model_requests, model_requests, model_requests_allowed

__all__ = [
    "BaseChatModel",
    "ChatModel",
    "ChatResult",
    "ExtractiveAnswer",
    "ExtractiveReader",
    "FakeListModel",
    "FakeModel",
    "FunctionModel",
    "GenerationParams",
    "HFChatModel",
    "Message",
    "ModelServerError",
    "OpenAICompatModel",
    "Resolution",
    "ToolCall",
    "Usage",
    "allow_model_requests",
    "assistant",
    "load",
    "model_requests",
    "model_requests_allowed",
    "resolve",
    "system",
    "to_messages",
    "tool",
    "user",
]
