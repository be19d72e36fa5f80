"""LangChain both ways: :func:`from_langchain` and :func:`to_langchain`.

Needs the ``interop`` extra (``langchain-core``); importing this package imports it.
"""

from __future__ import annotations

from agentkit.core.errors import import_optional

import_optional("langchain_core", "langchain-core", "interop", "LangChain interop")

from agentkit.interop.langchain.convert import from_langchain, to_langchain  # noqa: E402

__all__ = ["from_langchain", "to_langchain"]
