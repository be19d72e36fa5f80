"""agentkit retrieval parts as LangChain ones: a retriever as ``BaseRetriever``, an embedder
as ``Embeddings``, a vector store (with an embedder) as ``VectorStore``.

Documents keep their id and metadata; ``source`` is added to the metadata when the agentkit
document has one, and retriever results carry their ``score`` in the metadata. The vector
store L2-normalises vectors, so its scores are cosine similarities whatever the embedder.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import VectorStore as LCVectorStore
from pydantic import ConfigDict

from agentkit.core.errors import UsageError
from agentkit.interop.langchain.messages import to_lc_document
from agentkit.retrievers.base import check_k
from agentkit.retrievers.document import Document


class AgentkitRetriever(BaseRetriever):
    """A LangChain retriever running an agentkit retriever (``k`` overrides its ``k``;
    ``invoke(query, k=3)`` overrides it per call)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int | None = None

    def model_post_init(self, context: Any) -> None:
        if not callable(getattr(self.retriever, "invoke", None)):
            raise UsageError(
                f"AgentkitRetriever needs an agentkit retriever, got {type(self.retriever)}"
            )
        if self.k is not None:
            check_k(self.k)

    def _documents(self, query: str, k: int | None) -> list[Document]:
        k = k if k is not None else self.k
        retrieve = getattr(self.retriever, "retrieve", None)
        if callable(retrieve) and (k is not None or hasattr(self.retriever, "k")):
            if k is not None:
                check_k(k)
            return list(retrieve(query, k if k is not None else self.retriever.k))
        return list(self.retriever.invoke(query))

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[LCDocument]:
        return [to_lc_document(d, with_score=True) for d in self._documents(query, k)]


class AgentkitEmbeddings(Embeddings):
    """LangChain ``Embeddings`` running an agentkit embedder (``embed_batch``)."""

    def __init__(self, embedder: Any) -> None:
        if not callable(getattr(embedder, "embed_batch", None)):
            raise UsageError(
                f"AgentkitEmbeddings needs an agentkit embedder (with embed_batch), got "
                f"{type(embedder).__name__}"
            )
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return np.asarray(self.embedder.embed_batch(list(texts)), dtype=np.float64).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class AgentkitVectorStore(LCVectorStore):
    """A LangChain vector store over an agentkit :class:`VectorStore` and an embedding
    (LangChain ``Embeddings`` or an agentkit embedder)."""

    def __init__(self, store: Any, embedding: Any) -> None:
        for method in ("search", "upsert", "delete", "get"):
            if not callable(getattr(store, method, None)):
                raise UsageError(
                    f"AgentkitVectorStore needs an agentkit vector store (with {method}), got "
                    f"{type(store).__name__}"
                )
        if not isinstance(embedding, Embeddings):
            embedding = AgentkitEmbeddings(embedding)
        self.store, self._embedding = store, embedding

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def _vectors(self, rows: list[list[float]]) -> np.ndarray:
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
        if vectors.shape[1] != self.store.dimension:
            raise UsageError(
                f"the embedding makes {vectors.shape[1]}-d vectors but the store holds "
                f"{self.store.dimension}-d ones; use the embedding the store was built with"
            )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[Any, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        texts = list(texts)
        metadatas = metadatas or [{} for _ in texts]
        if ids is None:
            ids = [uuid.uuid4().hex for _ in texts]
        if not len(texts) == len(metadatas) == len(ids):
            raise UsageError("add_texts needs as many metadatas and ids as texts")
        ids = [str(i) if i else uuid.uuid4().hex for i in ids]
        docs = [
            Document(text, ident, dict(meta), None)
            for text, meta, ident in zip(texts, metadatas, ids, strict=True)
        ]
        if docs:
            self.store.upsert(docs, self._vectors(self._embedding.embed_documents(texts)))
        return ids

    def add_documents(self, documents: list[LCDocument], **kwargs: Any) -> list[str]:
        ids = kwargs.pop("ids", None) or [d.id or uuid.uuid4().hex for d in documents]
        return self.add_texts(
            [d.page_content for d in documents],
            [dict(d.metadata) for d in documents],
            ids=list(ids),
        )

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if ids is None:
            ids = list(self.store.ids())
        self.store.delete([str(i) for i in ids])
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[LCDocument]:
        return [to_lc_document(d) for d in self.store.get([str(i) for i in ids])]

    def similarity_search_with_score(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[LCDocument, float]]:
        return self._search(self._embedding.embed_query(query), k, kwargs.get("filter"))

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, **kwargs: Any
    ) -> list[LCDocument]:
        return [doc for doc, _ in self._search(embedding, k, kwargs.get("filter"))]

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[LCDocument]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def _search(self, vector: list[float], k: int, flt: Any) -> list[tuple[LCDocument, float]]:
        check_k(k)
        if len(self.store) == 0:
            return []
        hits = self.store.search(self._vectors([vector]), k, flt)[0]
        return [(to_lc_document(h.document), float(h.score)) for h in hits]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: (score + 1.0) / 2.0

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[Any, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> AgentkitVectorStore:
        """A new store (an agentkit ``TorchStore``, or ``store=`` from kwargs) with ``texts``."""
        store = kwargs.get("store")
        if store is None:
            from agentkit.retrievers.vectorstores import TorchStore

            store = TorchStore(len(embedding.embed_query(texts[0] if texts else "x")))
        vs = cls(store, embedding)
        vs.add_texts(texts, metadatas, ids=ids)
        return vs
