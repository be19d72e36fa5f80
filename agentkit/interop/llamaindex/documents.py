"""Documents and nodes between LlamaIndex and agentkit: ``id_`` is the document id,
metadata is kept, and ``file_path`` (LlamaIndex's file readers) fills ``Document.source``."""

from __future__ import annotations

from typing import Any

from agentkit.retrievers.document import Document


def from_li_node(node: Any, score: float | None = None) -> Document:
    """An agentkit document from a LlamaIndex ``Document``/``TextNode`` (or a
    ``NodeWithScore``, whose score is kept)."""
    if hasattr(node, "node") and hasattr(node, "score"):  # NodeWithScore
        node, score = node.node, node.score if score is None else score
    metadata = dict(getattr(node, "metadata", None) or {})
    source = metadata.get("file_path") or metadata.get("source")
    return Document(
        node.get_content(),
        str(node.node_id),
        metadata,
        str(source) if source is not None else None,
        score=float(score) if score is not None else None,
    )


def to_li_node(doc: Document) -> Any:
    """A LlamaIndex ``TextNode`` from an agentkit document (``source`` as ``file_path``
    when the metadata has none)."""
    from llama_index.core.schema import TextNode

    metadata = dict(doc.metadata)
    if doc.source is not None:
        metadata.setdefault("file_path", doc.source)
    return TextNode(text=doc.text, id_=doc.id, metadata=metadata)


def to_li_document(doc: Document) -> Any:
    """A LlamaIndex ``Document`` from an agentkit one."""
    from llama_index.core import Document as LIDocument

    metadata = dict(doc.metadata)
    if doc.source is not None:
        metadata.setdefault("file_path", doc.source)
    return LIDocument(text=doc.text, id_=doc.id, metadata=metadata)
