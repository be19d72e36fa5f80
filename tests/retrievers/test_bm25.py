"""BM25Retriever: ranking, tokenisation, filters, persistence, spec."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

import agentkit.core.spec as spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.text import Tokenizer, stemmer_available

CORPUS = [
    Document("The quick brown fox jumps over the lazy dog.", id="fox", metadata={"kind": "animal"}),
    Document("Photosynthesis converts sunlight into chemical energy in plants.", id="plants"),
    Document("The stock market fell sharply on Monday.", id="market", metadata={"kind": "money"}),
    Document(
        "Foxes are small omnivorous mammals of the dog family.",
        id="foxes",
        metadata={"kind": "animal"},
    ),
    Document("Chlorophyll absorbs light for photosynthesis.", id="chloro"),
]


def test_ranks_the_matching_document_first() -> None:
    bm25 = BM25Retriever(CORPUS, k=2, stemmer=None)
    docs = bm25.invoke("photosynthesis sunlight")
    assert [d.id for d in docs] == ["plants", "chloro"]
    assert docs[0].score is not None and docs[1].score is not None
    assert docs[0].score > docs[1].score > 0


def test_scores_follow_the_bm25_formula() -> None:
    corpus = [
        Document("apple banana", id="a"),
        Document("apple apple cherry", id="b"),
        Document("date", id="c"),
    ]
    bm25 = BM25Retriever(corpus, k1=1.2, b=0.75, method="lucene", stopwords=None, stemmer=None)
    n, avgdl = 3, (2 + 3 + 1) / 3
    idf = math.log(1 + (n - 2 + 0.5) / (2 + 0.5))  # "apple" is in 2 of 3 documents

    def term(tf: int, dl: int) -> float:
        return idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    scores = bm25.scores("apple")
    assert scores[0] == pytest.approx(term(1, 2), rel=1e-5)
    assert scores[1] == pytest.approx(term(2, 3), rel=1e-5)
    assert scores[2] == 0.0


def test_documents_without_a_shared_term_are_not_returned() -> None:
    bm25 = BM25Retriever(CORPUS, k=5, stemmer=None)
    assert bm25.retrieve("zebra", 5) == []
    assert bm25.retrieve("the of and", 5) == []  # stopwords only
    assert BM25Retriever(k=3).invoke("anything") == []


def test_stemming_matches_word_forms() -> None:
    if not stemmer_available():
        pytest.skip("PyStemmer is not installed")
    plain = BM25Retriever(CORPUS, k=1, stemmer=None)
    stemmed = BM25Retriever(CORPUS, k=1, stemmer="english")
    assert plain.invoke("jumping") == []
    assert [d.id for d in stemmed.invoke("jumping")] == ["fox"]


def test_tokenizer_settings() -> None:
    tok = Tokenizer(stopwords=["fox"], stemmer=None)
    assert tok("The Fox, the DOG!") == ["the", "the", "dog"]
    assert Tokenizer(stemmer=None)("The Fox, the DOG!") == ["fox", "dog"]
    assert Tokenizer(lower=False, stopwords=None, stemmer=None)("A Fox") == ["Fox"]
    with pytest.raises(UsageError, match="unknown stopword language"):
        Tokenizer(stopwords="klingon")


def test_metadata_filter() -> None:
    bm25 = BM25Retriever(CORPUS, k=3, stemmer=None)
    assert [d.id for d in bm25.retrieve("dog fox", 3, filter={"kind": "money"})] == []
    found = bm25.retrieve("dog fox", 3, filter={"kind": ["animal"]})
    assert {d.id for d in found} == {"fox", "foxes"}
    only = BM25Retriever(CORPUS, k=3, stemmer=None, filter=lambda m: m.get("kind") == "animal")
    assert {d.id for d in only.invoke("dog")} == {"fox", "foxes"}


def test_documents_keep_metadata_and_source() -> None:
    doc = Document("solar panels", id="s", metadata={"page": 3}, source="a.pdf", chunk=2)
    found = BM25Retriever([doc], stemmer=None).invoke("solar")
    assert found[0].metadata == {"page": 3}
    assert (found[0].source, found[0].chunk) == ("a.pdf", 2)


def test_add_documents_upserts_and_delete_removes() -> None:
    bm25 = BM25Retriever(CORPUS[:2], k=2, stemmer=None)
    assert bm25.invoke("market") == []
    bm25.add_documents([CORPUS[2], Document("market stalls sell fruit", id="fox")])
    assert len(bm25) == 3
    assert {d.id for d in bm25.invoke("market")} == {"market", "fox"}
    assert bm25.delete(["market", "missing"]) == 1
    assert [d.id for d in bm25.invoke("market")] == ["fox"]


def test_invalid_arguments_are_reported() -> None:
    with pytest.raises(UsageError, match="unknown BM25 method"):
        BM25Retriever(method="bm99")
    with pytest.raises(UsageError, match="0 <= b <= 1"):
        BM25Retriever(b=2)
    with pytest.raises(UsageError, match="k must be a positive integer"):
        BM25Retriever(k=0)
    with pytest.raises(UsageError, match="one each"):
        BM25Retriever.from_texts(["a", "b"], metadatas=[{}])


@pytest.mark.parametrize("method", ["lucene", "bm25+"])
def test_save_load_round_trip(tmp_path: Path, method: str) -> None:
    bm25 = BM25Retriever(CORPUS, k=3, method=method, stemmer=None)
    bm25.save(tmp_path / "idx")
    loaded = BM25Retriever.load(tmp_path / "idx", k=3)
    for query in ("dog fox", "photosynthesis", "market monday"):
        want, got = bm25.invoke(query), loaded.invoke(query)
        assert [d.id for d in got] == [d.id for d in want]
        assert [d.score for d in got] == pytest.approx([d.score for d in want])
    assert loaded.invoke("dog")[0].metadata == CORPUS[0].metadata
    assert loaded.tokenizer.to_dict() == bm25.tokenizer.to_dict()


def test_saved_index_holds_no_pickle(tmp_path: Path) -> None:
    BM25Retriever(CORPUS, stemmer=None).save(tmp_path)
    generation = (tmp_path / "CURRENT").read_text().strip()
    files = sorted(p.name for p in (tmp_path / generation).rglob("*") if p.is_file())
    assert files == sorted(
        [
            "data.csc.index.npy",
            "docstore.jsonl",
            "indices.csc.index.npy",
            "indptr.csc.index.npy",
            "params.index.json",
            "settings.json",
            "vocab.index.json",
        ]
    )
    first = (tmp_path / generation / "docstore.jsonl").read_text().splitlines()[0]
    assert json.loads(first)["id"] == "fox"


def test_resave_replaces_the_generation_atomically(tmp_path: Path) -> None:
    bm25 = BM25Retriever(CORPUS[:2], stemmer=None)
    bm25.save(tmp_path)
    old = (tmp_path / "CURRENT").read_text().strip()
    bm25.add_documents(CORPUS[2:])
    bm25.save(tmp_path)
    new = (tmp_path / "CURRENT").read_text().strip()
    assert new != old and not (tmp_path / old).exists()
    assert len(BM25Retriever.load(tmp_path)) == len(CORPUS)


def test_a_failed_save_leaves_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bm25 = BM25Retriever(CORPUS[:2], stemmer=None)
    bm25.save(tmp_path)
    bm25.add_documents(CORPUS[2:])

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(spec, "atomic_write_text", crash)  # dies before switching CURRENT
    with pytest.raises(OSError, match="disk full"):
        bm25.save(tmp_path)
    assert len(BM25Retriever.load(tmp_path)) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".staging")] == []


def test_empty_index_round_trip(tmp_path: Path) -> None:
    BM25Retriever(stemmer=None).save(tmp_path)
    loaded = BM25Retriever.load(tmp_path)
    assert len(loaded) == 0 and loaded.invoke("x") == []


def test_load_rejects_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a saved BM25 index"):
        BM25Retriever.load(tmp_path)


def test_spec_round_trip_through_the_saved_path(tmp_path: Path) -> None:
    bm25 = BM25Retriever(CORPUS, k=2, stemmer=None)
    with pytest.raises(SpecError, match=r"call \.save\(path\)"):
        bm25.to_dict()
    bm25.save(tmp_path / "idx")
    data = bm25.to_dict()
    assert data == {"type": "bm25_retriever", "path": str(tmp_path / "idx"), "k": 2}
    rebuilt = spec.load(data)
    assert [d.id for d in rebuilt.invoke("dog fox")] == [d.id for d in bm25.invoke("dog fox")]
    bm25.add_documents([Document("new text")])
    with pytest.raises(SpecError, match="after the last change"):
        bm25.to_dict()


def test_bind_k_and_async_and_dict_input() -> None:
    bm25 = BM25Retriever(CORPUS, k=1, stemmer=None)
    assert len(bm25.bind(k=3).invoke("dog fox photosynthesis")) == 3
    docs = asyncio.run(bm25.ainvoke({"question": "market"}))
    assert [d.id for d in docs] == ["market"]
