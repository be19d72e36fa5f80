"""agentkit: a light, fast, local-first framework for LLM applications.

Everything a user builds is a :class:`~agentkit.core.Runnable`. Heavy dependencies (torch,
transformers, faiss, streamlit, ...) are imported only by the modules that need them.
"""

from __future__ import annotations

from typing import Any

from agentkit.core import (
    Lambda,
    Parallel,
    Passthrough,
    RunConfig,
    Runnable,
    branch,
    debug,
)
from agentkit.core.spec import load_file as load
from agentkit.core.spec import register, save

__version__ = "0.1.0"


def passthrough() -> Passthrough:
    """The identity node (``passthrough() | step``)."""
    return Passthrough()


def assign(**steps: Any) -> Runnable[Any, Any]:
    """Add keys to a dict input: ``assign(context=retriever)``."""
    return Passthrough.assign(**steps)


__all__ = [
    "Lambda",
    "Parallel",
    "Passthrough",
    "RunConfig",
    "Runnable",
    "__version__",
    "assign",
    "branch",
    "debug",
    "load",
    "passthrough",
    "register",
    "save",
]
