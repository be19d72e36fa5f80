"""The IVF-PQ store of large indexes: exact until ``train_size`` vectors, then trained once
on a sample; later adds go into the trained lists; saved and reopened in FaissStore's
folder format; bad settings and tampered folders are refused with the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.vectorstores import FaissStore
from agentkit.retrievers.vectorstores.ivfpq import IVFPQStore
from agentkit.testing.vectorstore import VectorStoreConformance

D = 32


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(8, D)).astype(np.float32)
    x = centers[rng.integers(0, 8, n)] + 0.3 * rng.normal(size=(n, D)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def docs(start: int, n: int) -> list[Document]:
    return [Document(f"text {i}", id=f"d{i}") for i in range(start, start + n)]


def test_exact_until_trained_then_adds_into_the_trained_lists(tmp_path: Path) -> None:
    import faiss

    x = vectors(400)
    store = IVFPQStore(D, nlist=4, nprobe=4, pq_m=32, pq_bits=6, train_size=200)
    store.add(docs(0, 150), x[:150])
    assert not store.trained and store.search(x[7], 1)[0][0].id == "d7"  # exact, flat
    store.add(docs(150, 100), x[150:250])  # 250 >= 200: trains on a sample of 200
    assert store.trained
    assert isinstance(faiss.downcast_index(store._index), faiss.IndexIVFPQ)
    centroids = faiss.downcast_index(store._index.quantizer).reconstruct_n(0, 4)
    store.add(docs(250, 150), x[250:])  # a later shard: no re-training
    after = faiss.downcast_index(store._index.quantizer).reconstruct_n(0, 4)
    np.testing.assert_array_equal(centroids, after)
    assert store._index.ntotal == len(store) == 400
    # approximate (PQ codes): each vector finds its own document among the first 3, and
    # nearly always first
    found = [[h.id for h in row] for row in store.search(x, 3)]
    assert all(f"d{i}" in row for i, row in enumerate(found))
    assert sum(row[0] == f"d{i}" for i, row in enumerate(found)) >= 390

    assert store.delete(["d3", "d300"]) == 2 and len(store) == 398
    store.save(tmp_path / "s")
    again = IVFPQStore.load(tmp_path / "s")
    assert again.trained and (again.pq_m, again.pq_bits, again.train_size) == (32, 6, 200)
    assert again.search(x[5], 1)[0][0].id == "d5"
    assert "d3" not in {h.id for h in again.search(x[3], 5)[0]}
    plain = FaissStore.load(tmp_path / "s")  # a plain FaissStore opens and searches it
    assert plain.search(x[9], 1)[0][0].id == "d9"


def test_ivf_flat_keeps_full_vectors() -> None:
    x = vectors(200, seed=1)
    store = IVFPQStore(D, nlist=2, nprobe=2, pq_m=0, train_size=100)
    store.add(docs(0, 200), x)
    assert store.trained
    np.testing.assert_allclose(store._vectors([0, 1]), x[:2], atol=1e-6)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pq_m": 5}, "pq_m must divide the dimension 32"),
        ({"pq_m": 64}, "pq_m must be an integer from 0 to 32"),
        ({"pq_m": 8, "pq_bits": 2}, "pq_bits must be an integer from 4 to 12"),
        ({"nlist": 4, "train_size": 100}, r"train_size must be an integer >= 156"),
        ({"nlist": 4, "pq_m": 8, "pq_bits": 8, "train_size": 200}, r">= 256"),
        ({"nlist": None}, "an 'ivf' index with an nlist"),
        ({"pq_m": True}, "pq_m must be an integer"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        IVFPQStore(D, **options)  # type: ignore[arg-type]


def test_tampered_or_foreign_folders_are_refused(tmp_path: Path) -> None:
    flat = FaissStore(D)
    flat.add(docs(0, 3), vectors(3))
    flat.save(tmp_path / "flat")
    with pytest.raises(UsageError, match="an IVFPQStore is an 'ivf' index"):
        IVFPQStore.load(tmp_path / "flat")

    store = IVFPQStore(D, nlist=2, pq_m=8, pq_bits=4, train_size=78)
    store.add(docs(0, 100), vectors(100))
    store.save(tmp_path / "ivf")
    manifest = tmp_path / "ivf" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["params"]["pq_m"] = 7  # does not divide 32
    manifest.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="pq_m must divide"):
        IVFPQStore.load(tmp_path / "ivf")
    del data["params"]["pq_bits"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(UsageError, match="missing or has a bad field"):
        IVFPQStore.load(tmp_path / "ivf")


class TestIVFStoreConformance(VectorStoreConformance):
    """The shared vector store suite on a trained IVF-flat IVFPQStore (one list, trained
    after 39 vectors): exact, so every expectation of the suite holds."""

    def make_store(self, dimension: int) -> Any:
        return IVFPQStore(dimension, nlist=1, nprobe=1, pq_m=0, train_size=39)
