""":class:`BaseVectorStore`: what every vector store shares — the docstore, argument checks,
add/upsert/delete bookkeeping, filtered search with oversampling, MMR and atomic saving.

A store implements six abstract index hooks: ``_add_vectors``, ``_remove_vectors``,
``_raw_search``, ``_vectors``, ``_index_size`` and ``_write_index`` (plus a ``load``
classmethod that reads what ``_write_index`` wrote); everything in the
:class:`~agentkit.retrievers.base.VectorStore` protocol is built on them here.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import Filter, Hit, check_k
from agentkit.retrievers.document import Document
from agentkit.retrievers.mmr import mmr_select
from agentkit.retrievers.vectorstores import persist
from agentkit.retrievers.vectorstores.docstore import DocStore

DOCSTORE_FILE = "docstore.sqlite"
METRICS = ("ip", "l2")
# per query, best first: internal ids (-1 = none) and their scores
Ranked = tuple[list[list[int]], list[list[float]]]


class BaseVectorStore(ABC):
    """Shared logic of the vector stores; scores are higher-is-better (``-distance`` for l2)."""

    store_name = ""
    skips_tombstones = False  # whether _raw_search leaves deleted ids out by itself

    def __init__(self, dimension: int, metric: str = "ip") -> None:
        if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension < 1:
            raise UsageError(f"dimension must be a positive integer, got {dimension!r}")
        if metric not in METRICS:
            raise UsageError(f"metric must be one of {METRICS}, got {metric!r}")
        self._dimension = dimension
        self.metric = metric
        self._docs = DocStore()
        self._lock = threading.RLock()
        self._tombstones: set[int] = set()  # ids still in the index but deleted
        self._saved_at: Path | None = None
        self._dirty = True

    # --- index hooks -------------------------------------------------------------------
    @abstractmethod
    def _add_vectors(self, iids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _remove_vectors(self, iids: np.ndarray) -> None: ...

    @abstractmethod
    def _raw_search(
        self, queries: np.ndarray, fetch: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scores and internal ids (``-1`` = none), shape ``(n, fetch)``, restricted to
        ``allowed`` when given. May return tombstoned ids unless ``skips_tombstones``."""

    @abstractmethod
    def _vectors(self, iids: Sequence[int]) -> np.ndarray: ...

    @abstractmethod
    def _index_size(self) -> int:
        """Entries in the index, tombstones included."""

    @abstractmethod
    def _write_index(self, folder: Path) -> dict[str, Any]:
        """Write the index files into ``folder``; returns manifest fields."""

    # --- the VectorStore protocol ------------------------------------------------------
    @property
    def dimension(self) -> int:
        return self._dimension

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def saved_path(self) -> Path | None:
        """The folder this store was last saved to or loaded from."""
        return self._saved_at

    @property
    def has_unsaved_changes(self) -> bool:
        return self._dirty

    def ids(self) -> list[str]:
        return self._docs.ids()

    def get(self, ids: Sequence[str]) -> list[Document]:
        """Documents for ``ids`` in order; unknown ids are skipped."""
        return self._docs.get(list(ids))

    def add(self, documents: Sequence[Document], vectors: np.ndarray) -> None:
        """Add new documents; an id already in the store is an error (use :meth:`upsert`)."""
        vecs = self._check_pair(documents, vectors)
        with self._lock:
            existing = self._docs.iids_of([d.id for d in documents])
            if existing:
                raise UsageError(
                    f"document id(s) already in the store: {sorted(existing)[:5]}; use "
                    "upsert() to replace documents, or delete() them first"
                )
            self._insert(documents, vecs)

    def upsert(self, documents: Sequence[Document], vectors: np.ndarray) -> None:
        """Add documents, replacing those whose ids are already stored."""
        vecs = self._check_pair(documents, vectors)
        with self._lock:
            old = self._docs.iids_of([d.id for d in documents])
            if old:
                self._drop(np.fromiter(old.values(), dtype=np.int64, count=len(old)))
            self._insert(documents, vecs)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        if isinstance(ids, str):
            raise UsageError("delete takes a list of ids; wrap a single id as [id]")
        with self._lock:
            found = self._docs.iids_of(list(ids))
            if found:
                self._drop(np.fromiter(found.values(), dtype=np.int64, count=len(found)))
            return len(found)

    def search(self, vectors: np.ndarray, k: int = 4, filter: Filter = None) -> list[list[Hit]]:
        """Top-``k`` hits per query vector (a 1-d vector is one query), best first."""
        labels, scores = self._search_ranked(self._check_queries(vectors), k, filter)
        return self._docs.hits(labels, scores)

    def mmr_search(
        self,
        vector: np.ndarray,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
    ) -> list[Hit]:
        """``k`` hits chosen by maximal marginal relevance among the ``fetch_k`` nearest."""
        check_k(k)
        query = self._check_queries(vector)
        if len(query) != 1:
            raise UsageError(f"mmr_search takes one query vector, got {len(query)}")
        with self._lock:
            labels, scores = self._search_ranked(query, max(fetch_k, k), filter)
            pairs = [(i, s) for i, s in zip(labels[0], scores[0], strict=True) if i >= 0]
            if not pairs:
                return []
            vecs = self._vectors([iid for iid, _ in pairs])
        picked = [pairs[i] for i in mmr_select(query[0], vecs, k, lambda_mult)]
        return self._docs.hits([[i for i, _ in picked]], [[s for _, s in picked]])[0]

    # --- internals ---------------------------------------------------------------------
    def _check_pair(self, documents: Sequence[Document], vectors: np.ndarray) -> np.ndarray:
        if isinstance(documents, Document):
            raise UsageError("pass a list of documents; wrap a single one as [doc]")
        vecs = self._as_matrix(vectors, "vectors")
        if len(vecs) != len(documents):
            raise UsageError(
                f"got {len(documents)} documents but {len(vecs)} vectors; pass one vector "
                "per document"
            )
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})[:5]
            raise UsageError(f"duplicate document ids in one call: {dupes}; make ids unique")
        return vecs

    def _check_queries(self, vectors: np.ndarray) -> np.ndarray:
        if (  # the common case, checked cheaply: one float32 row or a float32 matrix
            type(vectors) is np.ndarray
            and vectors.dtype == np.float32
            and vectors.ndim == 2
            and vectors.shape[1] == self._dimension
            and vectors.flags.c_contiguous
        ):
            return vectors
        arr = np.asarray(vectors)
        return self._as_matrix(arr.reshape(1, -1) if arr.ndim == 1 else arr, "query vectors")

    def _as_matrix(self, vectors: np.ndarray, what: str) -> np.ndarray:
        arr = np.ascontiguousarray(vectors, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != self._dimension:
            got = arr.shape[-1] if arr.ndim else "scalar"
            raise UsageError(
                f"{what} have dimension {got} (shape {arr.shape}) but the store has dimension "
                f"{self._dimension}; embed with a model of that dimension or create the store "
                f"with dimension={got}"
            )
        return arr

    def _insert(self, documents: Sequence[Document], vecs: np.ndarray) -> None:
        if not len(documents):
            return
        iids = self._docs.insert(documents)
        self._add_vectors(iids, vecs)
        self._dirty = True

    def _drop(self, iids: np.ndarray) -> None:
        self._docs.remove(iids.tolist())
        self._remove_vectors(iids)
        self._dirty = True

    def _search_ranked(self, queries: np.ndarray, k: int, flt: Filter) -> Ranked:
        check_k(k)
        with self._lock:
            total = self._index_size()
            if total == 0 or len(self._docs) == 0:
                return [[] for _ in queries], [[] for _ in queries]
            if flt is None and (self.skips_tombstones or not self._tombstones):  # one search
                scores, labels = self._raw_search(queries, min(k, total), None)
                return labels.tolist(), scores.tolist()
            allowed = None
            if isinstance(flt, Mapping):
                allowed = self._docs.matching_iids(flt)
                if len(allowed) == 0:
                    return [[] for _ in queries], [[] for _ in queries]
                flt = None
            return self._search_filtered(queries, k, total, allowed, flt)

    def _search_filtered(
        self, queries: np.ndarray, k: int, total: int, allowed: np.ndarray | None, predicate: Filter
    ) -> Ranked:
        """Search, dropping tombstones and rows failing ``predicate``; fetch more (4x each
        round) for queries that did not get ``k`` until the index is exhausted."""
        extra = 0 if self.skips_tombstones else len(self._tombstones)
        fetch = min(total, (k if predicate is None else 2 * k) + extra)
        out: list[list[tuple[int, float]]] = [[] for _ in queries]
        pending = list(range(len(queries)))
        while pending:
            scores, labels = self._raw_search(queries[pending], fetch, allowed)
            still = []
            for row, q in enumerate(pending):
                out[q] = self._keep(labels[row], scores[row], k, predicate)
                if len(out[q]) < k and fetch < total and labels[row][-1] != -1:
                    still.append(q)
            pending, fetch = still, min(total, fetch * 4)
        return [[i for i, _ in row] for row in out], [[s for _, s in row] for row in out]

    def _keep(
        self, labels: np.ndarray, scores: np.ndarray, k: int, predicate: Filter
    ) -> list[tuple[int, float]]:
        pairs = [
            (iid, s)
            for iid, s in zip(labels.tolist(), scores.tolist(), strict=True)
            if iid != -1 and iid not in self._tombstones
        ]
        if callable(predicate):
            metas = self._docs.metadata([iid for iid, _ in pairs])
            pairs = [p for p, m in zip(pairs, metas, strict=True) if m is not None and predicate(m)]
        return pairs[:k]

    # --- persistence -------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the store to folder ``path`` atomically (index, SQLite docstore, manifest)."""
        target = Path(path)
        with self._lock:
            resolved = target.resolve()
            if not self._dirty and self._saved_at == resolved and persist.is_saved(target):
                return  # nothing changed since this folder was written
            with persist.atomic_folder(target) as tmp:
                fields = self._write_index(tmp)
                self._docs.backup(tmp / DOCSTORE_FILE)
                persist.write_manifest(
                    tmp,
                    self.store_name,
                    dimension=self._dimension,
                    metric=self.metric,
                    documents=len(self),
                    docstore=DOCSTORE_FILE,
                    **fields,
                )
            self._saved_at, self._dirty = resolved, False

    def _loaded(self, docs: DocStore, folder: Path) -> None:
        """Finish :meth:`load`: attach the docstore and remember the folder."""
        self._docs = docs
        self._saved_at, self._dirty = folder.resolve(), False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dimension={self._dimension}, documents={len(self)})"
