"""The OpenAI-compatible backend: :class:`OpenAICompatModel` (OpenAI, Ollama, vLLM,
llama.cpp) over httpx, which is imported on the first request.

Importing this package registers the ``openai_compat_model`` spec type.
"""

from __future__ import annotations

from agentkit.llms.openai_compat.model import OLLAMA_URL, OPENAI_URL, OpenAICompatModel
from agentkit.llms.openai_compat.wire import ModelServerError

__all__ = ["OLLAMA_URL", "OPENAI_URL", "ModelServerError", "OpenAICompatModel"]
