"""BM25 keyword retrieval over Documents, built on ``bm25s`` (sparse, fast, persisted).

An index saves as a folder: bm25s's own files (numpy arrays loaded with
``allow_pickle=False`` and JSON), a JSON-lines docstore and the tokeniser settings. Saves are
atomic: each save writes a new generation folder and then switches the ``CURRENT`` pointer
file with one rename, so a crash mid-save leaves the previous index loadable.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError, import_optional
from agentkit.retrievers.base import Filter, Retriever, check_k, matches
from agentkit.retrievers.document import Document
from agentkit.retrievers.text import AUTO, Tokenizer

if TYPE_CHECKING:
    import numpy as np

METHODS = ("lucene", "robertson", "atire", "bm25l", "bm25+")
FORMAT = 1
_POINTER = "CURRENT"
_INFO = "info.json"


class BM25Retriever(Retriever):
    """Okapi BM25 over a list of documents.

    Args:
        documents: the corpus (more can be added with :meth:`add_documents`).
        k: how many documents ``invoke`` returns.
        k1, b, delta: BM25 parameters (``delta`` only for ``bm25l``/``bm25+``).
        method: the bm25s variant: lucene, robertson, atire, bm25l or bm25+.
        stopwords, stemmer, lower: tokenisation (see :class:`~agentkit.retrievers.text.Tokenizer`).
        filter: a metadata filter applied to every query (see :func:`matches`).
    """

    def __init__(
        self,
        documents: Iterable[Document] = (),
        *,
        k: int = 4,
        k1: float = 1.5,
        b: float = 0.75,
        delta: float = 0.5,
        method: str = "lucene",
        stopwords: str | Sequence[str] | None = "en",
        stemmer: str | None = AUTO,
        lower: bool = True,
        filter: Filter = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        super().__init__(k)
        if method not in METHODS:
            raise UsageError(f"unknown BM25 method {method!r}; use one of {', '.join(METHODS)}")
        if k1 < 0 or not 0 <= b <= 1:
            raise UsageError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b, self.delta, self.method = float(k1), float(b), float(delta), method
        self.tokenizer = tokenizer or Tokenizer(lower=lower, stopwords=stopwords, stemmer=stemmer)
        self.filter = filter
        self.path: str | None = None  # the folder this index was last saved to or loaded from
        self._docs: list[Document] = []
        self._model: Any = None
        self._dirty = False
        self.add_documents(documents)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        metadatas: Iterable[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> BM25Retriever:
        """An index over plain texts (with optional metadata per text)."""
        texts = list(texts)
        metas = list(metadatas) if metadatas is not None else [{} for _ in texts]
        if len(metas) != len(texts):
            raise UsageError(f"got {len(texts)} texts but {len(metas)} metadatas; pass one each")
        docs = [Document(t, metadata=dict(m)) for t, m in zip(texts, metas, strict=True)]
        return cls(docs, **kwargs)

    # --- corpus ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def documents(self) -> list[Document]:
        return list(self._docs)

    def add_documents(self, documents: Iterable[Document]) -> list[str]:
        """Add documents (a document whose id is already indexed replaces it); re-indexes."""
        new = list(documents)
        if not new:
            return []
        position = {d.id: i for i, d in enumerate(self._docs)}
        for doc in new:
            if not isinstance(doc, Document):
                raise UsageError(f"add_documents takes Documents, got {type(doc).__name__}")
            if doc.id in position:
                self._docs[position[doc.id]] = doc
            else:
                position[doc.id] = len(self._docs)
                self._docs.append(doc)
        self._reindex()
        return [d.id for d in new]

    def delete(self, ids: Iterable[str]) -> int:
        """Remove documents by id; returns how many were removed."""
        gone = set(ids)
        kept = [d for d in self._docs if d.id not in gone]
        removed = len(self._docs) - len(kept)
        if removed:
            self._docs = kept
            self._reindex()
        return removed

    def _reindex(self) -> None:
        self._dirty = True
        if not self._docs:
            self._model = None
            return
        bm25s = _bm25s()
        model = bm25s.BM25(k1=self.k1, b=self.b, delta=self.delta, method=self.method)
        tokens = self.tokenizer.tokenize([d.text for d in self._docs])
        model.index(tokens, show_progress=False)
        self._model = model

    # --- search ---------------------------------------------------------------------

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document (in :attr:`documents` order) for ``query``."""
        import numpy as np

        if self._model is None:
            return np.zeros(0, dtype=np.float32)
        vocab = self._model.vocab_dict
        ids = [vocab[t] for t in self.tokenizer(query) if t in vocab]
        if not ids:
            return np.zeros(len(self._docs), dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(ids), dtype=np.float32)

    def retrieve(self, query: str, k: int, filter: Filter = None) -> list[Document]:
        """The ``k`` best-scoring documents that share a term with ``query``, best first."""
        import numpy as np

        check_k(k)
        flt = filter if filter is not None else self.filter
        scores = self.scores(query)
        if not scores.size:
            return []
        if flt is None and k < scores.size:
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.arange(scores.size)
        order = top[np.lexsort((top, -scores[top]))]
        out: list[Document] = []
        for i in order:
            score = float(scores[i])
            if score <= 0.0 or len(out) == k:
                break
            doc = self._docs[i]
            if flt is None or matches(doc.metadata, flt):
                out.append(doc.with_score(score))
        return out

    # --- persistence ----------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], info: dict[str, Any] | None = None) -> Path:
        """Write the index to the folder ``path`` atomically; returns the path. ``info``
        (JSON) is saved with it, in the same atomic step: see :meth:`saved_info`."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        generation = f"gen-{uuid.uuid4().hex[:12]}"
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
        try:
            if self._model is not None:
                self._model.save(str(staging / "index"), show_progress=False)
            settings = {
                "format": FORMAT,
                "k1": self.k1,
                "b": self.b,
                "delta": self.delta,
                "method": self.method,
                "tokenizer": self.tokenizer.to_dict(),
            }
            (staging / "settings.json").write_text(json.dumps(settings, indent=2), "utf-8")
            if info is not None:
                (staging / _INFO).write_text(json.dumps(info), "utf-8")
            with open(staging / "docstore.jsonl", "w", encoding="utf-8") as fh:
                for doc in self._docs:
                    fh.write(json.dumps({**doc.to_dict(), "score": None}, ensure_ascii=False))
                    fh.write("\n")
            _fsync_tree(staging)
            os.replace(staging, root / generation)
            spec.atomic_write_text(root / _POINTER, generation + "\n")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for old in root.iterdir():  # earlier generations and abandoned staging folders
            if old.is_dir() and old.name != generation and old.name.startswith(("gen-", ".st")):
                shutil.rmtree(old, ignore_errors=True)
        self.path, self._dirty = str(root), False
        return root

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, k: int = 4, mmap: bool = False) -> BM25Retriever:
        """Open an index written by :meth:`save` (no pickle: numpy arrays and JSON only)."""
        root = Path(path)
        pointer = root / _POINTER
        if not pointer.is_file():
            raise UsageError(
                f"{root} is not a saved BM25 index (no {_POINTER} file); build one and call "
                ".save(path) first"
            )
        folder = root / pointer.read_text("utf-8").strip()
        settings = json.loads((folder / "settings.json").read_text("utf-8"))
        if settings.get("format") != FORMAT:
            raise UsageError(
                f"{folder} has BM25 index format {settings.get('format')!r}; "
                f"this agentkit reads format {FORMAT}: rebuild the index"
            )
        self = cls(
            k=k,
            k1=settings["k1"],
            b=settings["b"],
            delta=settings["delta"],
            method=settings["method"],
            tokenizer=Tokenizer.from_dict(settings["tokenizer"]),
        )
        with open(folder / "docstore.jsonl", encoding="utf-8") as fh:
            self._docs = [Document.from_dict(json.loads(line)) for line in fh if line.strip()]
        if self._docs:
            bm25s = _bm25s()
            self._model = bm25s.BM25.load(str(folder / "index"), mmap=mmap, allow_pickle=False)
        self.path, self._dirty = str(root), False
        return self

    @staticmethod
    def saved_info(path: str | os.PathLike[str]) -> dict[str, Any] | None:
        """The ``info`` saved with the index in folder ``path`` (``None``: no saved index,
        or one saved without info or unreadable). Reads only, never repairs."""
        root = Path(path)
        try:
            generation = (root / _POINTER).read_text("utf-8").strip()
            if not generation.startswith("gen-") or "/" in generation or "\\" in generation:
                return None
            data = json.loads((root / generation / _INFO).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def to_dict(self) -> dict[str, Any]:
        if self.path is None or self._dirty:
            raise SpecError(
                "$",
                "a BM25Retriever serialises as the folder it was saved to; call "
                ".save(path) after the last change to its documents, then save the chain",
            )
        return {"type": "bm25_retriever", "path": self.path, "k": self.k}

    def __repr__(self) -> str:
        return f"BM25Retriever(documents={len(self._docs)}, k={self.k}, method={self.method!r})"


def _fsync_tree(folder: Path) -> None:
    for item in folder.rglob("*"):
        if item.is_file():
            with open(item, "rb") as fh:
                os.fsync(fh.fileno())


def _bm25s() -> Any:
    return import_optional("bm25s", "bm25s", "retrieval", "BM25Retriever")


spec.add_builder(
    "bm25_retriever",
    lambda ctx: BM25Retriever.load(ctx.get("path", str), k=ctx.get("k", int, 4)),
)
