""":class:`FaissStore`: a FAISS index (exact, HNSW or IVF) plus the SQLite docstore.

Saved as a folder: FAISS's own ``index.faiss``, ``docstore.sqlite`` and ``manifest.json``
(never pickle), written atomically. Flat indexes search on the GPU when the FAISS build has
GPU support and a GPU is present.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError, import_optional
from agentkit.retrievers.vectorstores import flat_scan, persist
from agentkit.retrievers.vectorstores.common import DOCSTORE_FILE, BaseVectorStore
from agentkit.retrievers.vectorstores.docstore import DocStore

INDEX_FILE = "index.faiss"
INDEX_KINDS = ("flat", "hnsw", "ivf")
_REBUILD_FRACTION = 0.25  # rebuild an HNSW index once this share of it is deleted
_SUBSET_EXACT = 4096  # filtered HNSW searches over fewer allowed ids are done exactly


class FaissStore(BaseVectorStore):
    """A vector store on FAISS.

    Args:
        dimension: vector size.
        metric: ``"ip"`` (inner product; cosine for normalised vectors) or ``"l2"``
            (scores are ``-distance``).
        index: ``"flat"`` (exact), ``"hnsw"`` (graph, approximate; deletes are tombstoned
            and the graph is rebuilt when a quarter of it is deleted) or ``"ivf"`` (exact
            until it holds ``39 * nlist`` vectors, then trained; ``nlist`` defaults to
            ``sqrt(n)`` and is re-trained as the store grows 4x).
        use_gpu: ``"auto"`` moves flat indexes to the GPU for search when possible.
    """

    store_name = "faiss"
    skips_tombstones = True

    def __init__(
        self,
        dimension: int,
        metric: str = "ip",
        index: str = "flat",
        hnsw_m: int = 32,
        ef_search: int = 64,
        nlist: int | None = None,
        nprobe: int = 8,
        use_gpu: bool | str = "auto",
    ) -> None:
        super().__init__(dimension, metric)
        if index not in INDEX_KINDS:
            raise UsageError(f"index must be one of {INDEX_KINDS}, got {index!r}")
        if use_gpu not in ("auto", True, False):
            raise UsageError(f"use_gpu must be 'auto', True or False, got {use_gpu!r}")
        for name, value in (("hnsw_m", hnsw_m), ("ef_search", ef_search), ("nprobe", nprobe)):
            if not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        if nlist is not None and (not isinstance(nlist, int) or nlist < 1):
            raise UsageError(f"nlist must be a positive integer or None, got {nlist!r}")
        self.index_kind, self.hnsw_m, self.ef_search = index, hnsw_m, ef_search
        self.nlist, self.nprobe, self.use_gpu = nlist, nprobe, use_gpu
        self._faiss = import_optional("faiss", "faiss-cpu", "retrieval", "FaissStore")
        self._trained_n = 0  # vectors when the IVF index was trained (0: still exact)
        self._index: Any = self._new_index()
        self._gpu_index: Any = None
        self._tomb_sel: Any = None  # FAISS selector leaving the tombstones out
        self._gpu_ok = use_gpu is not False and self._gpu_available()
        if use_gpu is True and not self._gpu_ok:
            raise UsageError(
                "use_gpu=True but this FAISS build has no GPU support or no GPU is visible; "
                "install faiss-gpu (pip install 'agentkit[gpu]') or pass use_gpu='auto'"
            )

    # --- index management --------------------------------------------------------------
    # Flat and HNSW indexes are bare FAISS indexes addressed by position; ``_pos`` maps a
    # position to the internal id (sorted: ids only grow, removals keep order). A trained
    # IVF index stores the internal ids itself (``_pos`` is None).
    @property
    def _fmetric(self) -> int:
        faiss = self._faiss
        return int(faiss.METRIC_INNER_PRODUCT if self.metric == "ip" else faiss.METRIC_L2)

    @property
    def _is_ivf(self) -> bool:
        return self._trained_n > 0

    def _new_index(self) -> Any:
        faiss, d = self._faiss, self._dimension
        self._pos: np.ndarray | None = np.empty((0,), dtype=np.int64)
        self._holder: Any = None  # a loaded IndexIDMap2 that owns the bare index
        if self.index_kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.hnsw_m, self._fmetric)
            index.hnsw.efSearch = self.ef_search
            return index
        return faiss.IndexFlatIP(d) if self.metric == "ip" else faiss.IndexFlatL2(d)

    def _new_ivf(self, nlist: int, vectors: np.ndarray) -> Any:
        faiss, d = self._faiss, self._dimension
        quantizer = faiss.IndexFlatIP(d) if self.metric == "ip" else faiss.IndexFlatL2(d)
        ivf = faiss.IndexIVFFlat(quantizer, d, nlist, self._fmetric)
        ivf.cp.min_points_per_centroid = 1  # training sets are >= 39 * nlist already
        ivf.train(vectors)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = self.nprobe
        return ivf

    def _rebuild(self) -> None:
        """A fresh index of the live vectors (drops tombstones; trains or re-trains IVF)."""
        iids = self._docs.all_iids()
        vectors = self._vectors(iids.tolist())
        n = len(iids)
        nlist = self.nlist or max(1, int(math.sqrt(n)))
        if self.index_kind == "ivf" and n >= 39 * nlist:
            self._index = self._new_ivf(nlist, vectors)
            self._pos, self._holder, self._trained_n = None, None, n
            self._index.add_with_ids(vectors, iids)
        else:
            self._index, self._trained_n = self._new_index(), 0
            self._append(iids, vectors)
        self._tombstones, self._tomb_sel = set(), None
        self._gpu_index = None

    def _append(self, iids: np.ndarray, vectors: np.ndarray) -> None:
        if self._pos is None:
            self._index.add_with_ids(vectors, iids)
        else:
            self._index.add(vectors)
            self._pos = np.concatenate([self._pos, iids])

    def _positions(self, iids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._pos, iids)  # type: ignore[arg-type]

    def _add_vectors(self, iids: np.ndarray, vectors: np.ndarray) -> None:
        self._append(iids, vectors)
        self._gpu_index = None
        if self.index_kind == "ivf":
            n = int(self._index.ntotal)
            nlist = self.nlist or max(1, int(math.sqrt(n)))
            untrained_ready = not self._is_ivf and n >= 39 * nlist
            if untrained_ready or (self.nlist is None and self._is_ivf and n > 4 * self._trained_n):
                self._rebuild()

    def _remove_vectors(self, iids: np.ndarray) -> None:
        faiss = self._faiss
        self._gpu_index = None
        if self.index_kind == "hnsw":
            self._tombstones.update(iids.tolist())
            self._tomb_sel = None
            if len(self._tombstones) > _REBUILD_FRACTION * self._index.ntotal:
                self._rebuild()
        elif self._pos is None:
            self._index.remove_ids(faiss.IDSelectorArray(iids))
        else:
            positions = self._positions(np.sort(iids))
            self._index.remove_ids(faiss.IDSelectorBatch(positions))
            self._pos = np.delete(self._pos, positions)

    def _index_size(self) -> int:
        return int(self._index.ntotal)

    def _vectors(self, iids: Sequence[int]) -> np.ndarray:
        if not len(iids):
            return np.zeros((0, self._dimension), dtype=np.float32)
        keys = np.asarray(iids, dtype=np.int64)
        if self._pos is not None:
            keys = self._positions(keys)
        return np.asarray(self._index.reconstruct_batch(keys))

    # --- search ------------------------------------------------------------------------
    def _gpu_available(self) -> bool:
        faiss = self._faiss
        return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0

    def _searcher(self) -> Any:
        """The index to search: a GPU copy of a flat index when enabled and possible."""
        if not self._gpu_ok or self.index_kind != "flat":
            return self._index
        if self._gpu_index is None:
            faiss = self._faiss
            resources = faiss.StandardGpuResources()
            self._gpu_index = faiss.index_cpu_to_gpu(resources, 0, self._index)
            self._gpu_index.__dict__["_resources"] = resources
        return self._gpu_index

    def _raw_search(
        self, queries: np.ndarray, fetch: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = self._faiss
        if allowed is None and self._tombstones:  # HNSW deletes: leave them out in FAISS
            if self._tomb_sel is None:
                tombs = self._positions(np.array(sorted(self._tombstones), dtype=np.int64))
                inner = faiss.IDSelectorBatch(tombs)
                self._tomb_sel = faiss.IDSelectorNot(inner)
                self._tomb_sel.__dict__["_inner"] = inner  # keep the wrapped selector alive
            params = faiss.SearchParametersHNSW(sel=self._tomb_sel, efSearch=self.ef_search)
            dist, labels = self._index.search(queries, fetch, params=params)
        elif allowed is None and len(queries) == 1 and (slices := self._scan_slices()) > 1:
            n, d = int(self._index.ntotal), self._dimension
            matrix = faiss.rev_swig_ptr(self._index.get_xb(), n * d).reshape(n, d)
            dist, labels = flat_scan.split_knn(faiss, matrix, queries, fetch, self._fmetric, slices)
        elif allowed is None:
            dist, labels = self._searcher().search(queries, fetch)
        elif self.index_kind == "hnsw" and len(allowed) <= _SUBSET_EXACT:
            vectors = self._vectors(allowed.tolist())
            return flat_scan.subset_search(queries, vectors, allowed, fetch, self.metric)
        else:
            keys = allowed if self._pos is None else self._positions(allowed)
            selector = faiss.IDSelectorBatch(keys)
            if self._is_ivf:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            elif self.index_kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.ef_search)
            else:
                params = faiss.SearchParameters(sel=selector)
            dist, labels = self._index.search(queries, fetch, params=params)
        return self._scores(dist), self._labels(labels)

    def _scan_slices(self) -> int:
        """Slices for a single-query scan of a flat CPU index (1: let FAISS search)."""
        if self._pos is None or self.index_kind == "hnsw" or self._gpu_ok:
            return 1
        return flat_scan.slices_for(self._faiss, int(self._index.ntotal))

    def _labels(self, positions: np.ndarray) -> np.ndarray:
        """Internal ids of index positions (``-1`` stays): positions are the ids until the
        first delete (``_pos`` is then ``0..n-1``), a case checked in O(1) as ids are sorted."""
        pos = self._pos
        if pos is None or not len(pos) or int(pos[-1]) == len(pos) - 1:
            return positions
        return np.where(positions >= 0, pos[positions], -1)

    def _scores(self, dist: np.ndarray) -> np.ndarray:
        if self.metric == "ip":
            return dist
        return -np.sqrt(np.maximum(dist, 0.0))

    # --- persistence -------------------------------------------------------------------
    def _write_index(self, folder: Path) -> dict[str, Any]:
        faiss, index = self._faiss, self._index
        if self._pos is not None:  # save the ids with it: an IndexIDMap2 over the bare index
            placeholder = faiss.IndexFlat(self._dimension, self._fmetric)
            index = faiss.IndexIDMap2(placeholder)  # FAISS wants it empty: swap the real one in
            index.index, index.ntotal, index.own_fields = self._index, self._index.ntotal, False
            faiss.copy_array_to_vector(self._pos, index.id_map)
        faiss.write_index(index, str(folder / INDEX_FILE))
        return {
            "index": self.index_kind,
            "index_file": INDEX_FILE,
            "vectors": int(self._index.ntotal),
            "params": {
                "hnsw_m": self.hnsw_m,
                "ef_search": self.ef_search,
                "nlist": self.nlist,
                "nprobe": self.nprobe,
                "trained_n": self._trained_n,
            },
        }

    @classmethod
    def load(cls, path: str | Path, use_gpu: bool | str = "auto") -> FaissStore:
        """Open a folder written by :meth:`save`."""
        folder, manifest = persist.read_manifest(path, cls.store_name)
        with persist.manifest_fields(folder):
            params = manifest["params"]
            store = cls(
                int(manifest["dimension"]),
                metric=manifest["metric"],
                index=manifest["index"],
                hnsw_m=int(params["hnsw_m"]),
                ef_search=int(params["ef_search"]),
                nlist=params["nlist"],
                nprobe=int(params["nprobe"]),
                use_gpu=use_gpu,
            )
            trained_n = int(params["trained_n"])
        faiss = store._faiss
        try:
            index = faiss.read_index(str(folder / INDEX_FILE))
        except RuntimeError as e:
            raise UsageError(
                f"{folder}/{INDEX_FILE} is missing or not a FAISS index ({e}); restore the "
                "folder or rebuild the store"
            ) from e
        if index.d != store.dimension or index.ntotal != manifest.get("vectors"):
            raise UsageError(
                f"{folder}/{INDEX_FILE} does not match its manifest (dimension {index.d} vs "
                f"{store.dimension}, {index.ntotal} vs {manifest.get('vectors')} vectors); "
                "the folder is corrupt: restore it or rebuild the store"
            )
        docs = DocStore.open(folder / DOCSTORE_FILE)
        live = docs.all_iids()
        # IVF lists hold exactly the live ids (deletes are real); the others keep an id map
        try:
            indexed = live if trained_n else faiss.vector_to_array(index.id_map)
        except AttributeError as e:
            raise UsageError(f"{folder}/{INDEX_FILE} is not an index of this store kind") from e
        if len(live) != manifest.get("documents") or not np.isin(live, indexed).all():
            raise UsageError(
                f"{folder}: the docstore ({len(live)} documents) does not match the index "
                f"({index.ntotal} vectors); the folder is corrupt: restore it or rebuild the store"
            )
        # deleted ids still in an HNSW graph are tombstones
        store._tombstones = set(np.setdiff1d(indexed, live).tolist())
        if len(live) + len(store._tombstones) != index.ntotal:
            raise UsageError(f"{folder}: the index has duplicate ids; the folder is corrupt")
        if trained_n:
            index.nprobe = store.nprobe
            store._index, store._pos = index, None
        else:
            store._holder, store._index = index, faiss.downcast_index(index.index)
            store._pos = indexed.astype(np.int64)
            if store.index_kind == "hnsw":
                store._index.hnsw.efSearch = store.ef_search
        store._trained_n = trained_n
        store._loaded(docs, folder)
        return store
