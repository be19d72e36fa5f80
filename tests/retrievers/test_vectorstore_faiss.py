"""FaissStore specifics: IVF training, HNSW tombstones, saving, GPU switch."""

from __future__ import annotations

import os

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.vectorstores import FaissStore, TorchStore, load_store
from agentkit.testing.vectorstore import corpus


def test_ivf_is_exact_until_trained_then_trains() -> None:
    docs, vectors = corpus(300)
    store = FaissStore(16, index="ivf", nlist=4, nprobe=4)
    store.add(docs[:100], vectors[:100])
    assert store._trained_n == 0  # 100 < 39 * 4: still an exact index
    store.add(docs[100:], vectors[100:])
    assert store._trained_n == 300
    exact = FaissStore(16)
    exact.add(docs, vectors)
    for got, want in zip(store.search(vectors[:5], 5), exact.search(vectors[:5], 5), strict=True):
        assert [h.id for h in got] == [h.id for h in want]  # nprobe == nlist: exhaustive
    assert store.delete(["doc-0"]) == 1
    assert store.search(vectors[0], 1)[0][0].id != "doc-0"


def test_ivf_default_nlist_retrains_as_it_grows(tmp_path) -> None:
    docs, vectors = corpus(6600, dim=8)
    store = FaissStore(8, index="ivf")
    store.add(docs[:1400], vectors[:1400])
    assert store._trained_n == 0  # 39 * int(sqrt(1400)) > 1400
    store.add(docs[1400:1600], vectors[1400:1600])
    assert store._trained_n == 1600 and store._index.nlist == 40
    store.add(docs[1600:], vectors[1600:])  # grew more than 4x: re-trained
    assert store._trained_n == 6600 and store._index.nlist == 81
    store.save(tmp_path / "ivf")
    loaded = FaissStore.load(tmp_path / "ivf")
    assert loaded._trained_n == 6600 and len(loaded) == 6600
    assert loaded.search(vectors[7], 1)[0][0].id == "doc-7"


def test_hnsw_deletes_are_tombstones_until_rebuilt(tmp_path) -> None:
    docs, vectors = corpus(40)
    store = FaissStore(16, index="hnsw")
    store.add(docs, vectors)
    store.delete(["doc-0", "doc-1"])
    assert store._index.ntotal == 40 and store._tombstones
    store.save(tmp_path / "h")
    loaded = FaissStore.load(tmp_path / "h")
    assert len(loaded) == 38 and len(loaded._tombstones) == 2
    assert "doc-0" not in [h.id for h in loaded.search(vectors[0], 40)[0]]
    loaded.delete([f"doc-{i}" for i in range(2, 12)])  # over a quarter deleted: rebuilt
    assert loaded._index.ntotal == 28 and not loaded._tombstones
    assert len(loaded.search(vectors[0], 40)[0]) == 28


def test_filtered_hnsw_with_many_allowed_ids_uses_faiss_selector() -> None:
    docs, vectors = corpus(5000, dim=8)
    store = FaissStore(8, index="hnsw", hnsw_m=8)
    store.add(docs, vectors)
    hits = store.search(vectors[4], 5, filter={"lang": "fr"})[0]
    assert len(hits) == 5 and all(h.document.metadata["lang"] == "fr" for h in hits)
    assert hits[0].id == "doc-4"


def test_unchanged_save_is_skipped_and_changed_save_rewrites(tmp_path) -> None:
    docs, vectors = corpus(10)
    store = FaissStore(16)
    store.add(docs, vectors)
    store.save(tmp_path / "s")
    stamp = os.stat(tmp_path / "s" / "index.faiss").st_ino
    store.save(tmp_path / "s")
    assert os.stat(tmp_path / "s" / "index.faiss").st_ino == stamp
    assert not store.has_unsaved_changes and store.saved_path == (tmp_path / "s").resolve()
    store.delete(["doc-0"])
    assert store.has_unsaved_changes
    store.save(tmp_path / "s")
    assert len(FaissStore.load(tmp_path / "s")) == 9


def test_manifest_records_the_index(tmp_path) -> None:
    import json

    docs, vectors = corpus(10)
    store = FaissStore(16, metric="l2", index="hnsw", hnsw_m=8, ef_search=20)
    store.add(docs, vectors)
    store.save(tmp_path / "s")
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["store"] == "faiss" and manifest["index"] == "hnsw"
    assert (manifest["dimension"], manifest["metric"], manifest["documents"]) == (16, "l2", 10)
    loaded = load_store(tmp_path / "s")
    assert isinstance(loaded, FaissStore)
    assert (loaded.metric, loaded.index_kind, loaded.hnsw_m, loaded.ef_search) == (
        "l2",
        "hnsw",
        8,
        20,
    )


