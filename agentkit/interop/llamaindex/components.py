"""LlamaIndex retrievers, query engines and readers both ways.

- :class:`LlamaIndexRetriever`: a LlamaIndex ``BaseRetriever`` as an agentkit retriever.
- :class:`LlamaIndexQueryEngine`: a LlamaIndex query engine as an agentkit node answering
  ``{"result", "source_documents"}`` (like :class:`~agentkit.chains.RetrievalQA`).
- :class:`AgentkitLlamaRetriever`: an agentkit retriever as a LlamaIndex ``BaseRetriever``
  (it drives ``RetrieverQueryEngine``).
- :class:`AgentkitQueryEngine`: an agentkit chain (a ``RetrievalQA`` or any node taking
  ``{"query": ...}``) as a LlamaIndex query engine.
- :class:`AgentkitReader`: an agentkit file loader as a LlamaIndex reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index.core.base.response.schema import Response
from llama_index.core.query_engine import CustomQueryEngine
from llama_index.core.readers.base import BaseReader
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle

from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable, traced
from agentkit.interop.llamaindex.documents import from_li_node, to_li_document, to_li_node
from agentkit.interop.naming import LlamaIndexNamed
from agentkit.retrievers.base import Retriever
from agentkit.retrievers.document import Document, as_document


class LlamaIndexRetriever(LlamaIndexNamed, Retriever):
    """An agentkit retriever running a LlamaIndex retriever (results cut to ``k``; set the
    LlamaIndex retriever's own ``similarity_top_k`` to fetch more)."""

    def __init__(self, retriever: Any, k: int = 4) -> None:
        super().__init__(k)
        self.li = retriever

    def retrieve(self, query: str, k: int) -> list[Document]:
        return [from_li_node(n) for n in self.li.retrieve(query)[:k]]

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> list[Document]:
        if not isinstance(input, str):
            return await super().ainvoke(input, config)
        return [from_li_node(n) for n in (await self.li.aretrieve(input))[: self.k]]


class LlamaIndexQueryEngine(LlamaIndexNamed, Runnable[Any, dict[str, Any]]):
    """An agentkit node asking a LlamaIndex query engine: a question string (or a dict with
    ``query``/``question``) in, ``{"result", "source_documents"}`` out."""

    kind = "query_engine"

    def __init__(self, engine: Any) -> None:
        self.li = engine

    @traced
    def invoke(self, input: Any, config: ConfigLike = None) -> dict[str, Any]:
        return _answer(self.li.query(_question(input)))

    @traced
    async def ainvoke(self, input: Any, config: ConfigLike = None) -> dict[str, Any]:
        return _answer(await self.li.aquery(_question(input)))


def _question(input: Any) -> str:
    if isinstance(input, Mapping):
        for key in ("query", "question", "input"):
            if isinstance(input.get(key), str):
                return str(input[key])
        raise UsageError(f"a query engine needs a 'query' or 'question', got keys {sorted(input)}")
    if not isinstance(input, str):
        raise UsageError(f"a query engine takes a question string, got {type(input).__name__}")
    return input


def _answer(response: Any) -> dict[str, Any]:
    nodes = getattr(response, "source_nodes", None) or []
    return {"result": str(response), "source_documents": [from_li_node(n) for n in nodes]}


class AgentkitLlamaRetriever(BaseRetriever):
    """A LlamaIndex retriever running an agentkit retriever (scores and ids kept)."""

    def __init__(self, retriever: Any) -> None:
        if not callable(getattr(retriever, "invoke", None)):
            raise UsageError(
                f"AgentkitLlamaRetriever needs an agentkit retriever, got {retriever!r}"
            )
        self.retriever = retriever
        super().__init__()

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        docs = self.retriever.invoke(query_bundle.query_str)
        return [_scored_node(as_document(d)) for d in docs]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        docs = await self.retriever.ainvoke(query_bundle.query_str)
        return [_scored_node(as_document(d)) for d in docs]


def _scored_node(doc: Document) -> NodeWithScore:
    return NodeWithScore(node=to_li_node(doc), score=doc.score)


class AgentkitQueryEngine(CustomQueryEngine):
    """A LlamaIndex query engine running an agentkit chain that takes ``{"query": ...}`` and
    answers text or a dict with ``result`` (and ``source_documents``)."""

    chain: Any

    def custom_query(self, query_str: str) -> Response:
        return _response(self.chain.invoke({"query": query_str}))

    async def acustom_query(self, query_str: str) -> Response:
        return _response(await self.chain.ainvoke({"query": query_str}))


def _response(out: Any) -> Response:
    if isinstance(out, Mapping):
        docs = [as_document(d) for d in out.get("source_documents") or ()]
        text = out.get("result", out.get("text", out.get("output")))
        return Response(response=str(text), source_nodes=[_scored_node(d) for d in docs])
    content = getattr(out, "content", out)
    return Response(response=str(content), source_nodes=[])


class AgentkitReader(BaseReader):
    """A LlamaIndex reader running an agentkit file loader: ``load_data(file)``."""

    def __init__(self, loader: Any) -> None:
        if not callable(getattr(loader, "load", None)):
            raise UsageError(f"AgentkitReader needs an agentkit Loader, got {loader!r}")
        self.loader = loader

    def load_data(self, file: str | Path, **kwargs: Any) -> list[Any]:
        return [to_li_document(d) for d in self.loader.load(file)]
