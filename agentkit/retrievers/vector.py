""":class:`VectorRetriever`: embed the query, search a vector store (similarity or MMR)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.base import Embedder, Filter, Hit, Retriever, VectorStore, query_vector
from agentkit.retrievers.document import Document, as_document

SEARCH_TYPES = ("similarity", "mmr")


class VectorRetriever(Retriever):
    """Dense retrieval: ``query -> embedder -> store.search`` (documents carry ``score``).

    Args:
        embedder: turns the query into a vector (same model as the stored vectors).
        store: a :class:`VectorStore`; ``search_type="mmr"`` needs one with ``mmr_search``.
        k: documents returned.
        filter: metadata filter applied to every search.
        search_type: ``"similarity"`` or ``"mmr"`` (diverse results among ``fetch_k``).
    """

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        k: int = 4,
        filter: Filter = None,
        search_type: str = "similarity",
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
    ) -> None:
        super().__init__(k)
        if search_type not in SEARCH_TYPES:
            raise UsageError(f"search_type must be one of {SEARCH_TYPES}, got {search_type!r}")
        if search_type == "mmr" and not hasattr(store, "mmr_search"):
            raise UsageError(f"{type(store).__name__} has no mmr_search; use 'similarity'")
        if embedder.dimension != store.dimension:
            raise UsageError(
                f"embedder {embedder.model_id!r} makes {embedder.dimension}-d vectors but the "
                f"store holds {store.dimension}-d ones; use the embedder the store was built with"
            )
        if not 0.0 <= lambda_mult <= 1.0:
            raise UsageError(f"lambda_mult must be between 0 and 1, got {lambda_mult!r}")
        if not isinstance(fetch_k, int) or fetch_k < 1:
            raise UsageError(f"fetch_k must be a positive integer, got {fetch_k!r}")
        self.embedder, self.store, self.filter = embedder, store, filter
        self.search_type, self.fetch_k, self.lambda_mult = search_type, fetch_k, lambda_mult

    def retrieve(self, query: str, k: int) -> list[Document]:
        vector = query_vector(self.embedder, query)
        if self.search_type == "mmr":
            hits = self.store.mmr_search(  # type: ignore[attr-defined]
                vector,
                k,
                fetch_k=max(self.fetch_k, k),
                lambda_mult=self.lambda_mult,
                filter=self.filter,
            )
        else:
            hits = self.store.search(vector.reshape(1, -1), k, self.filter)[0]
        return [_scored(hit) for hit in hits]

    @classmethod
    def from_documents(
        cls, documents: Sequence[Document], embedder: Embedder, store: Any = None, **options: Any
    ) -> VectorRetriever:
        """LangChain's ``FAISS.from_documents(docs, embeddings).as_retriever()`` in one call:
        a new store (``store``: a factory ``dimension -> VectorStore``, default
        :class:`FaissStore`) holding ``documents``; ``options`` go to the retriever."""
        if store is None:
            from agentkit.retrievers.vectorstores import FaissStore

            store = FaissStore
        retriever = cls(embedder, store(embedder.dimension), **options)
        retriever.add_documents([as_document(d) for d in documents])
        return retriever

    def add_documents(self, documents: Sequence[Document]) -> list[str]:
        """Embed ``documents`` and upsert them into the store; returns their ids."""
        docs = list(documents)
        if docs:
            self.store.upsert(docs, self.embedder.embed_batch([d.text for d in docs]))
        return [d.id for d in docs]

    def to_dict(self) -> dict[str, Any]:
        path = getattr(self.store, "saved_path", None)
        if path is None or getattr(self.store, "has_unsaved_changes", True):
            raise SpecError(
                "$.store",
                "a VectorRetriever is saved with its store's folder, and this store has "
                "unsaved changes; call store.save(path) first",
            )
        if self.filter is not None and not isinstance(self.filter, Mapping):
            raise SpecError("$.filter", "only dict filters can be saved, not a function")
        data: dict[str, Any] = {
            "type": "vector_retriever",
            "embedder": spec.dump(self.embedder),
            "store": str(path),
            "k": self.k,
            "search_type": self.search_type,
            "fetch_k": self.fetch_k,
            "lambda_mult": self.lambda_mult,
        }
        if self.filter is not None:
            data["filter"] = dict(self.filter)
        return data


def _from_spec(ctx: spec.SpecContext) -> VectorRetriever:
    from agentkit.retrievers.vectorstores import load_store

    return VectorRetriever(
        ctx.component("embedder"),
        load_store(ctx.get("store", str)),
        k=ctx.get("k", int, 4),
        filter=ctx.get("filter", dict, None),
        search_type=ctx.get("search_type", str, "similarity", choices=SEARCH_TYPES),
        fetch_k=ctx.get("fetch_k", int, 20),
        lambda_mult=ctx.get("lambda_mult", float, 0.5),
    )


spec.add_builder("vector_retriever", _from_spec)


def _scored(hit: Hit) -> Document:
    """The hit's document with its score: a store's lazy hits build it with the score; a
    hit built by hand gets a scored copy (its document is not changed)."""
    doc = hit.document
    return doc if doc.score == hit.score else doc.with_score(hit.score)
