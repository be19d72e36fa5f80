"""The retrieval layer: documents, loaders, splitters, embeddings, vector stores, BM25,
hybrid retrieval, re-ranking and ingestion. Heavy dependencies load on first use."""

from agentkit.retrievers.base import Embedder, Filter, Hit, Retriever, VectorStore, matches
from agentkit.retrievers.document import Document, content_hash

__all__ = [
    "Document",
    "Embedder",
    "Filter",
    "Hit",
    "Retriever",
    "VectorStore",
    "content_hash",
    "matches",
]
