""":class:`TorchStore`: exact search as one matrix product + ``torch.topk``, on CUDA
(float16 by default, bfloat16 allowed) or the CPU (float32). For GPUs without a FAISS GPU
build. Saved as ``vectors.safetensors`` + the SQLite docstore + ``manifest.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError, import_optional
from agentkit.retrievers.vectorstores import persist
from agentkit.retrievers.vectorstores.common import DOCSTORE_FILE, BaseVectorStore
from agentkit.retrievers.vectorstores.docstore import DocStore

VECTORS_FILE = "vectors.safetensors"
DTYPES = ("float32", "float16", "bfloat16")
_MAX_SCORES = 1 << 28  # score-matrix elements per chunk of queries


class TorchStore(BaseVectorStore):
    """Exact nearest neighbours in torch.

    Args:
        dimension: vector size.
        device: ``"cuda"``, ``"cpu"``, ...; ``None`` picks CUDA when available.
        dtype: ``"float32"``, ``"float16"`` or ``"bfloat16"``; ``None`` is float16 on CUDA
            and float32 elsewhere.
        metric: ``"ip"`` or ``"l2"`` (scores are ``-distance``).
    """

    store_name = "torch"

    def __init__(
        self,
        dimension: int,
        device: str | None = None,
        dtype: str | None = None,
        metric: str = "ip",
    ) -> None:
        super().__init__(dimension, metric)
        torch = self._torch = import_optional("torch", "torch", "retrieval", "TorchStore")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if dtype is None:
            dtype = "float16" if self.device.type == "cuda" else "float32"
        if dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {DTYPES} or None, got {dtype!r}")
        self.dtype_name = dtype
        self._dtype = getattr(torch, dtype)
        self._matrix = torch.empty((0, dimension), dtype=self._dtype, device=self.device)
        self._sqnorms = torch.empty((0,), dtype=torch.float32, device=self.device)
        self._size = 0
        self._iids = np.empty((0,), dtype=np.int64)  # internal id of each row

    # --- index hooks -------------------------------------------------------------------
    def _add_vectors(self, iids: np.ndarray, vectors: np.ndarray) -> None:
        torch, n = self._torch, len(iids)
        rows = torch.from_numpy(vectors).to(self.device, self._dtype)
        if self._size + n > self._matrix.shape[0]:  # grow geometrically
            capacity = max(self._size + n, 2 * self._matrix.shape[0], 1024)
            grown = torch.empty((capacity, self._dimension), dtype=self._dtype, device=self.device)
            grown[: self._size] = self._matrix[: self._size]
            norms = torch.empty((capacity,), dtype=torch.float32, device=self.device)
            norms[: self._size] = self._sqnorms[: self._size]
            self._matrix, self._sqnorms = grown, norms
        self._matrix[self._size : self._size + n] = rows
        self._sqnorms[self._size : self._size + n] = rows.float().pow(2).sum(1)
        self._size += n
        self._iids = np.concatenate([self._iids, iids])

    def _remove_vectors(self, iids: np.ndarray) -> None:
        keep = ~np.isin(self._iids, iids)
        if keep.all():
            return
        rows = self._torch.from_numpy(np.flatnonzero(keep)).to(self.device)
        n = len(rows)
        self._matrix[:n] = self._matrix[: self._size].index_select(0, rows)
        self._sqnorms[:n] = self._sqnorms[: self._size].index_select(0, rows)
        self._size, self._iids = n, self._iids[keep]

    def _index_size(self) -> int:
        return self._size

    def _vectors(self, iids: Sequence[int]) -> np.ndarray:
        order = np.argsort(self._iids)
        rows = order[np.searchsorted(self._iids, np.asarray(iids, dtype=np.int64), sorter=order)]
        picked = self._matrix[self._torch.from_numpy(rows).to(self.device)]
        return np.asarray(picked.float().cpu().numpy(), dtype=np.float32)

    def _raw_search(
        self, queries: np.ndarray, fetch: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        torch = self._torch
        matrix = self._matrix[: self._size]
        mask = None
        if allowed is not None:
            mask = torch.from_numpy(np.isin(self._iids, allowed)).to(self.device)
        top = min(fetch, self._size)
        step = max(1, _MAX_SCORES // max(self._size, 1))
        all_scores, all_rows = [], []
        with torch.inference_mode():
            q_all = torch.from_numpy(queries).to(self.device, self._dtype)
            for start in range(0, len(queries), step):
                q = q_all[start : start + step]
                scores = q @ matrix.T  # in the storage dtype: top-k before any upcast
                if self.metric == "l2":  # rank by 2 q.x - |x|^2, the same order as -|q - x|
                    scores = 2 * scores.float() - self._sqnorms[: self._size]
                if mask is not None:
                    scores = scores.masked_fill(~mask, float("-inf"))
                values, rows = torch.topk(scores, top, dim=1)
                values = values.float()
                if self.metric == "l2":
                    qn = q.float().pow(2).sum(1, keepdim=True)
                    values = -(qn - values).clamp_min(0).sqrt()
                all_scores.append(values.cpu().numpy())
                all_rows.append(rows.cpu().numpy())
        values_np = np.concatenate(all_scores)
        labels = self._iids[np.concatenate(all_rows)]
        labels[np.isneginf(values_np)] = -1
        if top < fetch:
            pad = ((0, 0), (0, fetch - top))
            values_np = np.pad(values_np, pad, constant_values=-np.inf)
            labels = np.pad(labels, pad, constant_values=-1)
        return values_np, labels

    # --- persistence -------------------------------------------------------------------
    def _write_index(self, folder: Path) -> dict[str, Any]:
        from safetensors.torch import save_file

        tensors = {
            "vectors": self._matrix[: self._size].contiguous().cpu(),
            "iids": self._torch.from_numpy(self._iids.copy()),
        }
        save_file(tensors, str(folder / VECTORS_FILE))
        return {"vectors_file": VECTORS_FILE, "vectors": self._size, "dtype": self.dtype_name}

    @classmethod
    def load(
        cls, path: str | Path, device: str | None = None, dtype: str | None = None
    ) -> TorchStore:
        """Open a folder written by :meth:`save` (on ``device``, as ``dtype``)."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder, manifest = persist.read_manifest(path, cls.store_name)
        with persist.manifest_fields(folder):
            store = cls(int(manifest["dimension"]), device, dtype, metric=manifest["metric"])
        try:
            tensors = load_file(str(folder / VECTORS_FILE))
            vectors, iids = tensors["vectors"], tensors["iids"].numpy()
        except (OSError, SafetensorError, KeyError) as e:
            raise UsageError(
                f"{folder}/{VECTORS_FILE} is missing or corrupt ({e}); restore the folder or "
                "rebuild the store"
            ) from e
        docs = DocStore.open(folder / DOCSTORE_FILE)
        live = docs.all_iids()
        if (
            vectors.shape != (len(iids), store.dimension)
            or len(live) != len(iids)
            or len(iids) != manifest.get("vectors")
            or not np.array_equal(np.sort(iids), live)
        ):
            raise UsageError(
                f"{folder}: vectors {tuple(vectors.shape)} do not match the docstore "
                f"({len(live)} documents) or the manifest; the folder is corrupt: restore it "
                "or rebuild the store"
            )
        store._add_vectors(iids.astype(np.int64), vectors.float().numpy())
        store._loaded(docs, folder)
        return store