def test_load_rejects_another_store_kind_and_corrupt_index(tmp_path) -> None:
    docs, vectors = corpus(5)
    torch_store = TorchStore(16, device="cpu")
    torch_store.add(docs, vectors)
    torch_store.save(tmp_path / "t")
    with pytest.raises(UsageError, match="holds a 'torch' store"):
        FaissStore.load(tmp_path / "t")
    store = FaissStore(16)
    store.add(docs, vectors)
    store.save(tmp_path / "f")
    (tmp_path / "f" / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(UsageError, match="not a FAISS index"):
        FaissStore.load(tmp_path / "f")


def test_mismatched_docstore_is_reported(tmp_path) -> None:
    docs, vectors = corpus(5)
    a, b = FaissStore(16), FaissStore(16)
    a.add(docs, vectors)
    b.add(docs[:3], vectors[:3])
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    os.replace(tmp_path / "b" / "docstore.sqlite", tmp_path / "a" / "docstore.sqlite")
    with pytest.raises(UsageError, match="does not match"):
        FaissStore.load(tmp_path / "a")


def test_constructor_checks_arguments() -> None:
    with pytest.raises(UsageError, match="index must be one of"):
        FaissStore(8, index="pq")
    with pytest.raises(UsageError, match="metric must be one of"):
        FaissStore(8, metric="cosine")
    with pytest.raises(UsageError, match="dimension must be a positive integer"):
        FaissStore(0)
    with pytest.raises(UsageError, match="nlist"):
        FaissStore(8, index="ivf", nlist=0)


def test_gpu_auto_falls_back_to_cpu_and_true_needs_a_gpu() -> None:
    import faiss

    store = FaissStore(8, use_gpu="auto")
    store.add([Document("a", id="a")], np.ones((1, 8), dtype=np.float32))
    gpu = hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0
    assert (store._searcher() is store._index) is not gpu
    assert store.search(np.ones(8, dtype=np.float32), 1)[0][0].id == "a"
    if not gpu:
        with pytest.raises(UsageError, match="faiss-gpu"):
            FaissStore(8, use_gpu=True)


def test_concurrent_searches_and_upserts_stay_consistent() -> None:
    import threading

    docs, vectors = corpus(200)
    store = FaissStore(16, index="hnsw")
    store.add(docs, vectors)
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for i in range(50):
                hits = store.search(vectors[i % 200], 5)[0]
                assert len(hits) == 5
        except BaseException as e:
            errors.append(e)

    def writer() -> None:
        try:
            for i in range(0, 200, 4):
                store.upsert(docs[i : i + 4], vectors[i : i + 4])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=f) for f in (searcher, searcher, writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store) == 200 and sorted(store.ids()) == sorted(d.id for d in docs)
    assert store.search(vectors[17], 1)[0][0].id == "doc-17"


@pytest.mark.parametrize("metric", ["ip", "l2"])
def test_single_query_split_scan_matches_faiss(metric: str) -> None:
    """From 8,192 vectors a single query on a flat index is scanned in slices in threads:
    the same ids and scores as FAISS's own search of the whole index."""
    from agentkit.retrievers.vectorstores import flat_scan

    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((9000, 24)).astype(np.float32)
    store = FaissStore(24, metric=metric)
    store.add([Document(f"t{i}", id=f"d{i}") for i in range(9000)], vectors)
    store.delete([f"d{i}" for i in range(0, 9000, 20)])  # positions are no longer the ids
    queries = rng.standard_normal((5, 24)).astype(np.float32)
    batch = store.search(queries, k=10)  # FAISS's search (a batch is never split)
    index, faiss = store._index, store._faiss
    n = int(index.ntotal)
    matrix = faiss.rev_swig_ptr(index.get_xb(), n * 24).reshape(n, 24)
    for slices in (2, 3, 8):
        dist, pos = flat_scan.split_knn(faiss, matrix, queries[:1], 10, store._fmetric, slices)
        want_dist, want_pos = index.search(queries[:1], 10)
        assert pos.tolist() == want_pos.tolist()
        np.testing.assert_allclose(dist, want_dist, rtol=1e-5)
    for q, hits in zip(queries, batch, strict=True):
        single = store.search(q, k=10)[0]
        assert [h.id for h in single] == [h.id for h in hits]
        np.testing.assert_allclose([h.score for h in single], [h.score for h in hits], rtol=1e-5)


def test_split_scan_follows_faiss_thread_count() -> None:
    import faiss

    from agentkit.retrievers.vectorstores import flat_scan

    before = faiss.omp_get_max_threads()
    try:
        faiss.omp_set_num_threads(1)
        assert flat_scan.slices_for(faiss, 1_000_000) == 1
        faiss.omp_set_num_threads(4)
        assert flat_scan.slices_for(faiss, 8191) == 1  # too few rows for two slices
        assert 1 <= flat_scan.slices_for(faiss, 1_000_000) <= 4
    finally:
        faiss.omp_set_num_threads(before)


def test_scan_workers_return_in_order_raise_errors_and_survive_a_fork() -> None:
    import threading

    from agentkit.retrievers.vectorstores.flat_scan import _Workers

    workers = _Workers()
    names = workers.run([lambda i=i: (i, threading.current_thread().name) for i in range(3)])
    assert [i for i, _ in names] == [0, 1, 2]
    assert names[0][1] == threading.current_thread().name
    assert {name for _, name in names[1:]} <= {"agentkit-scan"}

    def boom() -> None:
        raise ValueError("slice failed")

    with pytest.raises(ValueError, match="slice failed"):
        workers.run([lambda: 1, boom])
    with pytest.raises(ValueError, match="slice failed"):
        workers.run([boom, lambda: 1])
    assert workers.run([lambda: "still", lambda: "working"]) == ["still", "working"]
    workers._pid = -1  # as in a forked child: the threads are started again
    assert workers.run([lambda: 1, lambda: 2]) == [1, 2] and workers._pid == os.getpid()
