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


def index(paths: Any, index_dir: Any = None, embedder: Any = None, **options: Any) -> Any:
    """Ingest files into a searchable index: ``agentkit.index("docs/").search("...")``
    for chunks, ``agentkit.index("docs/").query("...")`` for an answer with sources.

    See :func:`agentkit.retrievers.index.index` (needs the ``retrieval`` extra)."""
    from agentkit.retrievers.index import index as build

    return build(paths, index_dir, embedder, **options)


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
    "index",
    "load",
    "passthrough",
    "register",
    "save",
]
