"""The ONNX Runtime backend: same vectors as torch, export cached and reused, damaged exports
exported again, the automatic engine choice, and the query-vector LRU of the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.embeddings import (
    CachedEmbedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    bundled_model_path,
)
from agentkit.retrievers.embeddings import backend as backends
from agentkit.retrievers.embeddings import cached as cached_module
from agentkit.retrievers.embeddings.onnx import OnnxEncoder, default_threads
from agentkit.retrievers.embeddings.onnx_export import export_dir, model_layout, verified

TEXTS = [
    "A cat sits on the mat.",
    "",
    "Interest rates rose again in the third quarter, the central bank said on Tuesday.",
    "Mitochondria " * 400,  # longer than the 256-token window: truncated like torch
    "Ünïcödé and emoji 🚀 text; numbers 3.14159 and symbols <>&",
]


@pytest.fixture(scope="module")
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export shared by the module's tests (exporting takes a while)."""
    return tmp_path_factory.mktemp("onnx-cache")


# --- engine choice (no model needed) -------------------------------------------------------
def test_auto_picks_onnx_on_cpu_when_installed_else_torch(monkeypatch) -> None:
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: False)  # see test_bf16_embedder
    monkeypatch.setattr(backends, "cuda_present", lambda: False)
    monkeypatch.setattr(backends, "onnx_installed", lambda: True)
    assert backends.choose_backend("auto", None) == "onnx"
    assert backends.choose_backend("auto", "cpu") == "onnx"
    assert backends.choose_backend("auto", "cuda") == "torch"
    monkeypatch.setattr(backends, "onnx_installed", lambda: False)
    assert backends.choose_backend("auto", None) == "torch"
    monkeypatch.setattr(backends, "onnx_installed", lambda: True)
    monkeypatch.setattr(backends, "cuda_present", lambda: True)
    assert backends.choose_backend("auto", None) == "torch"


def test_env_and_parameter_force_an_engine(monkeypatch) -> None:
    monkeypatch.setattr(backends, "cuda_present", lambda: False)
    monkeypatch.setattr(backends, "onnx_installed", lambda: True)
    monkeypatch.setenv(backends.BACKEND_ENV, "torch")
    assert backends.choose_backend("auto", None) == "torch"
    assert backends.choose_backend("onnx-int8", None) == "onnx-int8"  # the parameter wins
    monkeypatch.setenv(backends.BACKEND_ENV, "onnx-int8")
    assert backends.choose_backend("auto", None) == "onnx-int8"


def test_bad_engine_names_are_refused_with_the_choices(monkeypatch) -> None:
    with pytest.raises(UsageError, match="auto, torch, torch-bf16, onnx, onnx-int8"):
        backends.choose_backend("tensorrt", None)
    monkeypatch.setenv(backends.BACKEND_ENV, "onnx; rm -rf /")
    with pytest.raises(UsageError, match="AGENTKIT_EMBED_BACKEND"):
        backends.choose_backend("auto", None)
    with pytest.raises(UsageError, match="runs on the CPU"):
        backends.choose_backend("onnx", "cuda:0")
    with pytest.raises(UsageError, match="backend must be one of"):
        SentenceTransformerEmbedder(backend="ONNX")
    with pytest.raises(SpecError):
        spec.load({"type": "sentence_transformer_embedder", "backend": "gpu"})


