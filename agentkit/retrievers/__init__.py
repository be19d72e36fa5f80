"""The retrieval layer: documents, loaders, splitters, embeddings, vector stores, BM25,
hybrid retrieval, re-ranking and ingestion. Heavy dependencies load on first use."""

from agentkit.retrievers.base import (
    BaseEmbedder,
    Embedder,
    Filter,
    Hit,
    Retriever,
    VectorStore,
    matches,
)
from agentkit.retrievers.document import Document, content_hash
from agentkit.retrievers.embeddings import (
    CachedEmbedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    default_embedder,
)
from agentkit.retrievers.index import Index, index
from agentkit.retrievers.ingest import Ingestor, IngestReport
from agentkit.retrievers.loaders import (
    CSVLoader,
    DirectoryLoader,
    HTMLLoader,
    JSONLLoader,
    Loader,
    LoadReport,
    MarkdownLoader,
    PDFLoader,
    TextLoader,
    UnreadableFileError,
    load_documents,
    load_file,
)
from agentkit.retrievers.mmr import mmr_select
from agentkit.retrievers.splitters import RecursiveSplitter, Splitter, TokenSplitter
from agentkit.retrievers.vector import VectorRetriever
from agentkit.retrievers.vectorstores import FaissStore, TorchStore, load_store

__all__ = [
    "BaseEmbedder",
    "CSVLoader",
    "CachedEmbedder",
    "DirectoryLoader",
    "Document",
    "Embedder",
    "FaissStore",
    "Filter",
    "HTMLLoader",
    "HashingEmbedder",
    "Hit",
    "Index",
    "IngestReport",
    "Ingestor",
    "JSONLLoader",
    "LoadReport",
    "Loader",
    "MarkdownLoader",
    "PDFLoader",
    "RecursiveSplitter",
    "Retriever",
    "SentenceTransformerEmbedder",
    "Splitter",
    "TextLoader",
    "TokenSplitter",
    "TorchStore",
    "UnreadableFileError",
    "VectorRetriever",
    "VectorStore",
    "content_hash",
    "default_embedder",
    "index",
    "load_documents",
    "load_file",
    "load_store",
    "matches",
    "mmr_select",
]
