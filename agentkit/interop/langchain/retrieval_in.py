"""LangChain retrieval parts in agentkit: a retriever or a vector store as an agentkit
:class:`~agentkit.retrievers.base.Retriever`, embeddings as an agentkit embedder.

A LangChain retriever has its own ``k`` (``search_kwargs``), so :class:`LangChainRetriever`
passes ``k`` on only where the retriever takes it (vector-store retrievers), and cuts the
result to ``k`` otherwise. Scores come from ``metadata["score"]`` when present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.interop.langchain.messages import from_lc_document
from agentkit.interop.naming import LangChainNamed
from agentkit.retrievers.base import Retriever
from agentkit.retrievers.document import Document


def _scored(doc: Any, score: float | None = None) -> Document:
    out = from_lc_document(doc)
    value = score if score is not None else out.metadata.get("score")
    if isinstance(value, int | float) and not isinstance(value, bool):
        out.score = float(value)
    return out


class LangChainRetriever(LangChainNamed, Retriever):
    """An agentkit retriever running a LangChain ``BaseRetriever``."""

    def __init__(self, retriever: Any, k: int = 4) -> None:
        super().__init__(k)
        if not callable(getattr(retriever, "invoke", None)):
            raise UsageError(f"LangChainRetriever needs a LangChain retriever, got {retriever!r}")
        self.lc = retriever

    def _kwargs(self, k: int) -> dict[str, Any]:
        """``{"k": k}`` for a vector-store retriever (it takes ``k`` per call), else none."""
        return {"k": k} if isinstance(getattr(self.lc, "search_kwargs", None), dict) else {}

    def retrieve(self, query: str, k: int) -> list[Document]:
        return [_scored(d) for d in self.lc.invoke(query, **self._kwargs(k))[:k]]

    async def ainvoke(self, input: Any, config: Any = None) -> list[Document]:
        if not isinstance(input, str):
            return await super().ainvoke(input, config)
        docs = await self.lc.ainvoke(input, **self._kwargs(self.k))
        return [_scored(d) for d in docs[: self.k]]


class LangChainVectorStoreRetriever(LangChainNamed, Retriever):
    """An agentkit retriever searching a LangChain ``VectorStore`` (documents carry the
    store's relevance score); ``add_documents`` adds agentkit documents to it."""

    def __init__(self, store: Any, k: int = 4) -> None:
        super().__init__(k)
        self.lc = store

    def retrieve(self, query: str, k: int) -> list[Document]:
        try:
            pairs = self.lc.similarity_search_with_score(query, k=k)
        except NotImplementedError:
            return [_scored(d) for d in self.lc.similarity_search(query, k=k)]
        return [_scored(doc, float(score)) for doc, score in pairs]

    def add_documents(self, documents: Sequence[Document]) -> list[str]:
        from agentkit.interop.langchain.messages import to_lc_document

        return list(self.lc.add_documents([to_lc_document(d) for d in documents]))


class LangChainEmbedder:
    """An agentkit embedder (``embed_batch``: float32, L2-normalised) running LangChain
    ``Embeddings``. The dimension is read from one embedding on first use."""

    def __init__(self, embeddings: Any, model_id: str | None = None) -> None:
        if not callable(getattr(embeddings, "embed_documents", None)):
            raise UsageError(f"LangChainEmbedder needs LangChain Embeddings, got {embeddings!r}")
        self.lc = embeddings
        self._model_id = model_id or f"langchain:{type(embeddings).__name__}"
        self._dimension: int | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = len(self.lc.embed_query("dimension probe"))
        return self._dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise UsageError("embed_batch takes a list of texts; wrap a single text as [text]")
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = np.asarray(self.lc.embed_documents(list(texts)), dtype=np.float32)
        self._dimension = int(vectors.shape[1])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    # LangChain spellings, for code moving over
    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embed_batch([text])[0]]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed_batch(list(texts)).astype(np.float64).tolist()