def test_thread_setting_comes_from_env_and_rejects_garbage(monkeypatch) -> None:
    monkeypatch.setenv("AGENTKIT_EMBED_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("AGENTKIT_EMBED_THREADS", "-1")
    with pytest.raises(UsageError, match="positive integer"):
        default_threads()
    monkeypatch.delenv("AGENTKIT_EMBED_THREADS")
    assert default_threads() >= 1


def unsupported_model(tmp_path: Path) -> Path:
    """A model folder with a Dense layer the ONNX path does not reproduce."""
    folder = tmp_path / "dense-model"
    folder.mkdir()
    source = Path(bundled_model_path())
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(source / name, folder / name)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    return folder


def test_a_model_onnx_cannot_reproduce_falls_back_or_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    folder = unsupported_model(tmp_path)
    with pytest.raises(UsageError, match=r"Dense.*backend='torch'"):
        model_layout(folder)
    with pytest.raises(UsageError, match="Dense"):
        SentenceTransformerEmbedder(str(folder), device="cpu", backend="onnx")
    auto = SentenceTransformerEmbedder(str(folder), device="cpu")  # nothing loaded yet
    assert auto.engine == "torch"


def test_int8_has_its_own_model_id_and_specs_keep_the_backend(tmp_path) -> None:
    fp32 = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=tmp_path)
    int8 = SentenceTransformerEmbedder(device="cpu", backend="onnx-int8", cache_dir=tmp_path)
    torch_ = SentenceTransformerEmbedder(device="cpu", backend="torch")
    assert fp32.model_id == torch_.model_id  # same vectors: caches and indexes are shared
    assert int8.model_id == fp32.model_id + "#int8"
    again = spec.load(int8.to_dict())
    assert again.backend == "onnx-int8" and again.model_id == int8.model_id
    assert "backend" not in SentenceTransformerEmbedder(device="cpu").to_dict()


# --- the real model ------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.slow
def test_onnx_vectors_equal_torch_and_the_export_is_reused(export_cache) -> None:
    onnx = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=export_cache)
    torch_ = SentenceTransformerEmbedder(device="cpu", backend="torch")
    got, want = onnx.embed_batch(TEXTS), torch_.embed_batch(TEXTS)
    assert got.shape == want.shape == (len(TEXTS), 384) and got.dtype == np.float32
    assert np.min(np.sum(got * want, axis=1)) > 0.999
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
    assert onnx._onnx is not None and onnx._onnx.exported  # first use exported it
    again = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=export_cache)
    np.testing.assert_allclose(again.embed_batch(TEXTS[:1]), got[:1], atol=1e-6)
    assert again._onnx is not None and not again._onnx.exported  # reused
    # batch composition does not change a text's vector (length-sorted batches)
    single = np.stack([onnx.embed_batch([t])[0] for t in TEXTS])
    np.testing.assert_allclose(single, got, atol=1e-5)


@pytest.mark.integration
@pytest.mark.slow
def test_a_damaged_export_is_exported_again(export_cache) -> None:
    folder = Path(bundled_model_path())
    encoder = OnnxEncoder(folder, "fp32", export_cache)
    encoder.load()
    path = export_dir(folder, export_cache) / "model.onnx"
    reference = encoder.encode(TEXTS[:2], 8, True)
    path.write_bytes(path.read_bytes()[:1000])  # truncated: the checksum no longer matches
    assert not verified(path)
    fresh = OnnxEncoder(folder, "fp32", export_cache)
    np.testing.assert_allclose(fresh.encode(TEXTS[:2], 8, True), reference, atol=1e-6)
    assert fresh.exported and verified(path)
    # garbage whose checksum file was rewritten to match: the session refuses it, re-export
    path.write_bytes(b"not an onnx model")
    import hashlib

    digest = hashlib.sha256(b"not an onnx model").hexdigest()
    path.with_name("model.onnx.sha256").write_text(digest)
    tricked = OnnxEncoder(folder, "fp32", export_cache)
    np.testing.assert_allclose(tricked.encode(TEXTS[:2], 8, True), reference, atol=1e-6)
    assert tricked.exported and verified(path)


@pytest.mark.integration
@pytest.mark.slow
def test_int8_is_close_but_not_identical(export_cache) -> None:
    fp32 = SentenceTransformerEmbedder(device="cpu", backend="onnx", cache_dir=export_cache)
    int8 = SentenceTransformerEmbedder(device="cpu", backend="onnx-int8", cache_dir=export_cache)
    a, b = fp32.embed_batch(TEXTS), int8.embed_batch(TEXTS)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() > 0.95 and not np.allclose(a, b, atol=1e-4)
    assert (export_dir(Path(bundled_model_path()), export_cache) / "model.int8.onnx").is_file()


