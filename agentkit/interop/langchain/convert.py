"""``from_langchain`` and ``to_langchain``: one call per direction, dispatching on the kind
of object (chat model, LLM, retriever, tool, embeddings, vector store, loader, runnable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentkit.core.errors import UsageError


def from_langchain(obj: Any, **options: Any) -> Any:
    """The agentkit counterpart of a LangChain object.

    - ``BaseChatModel`` -> :class:`LangChainChatModel`; ``BaseLLM`` -> :class:`LangChainLLM`
    - ``BaseRetriever`` -> :class:`LangChainRetriever`; ``VectorStore`` ->
      :class:`LangChainVectorStoreRetriever`; ``Embeddings`` -> :class:`LangChainEmbedder`
    - ``BaseTool`` -> :class:`LangChainTool`
    - a ``BaseLoader`` class -> :class:`~agentkit.interop.loaders.ForeignFileLoader` (for
      ingestion); a loader instance -> its documents as agentkit documents
    - any other ``Runnable`` -> :class:`LangChainRunnable`
    """
    from langchain_core.document_loaders import BaseLoader
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel, BaseLLM
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool
    from langchain_core.vectorstores import VectorStore

    from agentkit.interop.langchain import models_in, retrieval_in
    from agentkit.interop.langchain.tools import LangChainTool

    if isinstance(obj, type) and issubclass(obj, BaseLoader):
        from agentkit.interop.loaders import ForeignFileLoader

        return ForeignFileLoader(obj, **options)
    if isinstance(obj, BaseLoader):
        from agentkit.interop.langchain.messages import from_lc_document

        return [from_lc_document(d) for d in obj.load()]
    wrappers: tuple[tuple[type, Callable[..., Any]], ...] = (  # the first match wins
        (BaseChatModel, models_in.LangChainChatModel),
        (BaseLLM, models_in.LangChainLLM),
        (BaseRetriever, retrieval_in.LangChainRetriever),
        (BaseTool, LangChainTool),
        (VectorStore, retrieval_in.LangChainVectorStoreRetriever),
        (Embeddings, retrieval_in.LangChainEmbedder),
    )
    for kind, wrapper in wrappers:
        if isinstance(obj, kind):
            return wrapper(obj, **options)
    if isinstance(obj, Runnable):
        from agentkit.interop.langchain.runnables import LangChainRunnable

        return LangChainRunnable(obj)
    raise UsageError(
        f"from_langchain cannot convert a {type(obj).__name__}; it takes chat models, LLMs, "
        "retrievers, tools, embeddings, vector stores, document loaders and runnables"
    )


def to_langchain(obj: Any, **options: Any) -> Any:
    """The LangChain counterpart of an agentkit object.

    - a chat model -> :class:`AgentkitChatModel` (``BaseChatModel``)
    - a retriever -> :class:`AgentkitRetriever` (``BaseRetriever``)
    - a tool -> :class:`AgentkitTool` (``BaseTool``)
    - an embedder -> :class:`AgentkitEmbeddings` (``Embeddings``)
    - a vector store -> :class:`AgentkitVectorStore` (pass ``embedding=``: an agentkit
      embedder or LangChain ``Embeddings``)
    - any other Runnable -> :class:`AgentkitRunnable` (an LCEL runnable)
    """
    from agentkit.core.runnable import Runnable
    from agentkit.llms.base import BaseChatModel
    from agentkit.retrievers.base import Retriever
    from agentkit.tools.base import Tool

    if isinstance(obj, BaseChatModel):
        from agentkit.interop.langchain.chat_out import AgentkitChatModel

        return AgentkitChatModel(agentkit_model=obj, **options)
    if isinstance(obj, Retriever):
        from agentkit.interop.langchain.retrieval_out import AgentkitRetriever

        return AgentkitRetriever(retriever=obj, **options)
    if isinstance(obj, Tool):
        from agentkit.interop.langchain.tools import AgentkitTool

        return AgentkitTool(obj, **options)
    if callable(getattr(obj, "embed_batch", None)):
        from agentkit.interop.langchain.retrieval_out import AgentkitEmbeddings

        return AgentkitEmbeddings(obj)
    if callable(getattr(obj, "search", None)) and callable(getattr(obj, "upsert", None)):
        from agentkit.interop.langchain.retrieval_out import AgentkitVectorStore

        if "embedding" not in options:
            raise UsageError(
                "to_langchain(store) needs the embedder the store was built with: "
                "to_langchain(store, embedding=embedder)"
            )
        return AgentkitVectorStore(obj, options["embedding"])
    if isinstance(obj, Runnable):
        from agentkit.interop.langchain.runnables import AgentkitRunnable

        return AgentkitRunnable(obj)
    raise UsageError(
        f"to_langchain cannot convert a {type(obj).__name__}; it takes agentkit chat models, "
        "retrievers, tools, embedders, vector stores (with embedding=) and runnables"
    )
