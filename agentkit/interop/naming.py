"""How interop wrappers are named: the library and the class of the object a node runs,
``LangChain(ChatOpenAI)`` or ``LlamaIndex(VectorIndexRetriever)`` (what traces, the event
stream and the app show). The wrappers take the name from these mixins (listed before
their agentkit base) instead of each spelling it out."""

from __future__ import annotations

from typing import Any


def foreign_name(library: str, obj: Any) -> str:
    """``<library>(<class of obj>)``."""
    return f"{library}({type(obj).__name__})"


class LangChainNamed:
    """Mixin for a wrapper keeping its LangChain object in ``lc``."""

    lc: Any

    @property
    def name(self) -> str:
        return foreign_name("LangChain", self.lc)


class LlamaIndexNamed:
    """Mixin for a wrapper keeping its LlamaIndex object in ``li``."""

    li: Any

    @property
    def name(self) -> str:
        return foreign_name("LlamaIndex", self.li)
