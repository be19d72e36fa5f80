"""VectorRetriever: similarity and MMR search, filters, add_documents, spec."""

from __future__ import annotations

import pytest

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.vector import VectorRetriever
from agentkit.retrievers.vectorstores import FaissStore, TorchStore

DOCS = [
    Document("Paris is the capital of France", id="paris", metadata={"topic": "geo"}),
    Document("Berlin is the capital of Germany", id="berlin", metadata={"topic": "geo"}),
    Document(
        "The capital of France is Paris, on the Seine", id="paris2", metadata={"topic": "geo"}
    ),
    Document("Photosynthesis turns light into sugar", id="bio", metadata={"topic": "bio"}),
    Document("Mitochondria are the powerhouse of the cell", id="cell", metadata={"topic": "bio"}),
]


def make(store_cls=FaissStore, **kwargs) -> VectorRetriever:  # type: ignore[no-untyped-def]
    embedder = HashingEmbedder(128)
    store = store_cls(128) if store_cls is FaissStore else store_cls(128, device="cpu")
    retriever = VectorRetriever(embedder, store, **kwargs)
    assert retriever.add_documents(DOCS) == [d.id for d in DOCS]
    return retriever


@pytest.mark.parametrize("store_cls", [FaissStore, TorchStore])
def test_retrieves_scored_documents_best_first(store_cls) -> None:  # type: ignore[no-untyped-def]
    retriever = make(store_cls, k=2)
    docs = retriever.invoke("Paris, France")
    assert {d.id for d in docs} == {"paris", "paris2"}
    assert all(d.score is not None for d in docs) and docs[0].score >= docs[1].score
    assert retriever.invoke({"question": "cell powerhouse"})[0].id == "cell"
    assert len(retriever.bind(k=4).invoke("capital")) == 4


def test_filter_and_mmr() -> None:
    filtered = make(k=2, filter={"topic": "bio"})
    assert {d.id for d in filtered.invoke("capital of France")} == {"bio", "cell"}
    mmr = make(k=2, search_type="mmr", lambda_mult=0.1)
    ids = [d.id for d in mmr.invoke("capital of France Paris")]
    assert ids[0] in {"paris", "paris2"} and ids[1] not in {"paris", "paris2"}


def test_add_documents_upserts() -> None:
    retriever = make(k=1)
    retriever.add_documents([Document("Lyon has great food", id="paris")])
    assert len(retriever.store) == 5
    assert retriever.invoke("great food in Lyon")[0].text == "Lyon has great food"


def test_checks_arguments() -> None:
    with pytest.raises(UsageError, match="search_type"):
        VectorRetriever(HashingEmbedder(8), FaissStore(8), search_type="fuzzy")
    with pytest.raises(UsageError, match="8-d vectors but the store holds 16-d"):
        VectorRetriever(HashingEmbedder(8), FaissStore(16))
    with pytest.raises(UsageError, match="k must be"):
        VectorRetriever(HashingEmbedder(8), FaissStore(8), k=0)


def test_spec_needs_a_saved_store(tmp_path) -> None:
    retriever = make(k=3, filter={"topic": "geo"})
    with pytest.raises(SpecError, match="save"):
        retriever.to_dict()
    retriever.store.save(tmp_path / "store")
    data = retriever.to_dict()
    assert data["store"] == str((tmp_path / "store").resolve())
    spec.save(retriever, tmp_path / "r.yaml")
    loaded = spec.load_file(tmp_path / "r.yaml")
    assert isinstance(loaded, VectorRetriever) and loaded.k == 3
    query = "capital of Germany"
    assert [d.id for d in loaded.invoke(query)] == [d.id for d in retriever.invoke(query)]
    retriever.filter = lambda m: True
    with pytest.raises(SpecError, match="only dict filters"):
        retriever.to_dict()
