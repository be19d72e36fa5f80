"""Embedders: the hashing fake, the SQLite cache, and the real bundled MiniLM."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.base import Embedder
from agentkit.retrievers.embeddings import (
    CachedEmbedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    default_cache_dir,
    default_embedder,
)


class CountingEmbedder(HashingEmbedder):
    def __init__(self, dimension: int = 32) -> None:
        super().__init__(dimension)
        self.calls: list[list[str]] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return super().embed_batch(texts)


# --- hashing -----------------------------------------------------------------------------
def test_hashing_is_deterministic_normalised_float32() -> None:
    emb = HashingEmbedder(64)
    assert isinstance(emb, Embedder)
    vecs = emb.embed_batch(["The cat sat", "the CAT sat!", "quantum field theory", ""])
    assert vecs.shape == (4, 64) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs[:3], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vecs[0], vecs[1])  # case and punctuation ignored
    assert not vecs[3].any()  # no words: the zero vector
    np.testing.assert_array_equal(
        vecs,
        HashingEmbedder(64).embed_batch(
            ["The cat sat", "the CAT sat!", "quantum field theory", ""]
        ),
    )
    assert emb.model_id == "hashing-64" and emb.dimension == 64


def test_hashing_is_stable_across_processes() -> None:
    import subprocess
    import sys

    code = (
        "from agentkit.retrievers.embeddings import HashingEmbedder;"
        "print(HashingEmbedder(16).embed_batch(['stable text here']).round(5).tolist())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outs) == 1


def test_hashing_similar_texts_are_closer() -> None:
    a, b, c = HashingEmbedder(256).embed_batch(
        ["the quick brown fox jumps", "a quick brown fox leaps", "stock markets fell today"]
    )
    assert a @ b > a @ c + 0.3


def test_hashing_checks_arguments_and_round_trips_spec() -> None:
    with pytest.raises(UsageError, match="dimension"):
        HashingEmbedder(1)
    with pytest.raises(UsageError, match="list of texts"):
        HashingEmbedder().embed_batch("one text")  # type: ignore[arg-type]
    emb = spec.load(HashingEmbedder(48).to_dict())
    assert isinstance(emb, HashingEmbedder) and emb.dimension == 48


# --- cache -------------------------------------------------------------------------------
def test_cache_embeds_only_misses_in_one_batch(tmp_path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    first = cached.embed_batch(["a b", "c d", "a b"])
    assert inner.calls == [["a b", "c d"]] and (cached.hits, cached.misses) == (1, 2)
    second = cached.embed_batch(["c d", "e f", "a b"])
    assert inner.calls[-1] == ["e f"] and (cached.hits, cached.misses) == (3, 3)
    np.testing.assert_array_equal(second[0], first[1])
    np.testing.assert_array_equal(second[2], inner.embed_batch(["a b"])[0])
    assert cached.model_id == inner.model_id and cached.dimension == 32


def test_cache_persists_across_instances_and_is_keyed_by_model(tmp_path) -> None:
    CachedEmbedder(CountingEmbedder(32), tmp_path).embed_batch(["hello world"])
    again = CountingEmbedder(32)
    cached = CachedEmbedder(again, tmp_path)
    cached.embed_batch(["hello world"])
    assert again.calls == [] and cached.hits == 1
    other_model = CountingEmbedder(16)  # another model id: its own entries
    CachedEmbedder(other_model, tmp_path).embed_batch(["hello world"])
    assert other_model.calls == [["hello world"]]
    assert (tmp_path / "embeddings.sqlite").exists()


def test_cache_handles_large_batches_and_threads(tmp_path) -> None:
    texts = [f"text number {i}" for i in range(1300)]  # more than one IN (...) chunk
    cached = CachedEmbedder(CountingEmbedder(), tmp_path)
    cached.embed_batch(texts)
    results: list[np.ndarray] = []

    def work() -> None:
        results.append(cached.embed_batch(texts[::-1]))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cached.misses == 1300 and cached.hits == 4 * 1300
    for r in results:
        np.testing.assert_array_equal(r[0], cached.embed_batch([texts[-1]])[0])


def test_cache_dir_defaults_to_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTKIT_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    assert CachedEmbedder(HashingEmbedder()).path == tmp_path / "c" / "embeddings.sqlite"
    monkeypatch.delenv("AGENTKIT_CACHE_DIR")
    assert default_cache_dir().parts[-2:] == (".cache", "agentkit")


def test_cache_spec_round_trip_and_checks(tmp_path) -> None:
    cached = CachedEmbedder(HashingEmbedder(24), tmp_path)
    data = cached.to_dict()
    assert data == {
        "type": "cached_embedder",
        "inner": {"type": "hashing_embedder", "dimension": 24},
        "cache_dir": str(tmp_path),
    }
    rebuilt = spec.load(data)
    assert isinstance(rebuilt, CachedEmbedder) and rebuilt.inner.dimension == 24
    with pytest.raises(UsageError, match="wraps an Embedder"):
        CachedEmbedder("not an embedder")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="unknown field"):
        spec.load({"type": "hashing_embedder", "dimensions": 3})


# --- sentence-transformers ---------------------------------------------------------------
def test_unknown_hub_id_fails_fast_with_advice() -> None:
    start = time.perf_counter()
    with pytest.raises(UsageError) as info:
        SentenceTransformerEmbedder("nobody-org/no-such-model-xyz")
    assert time.perf_counter() - start < 10
    message = str(info.value)
    assert "not available locally" in message and "local model folder" in message
    assert "bundled default" in message and "pre-download" in message


def test_sentence_transformer_spec_and_default_name() -> None:
    emb = SentenceTransformerEmbedder(batch_size=8)
    assert emb.model_id == "sentence-transformers/all-MiniLM-L6-v2" and emb.dimension == 384
    assert emb.to_dict() == {
        "type": "sentence_transformer_embedder",
        "batch_size": 8,
        "normalize": True,
    }
    assert isinstance(spec.load(emb.to_dict()), SentenceTransformerEmbedder)
    with pytest.raises(UsageError, match="batch_size"):
        SentenceTransformerEmbedder(batch_size=0)


@pytest.mark.integration
def test_bundled_minilm_embeds_offline(tmp_path) -> None:
    emb = default_embedder(tmp_path)
    vecs = emb.embed_batch(
        ["A cat sits on the mat.", "A kitten is resting on a rug.", "Interest rates rose again."]
    )
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.3
    assert emb.inner.embed_batch([]).shape == (0, 384)
    emb.embed_batch(["A cat sits on the mat."])
    assert emb.hits == 1 and emb.misses == 3


def test_a_local_model_id_changes_when_its_weights_change(tmp_path: Path) -> None:
    from agentkit.retrievers.embeddings.sentence_transformer import _fingerprinted

    (tmp_path / "model.safetensors").write_bytes(b"v1")
    before = _fingerprinted("my-model", str(tmp_path))
    assert before.startswith("my-model@") and before == _fingerprinted("my-model", str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"v2 retrained")
    assert _fingerprinted("my-model", str(tmp_path)) != before
