"""The one-liner: ``agentkit.index("docs/").query("...")`` builds (or brings up to date) an
index of files and asks questions over it (with ``llm=`` a model or a model spec; offline by
default) — the equivalent of the classic ``VectorstoreIndexCreator``.

An :class:`Index` owns one question-answering pipeline, :meth:`Index.qa_chain` (hybrid
BM25 + dense retrieval by default), which every front end runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Embedder, Filter, VectorStore
from agentkit.retrievers.document import Document
from agentkit.retrievers.ingest import Ingestor, IngestReport
from agentkit.retrievers.ingest.ingestor import Paths
from agentkit.retrievers.ingest.manifest import (
    StoreFactory,
    check_embedder,
    embedder_from,
    load_store,
    new_store,
    read_manifest,
    store_path,
    write_manifest,
)
from agentkit.retrievers.ingest.sidecar import sync_bm25

if TYPE_CHECKING:
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.core.runnable import Runnable
    from agentkit.retrievers.bm25 import BM25Retriever
    from agentkit.retrievers.vector import VectorRetriever

RETRIEVALS = ("hybrid", "dense", "bm25")


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
        self._bm25: BM25Retriever | None = None

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

    @classmethod
    def from_documents(
        cls,
        documents: Iterable[Document],
        index_dir: str | Path,
        embedder: Embedder | None = None,
        store: str | StoreFactory = "faiss",
        batch_size: int = 512,
    ) -> Index:
        """Index ``documents`` (kept as they are, ids included) into the new folder
        ``index_dir``, BM25 sidecar and all: it is built beside it and renamed into place,
        so the folder appears complete or not at all."""
        folder = Path(index_dir).expanduser()
        if folder.exists():
            raise UsageError(f"{folder} exists; open it with Index.open or pick a new folder")
        if embedder is None:
            from agentkit.retrievers.embeddings import default_embedder

            embedder = default_embedder()
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
        try:
            vectors = new_store(store, embedder.dimension)
            docs = list(documents)
            for start in range(0, len(docs), batch_size):
                batch = docs[start : start + batch_size]
                vectors.add(batch, embedder.embed_batch([d.text for d in batch]))
            write_manifest(building, embedder, vectors)
            vectors.save(str(store_path(building)))
            sync_bm25(building, vectors)
            try:
                os.rename(building, folder)
            except OSError as e:
                raise UsageError(
                    f"{folder} appeared while it was being built (another process?); open it "
                    "with Index.open"
                ) from e
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        return cls.open(folder, embedder)

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

    def bm25(self, k: int = 4) -> BM25Retriever:
        """Keyword (BM25) retrieval over this index's chunks: the sidecar ingestion saved, or
        one built in memory when it is missing or older than the store (see
        :mod:`agentkit.retrievers.ingest.sidecar`). Reading an index never writes to it.
        Loaded once per ``Index``: open the index again after changing its store."""
        if self._bm25 is None:
            from agentkit.retrievers.ingest.sidecar import open_bm25

            self._bm25 = open_bm25(self.index_dir, self.store)
        retriever: BM25Retriever = self._bm25.bind(k=k)  # type: ignore[assignment]
        return retriever

    def retriever(self, k: int = 4, retrieval: str = "hybrid") -> Runnable[str, list[Document]]:
        """The retriever of :meth:`qa_chain`: ``hybrid`` (BM25 and dense fused by
        :class:`~agentkit.retrievers.hybrid.HybridRetriever`), ``dense`` or ``bm25``."""
        if retrieval not in RETRIEVALS:
            raise UsageError(f"unknown retrieval {retrieval!r}; use one of {', '.join(RETRIEVALS)}")
        if len(self) == 0:
            raise UsageError(
                f"the index in {self.index_dir} is empty; add documents with agentkit ingest "
                f"<files> --index {self.index_dir} (or on the app's Documents page)"
            )
        if retrieval == "dense":
            return self.as_retriever(k)
        if retrieval == "bm25":
            return self.bm25(k)
        from agentkit.retrievers.hybrid import HybridRetriever

        return HybridRetriever([self.bm25(k), self.as_retriever(k)], k=k)

    def reader(self, llm: Any = "auto") -> Any:
        """The model that answers over this index. ``llm`` is a chat model (used as given),
        a model spec string or the :class:`~agentkit.llms.resolve.Resolution` of one
        (``"auto"``: Ollama when running, else ``AGENTKIT_MODEL``, else the offline
        extractive reader). The extractive reader a spec picks shares this index's
        embedder: one model in memory, and the embedding cache is shared."""
        from agentkit.llms.resolve import Resolution, resolve

        found = resolve(llm) if isinstance(llm, str) else llm
        if not isinstance(found, Resolution):
            from agentkit.core.runnable import Runnable

            if not isinstance(found, Runnable) and not callable(found):
                raise UsageError(
                    f"llm must be a chat model or a model spec such as 'auto', 'extractive' or "
                    f"'ollama:llama3.2', got {type(found).__name__}"
                )
            return found
        if found.backend != "extractive":
            return found.model
        from agentkit.llms.extractive import ExtractiveReader

        return ExtractiveReader(embedder=self.embedder)

    def qa_chain(
        self,
        llm: Any = "auto",
        k: int = 4,
        retrieval: str = "hybrid",
        chain_type: str = "stuff",
        prompts: Mapping[str, Any] | None = None,
        document_prompt: Any = None,
    ) -> RetrievalQA:
        """The question-answering chain over this index — the one :meth:`query`,
        ``agentkit ask``/``chat``, the app and the eval suites run: a
        :class:`~agentkit.chains.retrieval_qa.RetrievalQA` over :meth:`retriever` with the
        model of :meth:`reader`, returning its source documents. ``prompts`` and
        ``document_prompt`` replace the bundled prompts (see ``RetrievalQA``)."""
        from agentkit.chains.retrieval_qa import RetrievalQA

        return RetrievalQA(
            self.reader(llm),
            self.retriever(k, retrieval),
            chain_type,
            prompts=prompts,
            document_prompt=document_prompt,
            return_source_documents=True,
        )

    def query(
        self,
        question: str,
        llm: Any = "auto",
        k: int = 4,
        chain_type: str = "stuff",
        retrieval: str = "hybrid",
    ) -> dict[str, Any]:
        """Answer ``question`` with :meth:`qa_chain`: RetrievalQA's ``{"result": answer,
        "sources": citations, "source_documents": ..., ...}``. ``llm`` as for
        :meth:`reader` (offline by default)."""
        result: dict[str, Any] = self.qa_chain(llm, k, retrieval, chain_type).invoke(
            {"query": question}
        )
        return result

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
