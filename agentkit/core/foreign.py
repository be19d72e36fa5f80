"""Objects from other frameworks where agentkit takes its own: :func:`coerce_foreign`.

agentkit's entry points that accept a model, retriever, tool or runnable call
``coerce_foreign(obj, want)``. A LangChain or LlamaIndex object (recognised by the module of
its class or a base class, so nothing is imported to check) is converted with
:mod:`agentkit.interop`, imported only then; anything else is returned unchanged.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentkit.core.errors import UsageError

_LANGCHAIN = ("langchain", "langchain_core", "langchain_community", "langchain_classic")
_LLAMAINDEX = ("llama_index",)
_KINDS = {  # want -> (module, class, what the caller needed)
    "runnable": ("agentkit.core.runnable", "Runnable", "a chain step"),
    "model": ("agentkit.llms.base", "BaseChatModel", "a chat model"),
    "retriever": ("agentkit.core.runnable", "Runnable", "a retriever"),
    "tool": ("agentkit.tools.base", "Tool", "a tool"),
}


def _top(module: str) -> str:
    return module.partition(".")[0]


def foreign_origin(obj: Any) -> str | None:
    """``"langchain"``, ``"llamaindex"`` or ``None``: where ``obj``'s class comes from (its
    own module or a base class's)."""
    cls = obj if isinstance(obj, type) else type(obj)
    if cls.__module__ == "builtins":
        return None
    for klass in cls.__mro__:
        top = _top(klass.__module__)
        if top.startswith("langchain") and top in _LANGCHAIN:
            return "langchain"
        if top in _LLAMAINDEX:
            return "llamaindex"
    return None


def coerce_foreign(obj: Any, want: str = "runnable") -> Any:
    """``obj`` as the agentkit object ``want`` names (``runnable``, ``model``,
    ``retriever`` or ``tool``) when it comes from LangChain or LlamaIndex; otherwise ``obj``
    unchanged. The agentkit ``Runnable`` check comes first at call sites, so this costs a
    class-hierarchy walk only for objects that are not agentkit's own."""
    if want not in _KINDS:
        raise UsageError(f"want must be one of {', '.join(_KINDS)}, got {want!r}")
    origin = foreign_origin(obj)
    if origin is None:
        return obj
    if origin == "langchain":
        from agentkit.interop.langchain import from_langchain as convert
    else:
        from agentkit.interop.llamaindex import from_llamaindex as convert
    out = convert(obj)
    module, name, label = _KINDS[want]
    if not isinstance(out, getattr(importlib.import_module(module), name)):
        raise UsageError(
            f"a {type(obj).__name__} ({origin}) cannot be used as {label} here; pass a "
            f"{origin} object of that kind, or convert it with agentkit.interop"
        )
    return out
