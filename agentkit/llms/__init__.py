"""Chat models: generation params, the ChatModel contract, the fakes and the model backends.

Importing this package is light: each name is imported on first use (PEP 562), so
``from agentkit.llms import FakeListModel`` loads neither the Hugging Face nor the
OpenAI-compatible backend. Messages live in :mod:`agentkit.core.messages` (re-exported here).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentkit.core.messages import (
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
    from agentkit.llms.base import BaseChatModel, ChatModel
    from agentkit.llms.cache import SQLiteCache, get_llm_cache, set_llm_cache
    from agentkit.llms.cached_model import CachedModel
    from agentkit.llms.extractive import ExtractiveAnswer, ExtractiveReader
    from agentkit.llms.fake import FakeListModel, FakeModel, FunctionModel
    from agentkit.llms.hf import HFChatModel
    from agentkit.llms.openai_compat import ModelServerError, OpenAICompatModel
    from agentkit.llms.params import GenerationParams
    from agentkit.llms.resolve import Resolution, load, load_model, resolve
    from agentkit.llms.semantic_cache import SemanticCache
    from agentkit.llms.structured import OutputSchema, StructuredOutput
    from agentkit.llms.switch import (
        allow_model_requests,
        model_requests,
        model_requests_allowed,
    )

_WHERE = {
    "BaseChatModel": "agentkit.llms.base",
    "CachedModel": "agentkit.llms.cached_model",
    "ChatModel": "agentkit.llms.base",
    "ChatResult": "agentkit.core.messages",
    "ExtractiveAnswer": "agentkit.llms.extractive",
    "ExtractiveReader": "agentkit.llms.extractive",
    "FakeListModel": "agentkit.llms.fake",
    "FakeModel": "agentkit.llms.fake",
    "FunctionModel": "agentkit.llms.fake",
    "GenerationParams": "agentkit.llms.params",
    "HFChatModel": "agentkit.llms.hf",
    "Message": "agentkit.core.messages",
    "ModelServerError": "agentkit.llms.openai_compat",
    "OpenAICompatModel": "agentkit.llms.openai_compat",
    "OutputSchema": "agentkit.llms.structured",
    "Resolution": "agentkit.llms.resolve",
    "SQLiteCache": "agentkit.llms.cache",
    "SemanticCache": "agentkit.llms.semantic_cache",
    "StructuredOutput": "agentkit.llms.structured",
    "ToolCall": "agentkit.core.messages",
    "Usage": "agentkit.core.messages",
    "allow_model_requests": "agentkit.llms.switch",
    "assistant": "agentkit.core.messages",
    "get_llm_cache": "agentkit.llms.cache",
    "load": "agentkit.llms.resolve",
    "load_model": "agentkit.llms.resolve",
    "model_requests": "agentkit.llms.switch",
    "model_requests_allowed": "agentkit.llms.switch",
    "resolve": "agentkit.llms.resolve",
    "set_llm_cache": "agentkit.llms.cache",
    "system": "agentkit.core.messages",
    "to_messages": "agentkit.core.messages",
    "tool": "agentkit.core.messages",
    "user": "agentkit.core.messages",
}

__all__ = [
    "BaseChatModel",
    "CachedModel",
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
    "OutputSchema",
    "Resolution",
    "SQLiteCache",
    "SemanticCache",
    "StructuredOutput",
    "ToolCall",
    "Usage",
    "allow_model_requests",
    "assistant",
    "get_llm_cache",
    "load",
    "load_model",
    "model_requests",
    "model_requests_allowed",
    "resolve",
    "set_llm_cache",
    "system",
    "to_messages",
    "tool",
    "user",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'agentkit.llms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
