"""The shared conformance suite for vector stores.

Subclass :class:`VectorStoreConformance` in a test module (name it ``Test...``) and
implement :meth:`make_store`; override :meth:`load_store` if your store does not load with
``type(store).load(path)``. Approximate stores set ``exact = False`` (result lists are then
compared to brute force by top-1 and recall instead of exactly).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.base import VectorStore
from agentkit.retrievers.document import Document
from agentkit.retrievers.vectorstores import persist
from agentkit.retrievers.vectorstores.docstore import DocStore

DIM = 16


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def corpus(n: int = 60, dim: int = DIM, seed: int = 0) -> tuple[list[Document], np.ndarray]:
    """``n`` documents with metadata (``group`` 0-2, ``lang`` en/fr) and unit vectors."""
    rng = np.random.default_rng(seed)
    vectors = unit(rng.standard_normal((n, dim)))
    docs = [
        Document(
            f"text {i}",
            id=f"doc-{i}",
            metadata={"group": i % 3, "lang": "en" if i % 2 else "fr"},
            source=f"file{i % 4}.txt",
            chunk=i,
        )
        for i in range(n)
    ]
    return docs, vectors


class VectorStoreConformance(ABC):
    """Base class of a pytest suite; subclasses provide :meth:`make_store`."""

    exact: ClassVar[bool] = True

    @abstractmethod
    def make_store(self, dimension: int) -> Any:
        """A fresh, empty store of ``dimension``."""

    def load_store(self, store: Any, path: Path) -> Any:
        return type(store).load(path)

    # --- helpers -------------------------------------------------------------------------
    def filled(self, n: int = 60) -> tuple[Any, list[Document], np.ndarray]:
        docs, vectors = corpus(n)
        store = self.make_store(DIM)
        store.add(docs, vectors)
        return store, docs, vectors

    def expected(self, store: Any, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Brute-force scores of ``query`` against ``vectors`` in the store's metric."""
        if getattr(store, "metric", "ip") == "l2":
            return np.asarray(-np.linalg.norm(vectors - query, axis=1))
        return np.asarray(vectors @ query)

    def check_ranking(self, hits: list[Any], ids: list[str], scores: np.ndarray, k: int) -> None:
        order = np.argsort(-scores, kind="stable")[:k]
        want = [ids[i] for i in order]
        got = [h.id for h in hits]
        assert len(got) == min(k, len(ids))
        if self.exact:
            assert got == want
        else:
            assert got[0] == want[0]
            assert len(set(got) & set(want)) >= 0.8 * len(want)
        got_scores = [h.score for h in hits]
        assert got_scores == sorted(got_scores, reverse=True)

    # --- search --------------------------------------------------------------------------
    def test_is_a_vector_store(self) -> None:
        store = self.make_store(DIM)
        assert isinstance(store, VectorStore)
        assert store.dimension == DIM and len(store) == 0

    def test_search_orders_by_similarity(self) -> None:
        store, docs, vectors = self.filled()
        ids = [d.id for d in docs]
        for i in (0, 7, 33):
            hits = store.search(vectors[i : i + 1], k=5)[0]
            assert hits[0].id == ids[i]
            self.check_ranking(hits, ids, self.expected(store, vectors, vectors[i]), 5)

    def test_scores_follow_the_metric(self) -> None:
        store, docs, vectors = self.filled()
        query = unit(np.arange(DIM, dtype=np.float32) - 5)
        want = self.expected(store, vectors, query)
        for hit in store.search(query[None, :], k=5)[0]:
            index = int(hit.id.split("-")[1])
            assert hit.score == pytest.approx(float(want[index]), abs=2e-3)
            assert hit.document.text == docs[index].text

    def test_batch_equals_single_queries(self) -> None:
        store, _, vectors = self.filled()
        batch = store.search(vectors[:4], k=3)
        assert len(batch) == 4
        for i, hits in enumerate(batch):
            assert [h.id for h in hits] == [h.id for h in store.search(vectors[i], k=3)[0]]

    def test_k_larger_than_size_and_empty_store(self) -> None:
        store = self.make_store(DIM)
        docs, vectors = corpus(3)
        assert store.search(vectors[:1], k=5) == [[]]
        store.add(docs, vectors)
        hits = store.search(vectors[:1], k=10)[0]
        assert sorted(h.id for h in hits) == sorted(d.id for d in docs)
        with pytest.raises(UsageError, match="k must be a positive integer"):
            store.search(vectors[:1], k=0)

    def test_hits_carry_documents(self) -> None:
        store, docs, vectors = self.filled()
        hit = store.search(vectors[5], k=1)[0][0]
        assert hit.document.id == "doc-5" and hit.document.text == "text 5"
        assert hit.document.metadata == docs[5].metadata
        assert (hit.document.source, hit.document.chunk) == ("file1.txt", 5)
        hit.document.metadata["group"] = "changed"  # results are copies
        assert store.search(vectors[5], k=1)[0][0].document.metadata == docs[5].metadata

    # --- edits ---------------------------------------------------------------------------
    def test_get_ids_len(self) -> None:
        store, docs, _ = self.filled(10)
        assert len(store) == 10
        assert sorted(store.ids()) == sorted(d.id for d in docs)
        got = store.get(["doc-3", "missing", "doc-1"])
        assert [d.id for d in got] == ["doc-3", "doc-1"]
        assert got[0].metadata == docs[3].metadata and got[0].text == "text 3"

    def test_duplicate_id_is_an_error(self) -> None:
        store, docs, vectors = self.filled(5)
        with pytest.raises(UsageError, match="upsert"):
            store.add(docs[:1], vectors[:1])
        twice = [Document("a", id="x"), Document("b", id="x")]
        with pytest.raises(UsageError, match="duplicate"):
            store.add(twice, vectors[:2])
        assert len(store) == 5

    def test_upsert_replaces(self) -> None:
        store, _docs, vectors = self.filled()
        new_vec = unit(-vectors[0])
        store.upsert([Document("new text", id="doc-0", metadata={"group": 9})], new_vec[None])
        assert len(store) == 60
        assert store.get(["doc-0"])[0].text == "new text"
        top = store.search(new_vec, k=1)[0][0]
        assert top.id == "doc-0" and top.document.text == "new text"
        assert "doc-0" not in [h.id for h in store.search(vectors[0], k=3)[0]]
        assert [h.id for h in store.search(new_vec, k=5, filter={"group": 9})[0]] == ["doc-0"]
        store.upsert([Document("fresh", id="brand-new")], vectors[:1])
        assert len(store) == 61

    def test_delete(self) -> None:
        store, _, vectors = self.filled()
        assert store.delete(["doc-0", "doc-1", "nope"]) == 2
        assert len(store) == 58
        assert {"doc-0", "doc-1"}.isdisjoint(store.ids())
        assert store.get(["doc-0"]) == []
        for hits in store.search(vectors[:2], k=60):
            assert {"doc-0", "doc-1"}.isdisjoint(h.id for h in hits)
            assert len(hits) == 58
        assert store.delete(["doc-0"]) == 0
        with pytest.raises(UsageError, match="list of ids"):
            store.delete("doc-2")

    def test_dimension_mismatch_is_a_clear_error(self) -> None:
        store = self.make_store(DIM)
        docs, vectors = corpus(3)
        with pytest.raises(UsageError, match="dimension"):
            store.add(docs, vectors[:, :8])
        with pytest.raises(UsageError, match="2 vectors"):
            store.add(docs, vectors[:2])
        store.add(docs, vectors)
        with pytest.raises(UsageError, match=f"store has dimension {DIM}"):
            store.search(np.ones((1, DIM + 1), dtype=np.float32), k=1)

    # --- filters -------------------------------------------------------------------------
    def filtered_check(self, flt: Any, keep: Any) -> None:
        store, docs, vectors = self.filled()
        query = vectors[4]
        subset = [i for i, d in enumerate(docs) if keep(d.metadata)]
        hits = store.search(query, k=5, filter=flt)[0]
        assert all(keep(h.document.metadata) for h in hits)
        scores = self.expected(store, vectors[subset], query)
        self.check_ranking(hits, [docs[i].id for i in subset], scores, 5)

    def test_filter_dict_equality(self) -> None:
        self.filtered_check(
            {"group": 1, "lang": "en"}, lambda m: m["group"] == 1 and m["lang"] == "en"
        )

    def test_filter_list_is_any_of(self) -> None:
        self.filtered_check({"group": [0, 2]}, lambda m: m["group"] in (0, 2))

    def test_filter_callable(self) -> None:
        def odd_en(m: Any) -> bool:
            return bool(m["lang"] == "en" and m["group"] != 0)

        self.filtered_check(odd_en, odd_en)

    def test_filter_without_matches(self) -> None:
        store, _, vectors = self.filled()
        assert store.search(vectors[:2], k=3, filter={"group": 7}) == [[], []]
        assert store.search(vectors[:1], k=3, filter=lambda m: False) == [[]]
        assert store.search(vectors[:1], k=3, filter={"missing": None})[0] != []

    # --- MMR -----------------------------------------------------------------------------
    def test_mmr_prefers_diverse_results(self) -> None:
        rng = np.random.default_rng(1)
        query = unit(rng.standard_normal(DIM))
        other = unit(rng.standard_normal(DIM))
        near = [unit(query + 0.05 * rng.standard_normal(DIM)) for _ in range(3)]
        far = unit(query + 1.2 * other)
        vectors = np.stack([*near, far, *unit(rng.standard_normal((6, DIM)))])
        docs = [Document(f"t{i}", id=f"v{i}") for i in range(len(vectors))]
        store = self.make_store(DIM)
        store.add(docs, vectors)
        plain = [h.id for h in store.search(query, k=2)[0]]
        diverse = [h.id for h in store.mmr_search(query, k=2, fetch_k=10, lambda_mult=0.3)]
        assert set(plain) <= {"v0", "v1", "v2"}
        assert diverse[0] in {"v0", "v1", "v2"} and diverse[1] not in {"v0", "v1", "v2"}
        relevance = store.mmr_search(query, k=3, fetch_k=10, lambda_mult=1.0)
        assert [h.id for h in relevance] == [h.id for h in store.search(query, k=3)[0]]
        only = store.mmr_search(query, k=2, filter=lambda m: False)
        assert only == []

    # --- persistence ---------------------------------------------------------------------
    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        store, _, vectors = self.filled()
        store.delete(["doc-3"])
        store.save(tmp_path / "store")
        loaded = self.load_store(store, tmp_path / "store")
        assert len(loaded) == len(store) and sorted(loaded.ids()) == sorted(store.ids())
        for before, after in zip(
            store.search(vectors[:5], k=4), loaded.search(vectors[:5], k=4), strict=True
        ):
            assert [h.id for h in before] == [h.id for h in after]
            assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-4)
            assert [h.document for h in before] == [h.document for h in after]
        loaded.add([Document("after load", id="late")], vectors[:1])
        assert len(loaded) == len(store) + 1 and loaded.get(["doc-3"]) == []

    def test_save_replaces_previous_save(self, tmp_path: Path) -> None:
        store, _, _vectors = self.filled()
        store.save(tmp_path / "s")
        store.delete(["doc-1", "doc-2"])
        store.save(tmp_path / "s")
        assert len(self.load_store(store, tmp_path / "s")) == 58
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "s"]
        assert leftovers == []

    def test_crash_during_save_keeps_previous_save(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store, _, _vectors = self.filled()
        store.save(tmp_path / "s")
        store.delete(["doc-1", "doc-2"])

        def crash(self: Any, path: Path) -> None:
            Path(path).write_bytes(b"partial")
            raise OSError("disk full (simulated)")

        monkeypatch.setattr(DocStore, "backup", crash)
        with pytest.raises(OSError, match="simulated"):
            store.save(tmp_path / "s")
        monkeypatch.undo()
        assert len(self.load_store(store, tmp_path / "s")) == 60

    def test_crash_between_renames_keeps_previous_save(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store, _, _vectors = self.filled()
        store.save(tmp_path / "s")
        store.delete(["doc-1"])
        real_rename = os.rename
        calls: list[Any] = []

        def rename(src: Any, dst: Any) -> None:
            calls.append(src)
            if len(calls) == 2:  # the old folder is aside, the new one not yet in place
                raise OSError("power cut (simulated)")
            real_rename(src, dst)

        monkeypatch.setattr(persist.os, "rename", rename)
        with pytest.raises(OSError, match="simulated"):
            store.save(tmp_path / "s")
        monkeypatch.undo()
        assert not (tmp_path / "s").exists()
        assert len(self.load_store(store, tmp_path / "s")) == 60
        store.save(tmp_path / "s")
        assert len(self.load_store(store, tmp_path / "s")) == 59

    def test_load_errors_are_clear(self, tmp_path: Path) -> None:
        store, _, _ = self.filled(5)
        with pytest.raises(UsageError, match="no saved vector store"):
            self.load_store(store, tmp_path / "missing")
        (tmp_path / "plain").mkdir()
        (tmp_path / "plain" / "notes.txt").write_text("hi")
        with pytest.raises(UsageError, match="not a saved vector store"):
            self.load_store(store, tmp_path / "plain")
        with pytest.raises(UsageError, match="refusing to overwrite"):
            store.save(tmp_path / "plain")
        store.save(tmp_path / "s")
        (tmp_path / "s" / "manifest.json").write_text("{not json")
        with pytest.raises(UsageError, match="corrupt"):
            self.load_store(store, tmp_path / "s")
