"""TorchStore specifics: dtypes, growth and compaction, saving the dtype."""

from __future__ import annotations

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.vectorstores import TorchStore, load_store
from agentkit.testing.vectorstore import corpus


def test_cpu_defaults_to_float32_and_accepts_bfloat16(tmp_path) -> None:
    assert TorchStore(8, device="cpu").dtype_name == "float32"
    docs, vectors = corpus(50)
    store = TorchStore(16, device="cpu", dtype="bfloat16")
    store.add(docs, vectors)
    hits = store.search(vectors[9], 3)[0]
    assert hits[0].id == "doc-9" and hits[0].score == pytest.approx(1.0, abs=2e-2)
    store.save(tmp_path / "bf")
    loaded = load_store(tmp_path / "bf", device="cpu")
    assert isinstance(loaded, TorchStore) and loaded.dtype_name == "float32"
    assert [h.id for h in loaded.search(vectors[9], 3)[0]] == [h.id for h in hits]
    with pytest.raises(UsageError, match="dtype must be one of"):
        TorchStore(8, device="cpu", dtype="int8")


def test_grows_and_compacts() -> None:
    docs, vectors = corpus(3000, dim=8)
    store = TorchStore(8, device="cpu")
    for start in range(0, 3000, 700):
        store.add(docs[start : start + 700], vectors[start : start + 700])
    assert len(store) == 3000 and store._matrix.shape[0] >= 3000
    store.delete([f"doc-{i}" for i in range(0, 3000, 2)])
    assert store._size == 1500 and len(store) == 1500
    for i in (1, 777, 2999):
        assert store.search(vectors[i], 1)[0][0].id == f"doc-{i}"
    assert store.search(vectors[0], 1)[0][0].id != "doc-0"


def test_many_queries_are_chunked(monkeypatch) -> None:
    import agentkit.retrievers.vectorstores.torch_store as module

    monkeypatch.setattr(module, "_MAX_SCORES", 64)  # forces one query per chunk
    docs, vectors = corpus(40)
    store = TorchStore(16, device="cpu")
    store.add(docs, vectors)
    results = store.search(vectors[:6], 2)
    assert [r[0].id for r in results] == [f"doc-{i}" for i in range(6)]


def test_corrupt_vectors_file_is_reported(tmp_path) -> None:
    store = TorchStore(4, device="cpu")
    store.add([Document("a", id="a")], np.ones((1, 4), dtype=np.float32))
    store.save(tmp_path / "t")
    (tmp_path / "t" / "vectors.safetensors").write_bytes(b"nonsense")
    with pytest.raises(UsageError, match="missing or corrupt"):
        TorchStore.load(tmp_path / "t")
