"""Chain factories of the bundled eval suites (``evals/*.yaml``).

- :func:`squad_rag_chain`: SQuAD v1.1 dev as a closed corpus. Its 2,067 paragraphs are
  indexed once (BM25 + all-MiniLM-L6-v2 in FAISS, fused by :class:`HybridRetriever`) and
  cached under ``.cache/``; questions are answered by the extractive reader through
  :class:`RetrievalQA` (the default offline RAG chain).
- :func:`scifact_retriever`: the same hybrid retriever over the BEIR SciFact abstracts.

The data is read from ``$AGENTKIT_SHARED_DATA``, else ``../shared/data`` beside the checkout.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError

SQUAD_DEV = Path("squad-v1.1-dev") / "dev-v1.1.json.gz"
SCIFACT = Path("scifact-beir")


def shared_data_dir() -> Path:
    """The read-only evaluation data folder."""
    env = os.environ.get("AGENTKIT_SHARED_DATA")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _data_file(path: str | Path | None, default: Path) -> Path:
    target = Path(path) if path is not None else shared_data_dir() / default
    if not target.exists():
        raise UsageError(
            f"{target} does not exist; set AGENTKIT_SHARED_DATA to the folder holding "
            f"{default}, or pass its path"
        )
    return target


def _fingerprint(path: Path) -> str:
    if path.is_dir():
        digest = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(item.name.encode() + item.read_bytes())
        return digest.hexdigest()[:12]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def cached_hybrid(
    documents: Callable[[], Sequence[Any]],
    folder: Path,
    k: int,
    embedder: Any = None,
) -> Any:
    """BM25 + dense (FAISS flat inner product) fused by :class:`HybridRetriever`; both
    indexes are built on first use and saved in ``folder``, then loaded from there."""
    from agentkit.retrievers.bm25 import BM25Retriever
    from agentkit.retrievers.embeddings import CachedEmbedder, SentenceTransformerEmbedder
    from agentkit.retrievers.hybrid import HybridRetriever
    from agentkit.retrievers.vector import VectorRetriever
    from agentkit.retrievers.vectorstores import FaissStore

    emb = embedder or CachedEmbedder(SentenceTransformerEmbedder(), folder.parent)
    bm25_dir, dense_dir = folder / "bm25", folder / f"faiss-{_slug(emb.model_id)}"
    docs: Sequence[Any] | None = None
    if (bm25_dir / "CURRENT").is_file():
        bm25 = BM25Retriever.load(bm25_dir, k=k)
    else:
        docs = documents()
        bm25 = BM25Retriever(docs, k=k)
        bm25.save(bm25_dir)
    if dense_dir.is_dir():
        store = FaissStore.load(dense_dir)
        dense = VectorRetriever(emb, store, k=k)
    else:
        docs = docs if docs is not None else documents()
        dense = VectorRetriever(emb, FaissStore(emb.dimension, metric="ip", index="flat"), k=k)
        for start in range(0, len(docs), 512):
            dense.add_documents(docs[start : start + 512])
        dense.store.save(str(dense_dir))
    return HybridRetriever([bm25, dense], k=k), emb


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)[-60:]


def squad_retriever(
    path: str | Path | None = None, k: int = 5, cache_dir: str | Path = ".cache"
) -> Any:
    """The hybrid retriever over the paragraphs of a SQuAD file (ids as in the dataset)."""
    return _squad(path, k, cache_dir)[0]


def _squad(path: str | Path | None, k: int, cache_dir: str | Path) -> tuple[Any, Any]:
    from agentkit.evals.squad_data import load_paragraphs
    from agentkit.retrievers.document import Document

    data = _data_file(path, SQUAD_DEV)

    def documents() -> list[Any]:
        return [
            Document(p.text, id=p.id, metadata={"title": p.title}, source=p.title)
            for p in load_paragraphs(data)
        ]

    folder = Path(cache_dir) / f"squad-{_fingerprint(data)}"
    return cached_hybrid(documents, folder, k)


def squad_rag_chain(
    path: str | Path | None = None, k: int = 5, cache_dir: str | Path = ".cache"
) -> Any:
    """RetrievalQA: the extractive reader over the hybrid retriever on SQuAD paragraphs."""
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.llms.extractive import ExtractiveReader

    retriever, embedder = _squad(path, k, cache_dir)
    reader = ExtractiveReader(embedder=embedder)
    return RetrievalQA.from_llm(reader, retriever, return_source_documents=True)


def scifact_retriever(
    path: str | Path | None = None, k: int = 100, cache_dir: str | Path = ".cache"
) -> Any:
    """The hybrid retriever over the BEIR SciFact abstracts (title + text)."""
    import gzip
    import json

    from agentkit.retrievers.document import Document

    folder_in = _data_file(path, SCIFACT)

    def documents() -> list[Any]:
        docs = []
        with gzip.open(folder_in / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                text = f"{row.get('title', '')} {row['text']}".strip()
                docs.append(
                    Document(text, id=str(row["_id"]), metadata={"title": row.get("title", "")})
                )
        return docs

    corpus = folder_in / "corpus.jsonl.gz"
    folder = Path(cache_dir) / f"scifact-{_fingerprint(corpus)}"
    return cached_hybrid(documents, folder, k)[0]
