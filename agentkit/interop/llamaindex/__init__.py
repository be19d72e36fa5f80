"""LlamaIndex both ways: :func:`from_llamaindex` and :func:`to_llamaindex`.

Needs the ``interop`` extra (``llama-index-core``); importing this package imports it.
"""

from __future__ import annotations

from agentkit.core.errors import import_optional

import_optional("llama_index.core", "llama-index-core", "interop", "LlamaIndex interop")

from agentkit.interop.llamaindex.convert import from_llamaindex, to_llamaindex  # noqa: E402

__all__ = ["from_llamaindex", "to_llamaindex"]
