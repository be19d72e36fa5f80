"""Chain factories of the bundled eval suites (``evals/*.yaml``).

- :func:`squad_rag_chain`: SQuAD v1.1 dev as a closed corpus. Its 2,067 paragraphs are
  indexed once into an :class:`~agentkit.retrievers.index.Index` (all-MiniLM-L6-v2 in
  FAISS and its BM25 sidecar) cached under ``.cache/``; questions are answered by the
  index's own :meth:`~agentkit.retrievers.index.Index.qa_chain` (hybrid retrieval, the
  extractive reader): the chain ``agentkit ask`` and the app run.
- :func:`scifact_retriever`: the same index's hybrid retriever over the BEIR SciFact
  abstracts.

The data is found by :func:`agentkit.evals.data_home.find_data`: an explicit ``path``, else
``$AGENTKIT_DATA_DIR``, else ``../shared/data`` beside the checkout; when it is missing, the
error says where to download it.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError
from agentkit.evals.data_home import data_dirs, find_data
from agentkit.retrievers.ingest.manifest import MANIFEST

if TYPE_CHECKING:
    from agentkit.retrievers.base import Embedder
    from agentkit.retrievers.document import Document
    from agentkit.retrievers.index import Index

SQUAD_DEV = Path("squad-v1.1-dev") / "dev-v1.1.json.gz"
SCIFACT = Path("scifact-beir")
BATCH = 256  # documents embedded between two progress lines
BUILT: list[str] = []  # indexes built in this process (its models are loaded: a warm start)


def shared_data_dir() -> Path:
    """The first data folder (``$AGENTKIT_DATA_DIR``, else ``../shared/data``)."""
    return data_dirs()[0]


def _data_file(path: str | Path | None, default: Path) -> Path:
    return find_data(default, path)


def _fingerprint(path: Path) -> str:
    if path.is_dir():
        digest = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(item.name.encode() + item.read_bytes())
        return digest.hexdigest()[:12]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class _Progress:
    """An embedder that reports ``done/total`` texts after each batch (while an index is
    built) and otherwise behaves as the one it wraps."""

    def __init__(self, inner: Embedder, total: int, report: Callable[[int, int], None]) -> None:
        self.inner, self.total, self.report, self.done = inner, total, report, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed_batch(self, texts: Any, *args: Any, **kwargs: Any) -> Any:
        vectors = self.inner.embed_batch(texts, *args, **kwargs)
        self.done += len(texts)
        self.report(self.done, self.total)
        return vectors


def print_progress(what: str, stream: Any = None) -> Callable[[int, int], None]:
    """A progress reporter printing one line per batch to stderr: count, share, ETA."""
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        elapsed = time.monotonic() - start
        left = elapsed / done * (total - done) if done else 0.0
        tail = f", about {left:.0f} s left" if done < total else ", writing the index"
        line = f"  {what}: {done:,}/{total:,} embedded ({done / max(total, 1):.0%}, "
        print(f"{line}{elapsed:.0f} s{tail})", file=stream or sys.stderr, flush=True)

    return report


def cached_index(
    documents: Callable[[], Iterable[Document]],
    folder: Path,
    embedder: Embedder | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Index:
    """The :class:`~agentkit.retrievers.index.Index` of ``documents`` in ``folder``: built on
    first use (vectors and BM25 sidecar, appearing complete or not at all), then opened.
    While it is built, ``progress(done, total)`` is called after each embedded batch (by
    default a line on stderr). Every document is indexed even for a ``--limit``/``--sample``
    run: a sample's questions are still searched against the whole corpus (fewer
    distractors would inflate the scores), and the index is built once for all runs."""
    from agentkit.retrievers.index import Index

    if embedder is None:
        from agentkit.retrievers.embeddings import default_embedder

        embedder = default_embedder()
    if not (folder / MANIFEST).is_file():
        docs = list(documents())
        print(
            f"building the index of {len(docs):,} documents in {folder} (first run only; "
            "later runs open it)",
            file=sys.stderr,
            flush=True,
        )
        report = progress or print_progress(f"index of {folder.parent.name}")
        watched = _Progress(embedder, len(docs), report)
        BUILT.append(str(folder))
        try:
            Index.from_documents(docs, folder, watched, batch_size=BATCH)
        except UsageError:
            if not (folder / MANIFEST).is_file():
                raise  # not a race lost to another process building the same index
    return Index.open(folder, embedder)


def squad_index(path: str | Path | None = None, cache_dir: str | Path = ".cache") -> Index:
    """The index of the paragraphs of a SQuAD file (ids as in the dataset)."""
    from agentkit.evals.squad_data import load_paragraphs
    from agentkit.retrievers.document import Document

    data = _data_file(path, SQUAD_DEV)

    def documents() -> list[Document]:
        return [
            Document(p.text, id=p.id, metadata={"title": p.title}, source=p.title)
            for p in load_paragraphs(data)
        ]

    return cached_index(documents, Path(cache_dir) / f"squad-{_fingerprint(data)}" / "index")


def squad_retriever(
    path: str | Path | None = None, k: int = 5, cache_dir: str | Path = ".cache"
) -> Any:
    """The hybrid retriever over the paragraphs of a SQuAD file."""
    return squad_index(path, cache_dir).retriever(k)


def squad_rag_chain(
    path: str | Path | None = None, k: int = 5, cache_dir: str | Path = ".cache"
) -> Any:
    """The index's question-answering chain on SQuAD paragraphs, answered by the offline
    extractive reader."""
    return squad_index(path, cache_dir).qa_chain("extractive", k=k)


def scifact_retriever(
    path: str | Path | None = None, k: int = 100, cache_dir: str | Path = ".cache"
) -> Any:
    """The hybrid retriever over the BEIR SciFact abstracts (title + text)."""
    import gzip
    import json

    from agentkit.retrievers.document import Document

    folder_in = _data_file(path, SCIFACT)
    found = [
        folder_in / n for n in ("corpus.jsonl.gz", "corpus.jsonl") if (folder_in / n).is_file()
    ]
    if not found:
        raise UsageError(
            f"{folder_in} holds no corpus.jsonl(.gz); point at the unzipped BEIR scifact folder"
        )
    corpus = found[0]

    def documents() -> list[Document]:
        docs = []
        opener: Any = gzip.open if corpus.suffix == ".gz" else open
        with opener(corpus, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                text = f"{row.get('title', '')} {row['text']}".strip()
                docs.append(
                    Document(text, id=str(row["_id"]), metadata={"title": row.get("title", "")})
                )
        return docs

    folder = Path(cache_dir) / f"scifact-{_fingerprint(corpus)}" / "index"
    return cached_index(documents, folder).retriever(k)
