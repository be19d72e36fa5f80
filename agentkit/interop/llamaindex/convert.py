"""``from_llamaindex`` and ``to_llamaindex``: one call per direction."""

from __future__ import annotations

from typing import Any

from agentkit.core.errors import UsageError


def from_llamaindex(obj: Any, **options: Any) -> Any:
    """The agentkit counterpart of a LlamaIndex object: a retriever ->
    :class:`LlamaIndexRetriever`; a query engine -> :class:`LlamaIndexQueryEngine`; a reader
    instance -> its documents (``load_data()``) as agentkit documents; a reader class -> a
    :class:`~agentkit.interop.loaders.ForeignFileLoader` for ingestion; a document or node
    -> an agentkit document."""
    from llama_index.core.base.base_query_engine import BaseQueryEngine
    from llama_index.core.readers.base import BaseReader
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import BaseNode

    from agentkit.interop.llamaindex import components as c
    from agentkit.interop.llamaindex.documents import from_li_node

    if isinstance(obj, type) and issubclass(obj, BaseReader):
        from agentkit.interop.loaders import ForeignFileLoader

        return ForeignFileLoader(obj, **options)
    if isinstance(obj, BaseRetriever):
        return c.LlamaIndexRetriever(obj, **options)
    if isinstance(obj, BaseQueryEngine):
        return c.LlamaIndexQueryEngine(obj)
    if isinstance(obj, BaseReader) or callable(getattr(obj, "load_data", None)):
        return [from_li_node(d) for d in obj.load_data(**options)]
    if isinstance(obj, BaseNode):
        return from_li_node(obj)
    raise UsageError(
        f"from_llamaindex cannot convert a {type(obj).__name__}; it takes retrievers, query "
        "engines, readers (instances or classes) and documents"
    )


def to_llamaindex(obj: Any) -> Any:
    """The LlamaIndex counterpart of an agentkit object: a retriever -> ``BaseRetriever``
    (:class:`AgentkitLlamaRetriever`, usable in ``RetrieverQueryEngine``); a chain or other
    runnable -> a query engine (:class:`AgentkitQueryEngine`); a file loader -> a reader
    (:class:`AgentkitReader`); a document -> a LlamaIndex ``Document``."""
    from agentkit.core.runnable import Runnable
    from agentkit.interop.llamaindex import components as c
    from agentkit.interop.llamaindex.documents import to_li_document
    from agentkit.retrievers.base import Retriever
    from agentkit.retrievers.document import Document
    from agentkit.retrievers.loaders.base import Loader

    if isinstance(obj, Retriever):
        return c.AgentkitLlamaRetriever(obj)
    if isinstance(obj, Runnable):
        return c.AgentkitQueryEngine(chain=obj)
    if isinstance(obj, Loader):
        return c.AgentkitReader(obj)
    if isinstance(obj, Document):
        return to_li_document(obj)
    raise UsageError(
        f"to_llamaindex cannot convert a {type(obj).__name__}; it takes agentkit retrievers, "
        "chains (as query engines), file loaders and documents"
    )
