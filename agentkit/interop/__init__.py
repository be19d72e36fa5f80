"""Interoperability with other ecosystems: LangChain, LlamaIndex, MCP, OpenTelemetry.

Each module imports its third-party package lazily; importing this package imports none.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "from_langchain": "agentkit.interop.langchain",
    "to_langchain": "agentkit.interop.langchain",
    "from_llamaindex": "agentkit.interop.llamaindex",
    "to_llamaindex": "agentkit.interop.llamaindex",
}


def __getattr__(name: str) -> Any:
    """``from agentkit.interop import from_langchain`` imports LangChain only then."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'agentkit.interop' has no attribute {name!r}")


__all__ = ["from_langchain", "from_llamaindex", "to_langchain", "to_llamaindex"]
