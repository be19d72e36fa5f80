"""The one-liner: ``agentkit.index("docs/").query("...")`` builds (or brings up to date) a
vector index of files and asks questions over it (with ``llm=`` a model or a model spec;
offline by default) — the equivalent of the classic ``VectorstoreIndexCreator``."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Embedder, Filter, VectorStore
from agentkit.retrievers.document import Document
from agentkit.retrievers.ingest import Ingestor, IngestReport
from agentkit.retrievers.ingest.ingestor import Paths
from agentkit.retrievers.ingest.manifest import (
    check_embedder,
    embedder_from,
    load_store,
    read_manifest,
)

if TYPE_CHECKING:
    from agentkit.retrievers.vector import VectorRetriever


class Index:
    """A searchable index folder: an embedder and the vector store it filled.

    Build one with :func:`index`, open an existing one with :meth:`Index.open`.
    ``report`` is the :class:`IngestReport` of the ingestion that built or updated it.
    """

    def __init__(
        self,
        index_dir: str | Path,
        embedder: Embedder,
        store: VectorStore,
        report: IngestReport | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embedder, self.store, self.report = embedder, store, report

    @classmethod
    def open(cls, index_dir: str | Path, embedder: Embedder | None = None) -> Index:
        """An existing index; the embedder is rebuilt from its manifest unless given."""
        folder = Path(index_dir).expanduser()
        manifest = read_manifest(folder)
        if manifest is None:
            raise UsageError(
                f"no index in {folder}; build one with agentkit.index(paths, index_dir=...)"
            )
        if embedder is None:
            embedder = embedder_from(folder, manifest)
        check_embedder(folder, manifest, embedder)
        return cls(folder, embedder, load_store(folder, manifest))

    def search(self, query: str, k: int = 4, filter: Filter = None) -> list[Document]:
        """The ``k`` chunks nearest to ``query``, best first, with ``score`` set."""
        return self.as_retriever(k, filter=filter).invoke(query)

    def as_retriever(
        self, k: int = 4, search_type: str = "similarity", **options: Any
    ) -> VectorRetriever:
        """A :class:`~agentkit.retrievers.vector.VectorRetriever` over this index
        (``options``: ``filter``, ``fetch_k``, ``lambda_mult``)."""
        from agentkit.retrievers.vector import VectorRetriever

        return VectorRetriever(self.embedder, self.store, k, search_type=search_type, **options)

    def query(
        self, question: str, llm: Any = "auto", k: int = 4, chain_type: str = "stuff"
    ) -> dict[str, Any]:
        """Answer ``question`` over the ``k`` best chunks: RetrievalQA's
        ``{"result": answer, "sources": citations, ...}``.

        ``llm`` is a chat model or a model spec string (``"auto"``: Ollama when running,
        else ``AGENTKIT_MODEL``, else the offline extractive reader, which answers with
        sentences of the documents and shares this index's embedder).
        """
        from agentkit.chains.retrieval_qa import RetrievalQA

        chain = RetrievalQA.from_llm(
            self._model(llm), retriever=self.as_retriever(k), chain_type=chain_type
        )
        result: dict[str, Any] = chain.invoke({"query": question})
        return result

    def _model(self, llm: Any) -> Any:
        if not isinstance(llm, str):
            return llm
        from agentkit.llms.resolve import resolve

        choice = resolve(llm)
        if choice.backend == "extractive":
            from agentkit.llms.extractive import ExtractiveReader

            return ExtractiveReader(embedder=self.embedder)
        return choice.model

    def __len__(self) -> int:
        return len(self.store)

    def __repr__(self) -> str:
        model = self.embedder.model_id
        return f"Index({str(self.index_dir)!r}, chunks={len(self)}, embedder={model!r})"


def default_index_dir(paths: Paths, embedder: Embedder) -> Path:
    """``<cache>/indexes/<name>-<hash of the paths and embedder>`` (the cache is
    ``$AGENTKIT_CACHE_DIR`` or ``~/.cache/agentkit``)."""
    from agentkit.retrievers.embeddings import default_cache_dir

    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    roots = sorted(str(Path(p).expanduser().resolve()) for p in items)
    if not roots:
        raise UsageError("agentkit.index() needs at least one file or folder path")
    key = hashlib.sha256(json.dumps([roots, embedder.model_id]).encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(roots[0]).name).strip("-.")[:40] or "index"
    return default_cache_dir() / "indexes" / f"{name}-{key}"


def index(
    paths: Paths,
    index_dir: str | Path | None = None,
    embedder: Embedder | None = None,
    **options: Any,
) -> Index:
    """Index files and folders (or bring their index up to date) and return the
    :class:`Index`. ``options`` go to :class:`~agentkit.retrievers.ingest.Ingestor`
    (``splitter``, ``store``, ``glob``, ``exclude``, ``progress``, ...)."""
    if embedder is None:
        from agentkit.retrievers.embeddings import default_embedder

        embedder = default_embedder()
    folder = Path(index_dir) if index_dir is not None else default_index_dir(paths, embedder)
    ingestor = Ingestor(folder, embedder, **options)
    report = ingestor.ingest(paths)
    assert ingestor.store is not None
    return Index(folder, embedder, ingestor.store, report)
