"""Hits: documents built lazily from the store's row, once, as owned copies."""

from __future__ import annotations

import numpy as np
import pytest

from agentkit.retrievers import Hit
from agentkit.retrievers.document import Document
from agentkit.retrievers.hit import StoredHit
from agentkit.retrievers.vectorstores import FaissStore


def test_stored_hit_builds_its_document_once_with_the_score() -> None:
    meta = {"lang": "en"}
    hit = StoredHit(("d1", "some text", meta, "a.txt", 2), 0.75)
    assert (hit.id, hit.score) == ("d1", 0.75)
    doc = hit.document
    assert doc == Document("some text", "d1", {"lang": "en"}, "a.txt", 2, 0.75)
    assert hit.document is doc  # built once
    doc.metadata["lang"] = "fr"  # the copy is the hit's own
    assert meta == {"lang": "en"}


def test_hand_built_hit_keeps_its_document() -> None:
    doc = Document("t", id="x")
    hit = Hit("x", 0.5, doc)
    assert hit.document is doc and doc.score is None


def test_hits_unpack_compare_and_print_like_tuples() -> None:
    doc = Document("t", id="x")
    hit = Hit("x", 0.5, doc)
    id_, score, document = hit
    assert (id_, score, document) == ("x", 0.5, doc)
    assert hit == Hit("x", 0.5, Document("t", id="x"))
    assert hit != Hit("x", 0.25, doc) and hit != ("x", 0.5, doc)
    assert repr(hit).startswith("Hit(id='x', score=0.5, document=Document(")
    with pytest.raises(TypeError):
        hash(hit)


def test_a_hit_keeps_the_document_it_found_after_the_store_changes() -> None:
    store = FaissStore(4)
    vectors = np.eye(4, dtype=np.float32)
    store.add([Document(f"text {i}", id=f"d{i}") for i in range(4)], vectors)
    hit = store.search(vectors[1], k=1)[0][0]
    store.upsert([Document("replaced", id="d1")], vectors[1:2])
    assert hit.document.text == "text 1"
    assert store.search(vectors[1], k=1)[0][0].document.text == "replaced"


def test_search_reads_rows_evicted_from_the_cache() -> None:
    store = FaissStore(4)
    vectors = np.eye(4, dtype=np.float32)
    store.add([Document(f"text {i}", id=f"d{i}", metadata={"i": i}) for i in range(4)], vectors)
    store._docs.clear_cache()  # as after a load, or once the cache is full
    hits = store.search(vectors, k=2)
    assert [h[0].document.text for h in hits] == [f"text {i}" for i in range(4)]
    assert hits[2][0].document.metadata == {"i": 2} and hits[2][0].document.score == 1.0