# --- the cache: query LRU and background writes --------------------------------------------
class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(16)
        self.calls: list[list[str]] = []

    def embed_batch(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        return super().embed_batch(texts)


def test_recent_queries_are_answered_from_memory(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(cached_module, "RECENT", 3)
    cached = CachedEmbedder(Counting(), tmp_path)
    first = cached.embed_batch(["what is a cat"])

    def no_lookup(*args: object) -> dict[bytes, np.ndarray]:
        raise AssertionError("the cache file was read")

    real_lookup = cached._lookup
    monkeypatch.setattr(cached, "_lookup", no_lookup)
    again = cached.embed_batch(["what is a cat"])
    np.testing.assert_array_equal(again, first)
    again[0, 0] = 42.0  # callers get a copy: the remembered vector is unchanged
    assert cached.embed_batch(["what is a cat"])[0, 0] == first[0, 0]
    assert cached.hits == 2 and cached.misses == 1
    monkeypatch.setattr(cached, "_lookup", real_lookup)
    for q in ("q1", "q2", "q3"):  # three newer queries push the first one out
        cached.embed_batch([q])
    monkeypatch.setattr(cached, "_lookup", no_lookup)
    with pytest.raises(AssertionError, match="cache file was read"):
        cached.embed_batch(["what is a cat"])
    cached.embed_batch(["q3"])  # still remembered


def test_new_vectors_reach_the_file_after_flush_and_are_seen_before(tmp_path) -> None:
    import sqlite3

    inner = Counting()
    cached = CachedEmbedder(inner, tmp_path)
    texts = [f"text {i}" for i in range(50)]
    cached.embed_batch(texts)
    other = CachedEmbedder(Counting(), tmp_path)  # same file, same process: sees them now
    other.embed_batch(texts[:10])
    assert other.misses == 0 and other.hits == 10
    cached.flush()
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as conn:
        (count,) = conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()
    assert count == 50


def test_a_wrong_shape_from_the_inner_embedder_is_a_clear_error(tmp_path) -> None:
    class Broken(HashingEmbedder):
        def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            return np.zeros((len(texts) + 1, self.dimension), dtype=np.float32)

    with pytest.raises(UsageError, match="returned shape"):
        CachedEmbedder(Broken(8), tmp_path).embed_batch(["a", "b"])


def test_batches_respect_the_token_budget_and_the_text_limit() -> None:
    from agentkit.retrievers.embeddings.onnx import BATCH_TOKENS, _batches

    lengths = np.array([3, 300, 10, 256, 256, 5, 4000, 12])
    order = np.argsort(lengths, kind="stable")
    batches = _batches(order, lengths, most=3)
    assert sorted(int(i) for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * lengths[batch].max() <= BATCH_TOKENS
    assert [len(b) for b in batches][-1] == 1  # the 4,000-token text goes alone


def test_a_concurrent_first_import_of_transformers_is_waited_for(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The first query exporting while another thread imports transformers (a reader
    loading) once made the demo fail with 'cannot import name AutoModel'."""
    import sys
    import types

    from agentkit.retrievers.embeddings import onnx_export

    calls = {"n": 0}

    class HalfInitialised(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            if name != "AutoModel":
                raise AttributeError(name)
            calls["n"] += 1
            if calls["n"] < 3:
                raise AttributeError(name)  # 'from m import X' turns this into ImportError
            return "AutoModel"

    import importlib.machinery

    fake = HalfInitialised("transformers")
    fake.__spec__ = importlib.machinery.ModuleSpec("transformers", None)
    monkeypatch.setitem(sys.modules, "transformers", fake)
    monkeypatch.setattr("time.sleep", lambda s: None)
    assert onnx_export.import_auto_model() == "AutoModel"
    assert calls["n"] == 3
