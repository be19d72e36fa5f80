""":class:`IVFPQStore`: a :class:`FaissStore` for large indexes, an inverted-file index
(IVF) with product-quantised vectors (PQ) or full ones, trained once on a sample.

It searches exactly until it holds ``train_size`` vectors; then it trains the IVF
centroids (and the PQ codebooks) on a random sample of ``train_size`` of them and moves
them in. Every later add goes straight into the trained lists (the shards of a distributed
ingestion are added as they come back), without re-training. Saved in FaissStore's folder
format (FAISS's own ``index.faiss``, the SQLite docstore, ``manifest.json``): a plain
:class:`FaissStore` opens and searches a trained one.

With PQ, vectors read back (``vectors(ids)``, the reuse of stored vectors by ingestion) are
the index's compressed approximations, and scores are approximate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError
from agentkit.retrievers.vectorstores import persist
from agentkit.retrievers.vectorstores.faiss_store import FaissStore

TRAIN_POINTS = 39  # FAISS's minimum training points per centroid


class IVFPQStore(FaissStore):
    """A trained IVF (``pq_m=0``) or IVF-PQ FAISS store.

    Args:
        dimension, metric, nprobe, use_gpu: as for :class:`FaissStore`.
        nlist: inverted lists (IVF centroids).
        pq_m: PQ sub-quantizers (divides ``dimension``); 0 keeps full vectors (IVF-flat).
        pq_bits: bits per PQ code (4-12; 8 = 256 centroids per sub-quantizer).
        train_size: vectors held when it trains (and the training sample's size); default
            ``39`` per centroid of the largest codebook (``39 * max(nlist, 2**pq_bits)``).
    """

    def __init__(
        self,
        dimension: int,
        metric: str = "ip",
        index: str = "ivf",
        *,
        nlist: int | None = 256,
        nprobe: int = 16,
        pq_m: int = 0,
        pq_bits: int = 8,
        train_size: int | None = None,
        hnsw_m: int = 32,
        ef_search: int = 64,
        use_gpu: bool | str = "auto",
    ) -> None:
        if index != "ivf" or nlist is None:
            raise UsageError(f"an IVFPQStore is an 'ivf' index with an nlist, got {index!r}")
        super().__init__(dimension, metric, "ivf", hnsw_m, ef_search, nlist, nprobe, use_gpu)
        for name, value, low, high in (("pq_m", pq_m, 0, dimension), ("pq_bits", pq_bits, 4, 12)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UsageError(f"{name} must be an integer from {low} to {high}, got {value!r}")
        if pq_m and dimension % pq_m:
            raise UsageError(f"pq_m must divide the dimension {dimension}, got {pq_m}")
        least = TRAIN_POINTS * max(nlist, 2**pq_bits if pq_m else 1)
        size = least if train_size is None else train_size
        low = max(TRAIN_POINTS * nlist, 2**pq_bits if pq_m else 1)
        if isinstance(size, bool) or not isinstance(size, int) or size < low:
            raise UsageError(
                f"train_size must be an integer >= {low} (39 * nlist, and 2**pq_bits with PQ), "
                f"got {train_size!r}; lower nlist or pq_bits for a smaller training sample"
            )
        self.pq_m, self.pq_bits, self.train_size = pq_m, pq_bits, size

    @property
    def trained(self) -> bool:
        """Whether the IVF index is trained (before, searches are exact)."""
        return self._is_ivf

    def _new_ivf(self, nlist: int, vectors: np.ndarray) -> Any:
        if not self.pq_m:
            return super()._new_ivf(nlist, self._sample(vectors))
        faiss, d = self._faiss, self._dimension
        quantizer = faiss.IndexFlatIP(d) if self.metric == "ip" else faiss.IndexFlatL2(d)
        ivf = faiss.IndexIVFPQ(quantizer, d, nlist, self.pq_m, self.pq_bits, self._fmetric)
        ivf.cp.min_points_per_centroid = ivf.pq.cp.min_points_per_centroid = 1  # sized above
        ivf.train(self._sample(vectors))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.nprobe = self.nprobe
        return ivf

    def _sample(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) <= self.train_size:
            return vectors
        rows = np.random.default_rng(0).choice(len(vectors), self.train_size, replace=False)
        return vectors[np.sort(rows)]

    def _add_vectors(self, iids: np.ndarray, vectors: np.ndarray) -> None:
        self._append(iids, vectors)
        self._gpu_index = None
        if not self._is_ivf and int(self._index.ntotal) >= self.train_size:
            self._rebuild()  # trains on a sample, then holds every vector in its lists

    def _write_index(self, folder: Path) -> dict[str, Any]:
        fields = super()._write_index(folder)
        fields["params"].update(pq_m=self.pq_m, pq_bits=self.pq_bits, train_size=self.train_size)
        return fields

    @classmethod
    def load(cls, path: str | Path, use_gpu: bool | str = "auto") -> IVFPQStore:
        """Open a folder written by :meth:`save`."""
        store = super().load(path, use_gpu)
        assert isinstance(store, IVFPQStore)
        folder, manifest = persist.read_manifest(path, cls.store_name)
        with persist.manifest_fields(folder):
            params = manifest["params"]
            pq_m, pq_bits, size = int(params["pq_m"]), int(params["pq_bits"]), params["train_size"]
            checked = cls(
                store.dimension,
                store.metric,
                nlist=store.nlist,
                pq_m=pq_m,
                pq_bits=pq_bits,
                train_size=int(size),
                use_gpu=False,
            )
        store.pq_m, store.pq_bits, store.train_size = checked.pq_m, pq_bits, checked.train_size
        return store
