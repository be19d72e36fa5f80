"""Hard negatives for embedding fine-tuning, mined from the current index.

For each (query, passage) pair the index is searched with the query; the best-ranked
documents that are not a positive of that query (by text, or by id when pairs carry
``passage_id``) become the pair's negatives. Passages that look relevant to a retriever but
are not make the multiple-negatives ranking loss far more informative than random ones.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.finetune.data import load_data

if TYPE_CHECKING:
    from agentkit.retrievers.document import Document


def load_corpus(path: str | os.PathLike[str]) -> list[Document]:
    """A JSONL corpus of ``text`` records (optional ``id``) as Documents."""
    from agentkit.retrievers.document import Document

    data = load_data(path, format="text", allowed=("text",))
    return [Document(example["text"], id=str(example.get("id") or "")) for example in data.examples]


def build_index(corpus: Sequence[Document], mine_with: str, model: str | None = None) -> Any:
    """A retriever over ``corpus``: ``"bm25"``, or ``"dense"`` with the embedding ``model``
    (a folder; ``None``: the bundled all-MiniLM-L6-v2) in an exact inner-product index."""
    if not corpus:
        raise UsageError("the corpus to mine negatives from is empty; pass documents")
    if mine_with == "bm25":
        from agentkit.retrievers.bm25 import BM25Retriever

        return BM25Retriever(corpus)
    if mine_with == "dense":
        from agentkit.retrievers.embeddings import SentenceTransformerEmbedder
        from agentkit.retrievers.vector import VectorRetriever
        from agentkit.retrievers.vectorstores import TorchStore

        embedder = SentenceTransformerEmbedder(model)
        retriever = VectorRetriever(embedder, TorchStore(embedder.dimension, device="cpu"))
        retriever.add_documents(list(corpus))
        return retriever
    raise UsageError(f"mine_with must be 'bm25' or 'dense', got {mine_with!r}")


def mine_hard_negatives(
    pairs: Sequence[Mapping[str, Any]],
    retriever: Any,
    *,
    negatives: int = 1,
    skip_top: int = 0,
) -> list[list[str]]:
    """``negatives`` passage texts per pair (``query``, ``passage``, optional
    ``passage_id``) from ``retriever`` (anything with ``retrieve(query, k)``), skipping the
    ``skip_top`` best non-positive hits. A pair gets fewer when the index runs out."""
    if negatives < 0 or skip_top < 0:
        raise UsageError("negatives and skip_top must be >= 0")
    if not hasattr(retriever, "retrieve"):
        raise UsageError(
            "negatives are mined with a Retriever (retrieve(query, k)), got "
            f"{type(retriever).__name__}"
        )
    positive_texts: dict[str, set[str]] = {}
    positive_ids: dict[str, set[str]] = {}
    for pair in pairs:
        positive_texts.setdefault(pair["query"], set()).add(pair["passage"].strip())
        if pair.get("passage_id"):
            positive_ids.setdefault(pair["query"], set()).add(str(pair["passage_id"]))
    mined: dict[str, list[str]] = {}
    for query, texts in positive_texts.items():
        if negatives == 0:
            mined[query] = []
            continue
        depth = skip_top + negatives + len(texts) + 5
        ids = positive_ids.get(query, set())
        found = [
            doc.text
            for doc in retriever.retrieve(query, depth)
            if doc.text.strip() not in texts and (not doc.id or doc.id not in ids)
        ]
        mined[query] = found[skip_top : skip_top + negatives]
    return [list(mined[pair["query"]]) for pair in pairs]
