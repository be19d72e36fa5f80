"""The torch bfloat16 CPU engine: chosen by ``auto`` only on CPUs with native bf16, vectors
within 1e-3 cosine of torch fp32, one-text calls answered by ONNX Runtime fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.retrievers.embeddings import SentenceTransformerEmbedder, bundled_model_path
from agentkit.retrievers.embeddings import backend as backends
from agentkit.retrievers.embeddings.bf16 import SMALL_CALL, Bf16Encoder
from tests.retrievers.test_onnx_embedder import TEXTS as ONNX_TEXTS

TEXTS = [
    *ONNX_TEXTS,
    "\x00\x01 control characters \u202e reversed",
    "short",
    "Protein folding is studied with molecular dynamics simulations.",
]


def cpuinfo(tmp_path: Path, flags: str) -> str:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 {flags}\n\n")
    return str(path)


def test_bf16_instructions_are_read_from_cpuinfo(tmp_path) -> None:
    assert backends.cpu_has_bf16(cpuinfo(tmp_path, "avx512f avx512_bf16 avx512_vnni"))
    assert backends.cpu_has_bf16(cpuinfo(tmp_path, "amx_tile amx_bf16"))
    assert not backends.cpu_has_bf16(cpuinfo(tmp_path, "avx512f avx512_bf16x avx2"))
    assert not backends.cpu_has_bf16(str(tmp_path / "missing"))  # not Linux: no bf16
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\xff\xfe flags : \x00avx512_bf16\x00\n")
    assert not backends.cpu_has_bf16(str(garbage))


def test_auto_picks_bf16_only_with_native_bf16_and_onnx_for_queries(monkeypatch) -> None:
    monkeypatch.delenv(backends.BACKEND_ENV, raising=False)
    monkeypatch.setattr(backends, "cuda_present", lambda: False)
    monkeypatch.setattr(backends, "onnx_installed", lambda: True)
    monkeypatch.setattr(backends, "torch_installed", lambda: True)
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    assert backends.choose_backend("auto", None) == "torch-bf16"
    assert backends.choose_backend("auto", "cuda") == "torch"
    monkeypatch.setattr(backends, "onnx_installed", lambda: False)  # no fast query path
    assert backends.choose_backend("auto", "cpu") == "torch"
    monkeypatch.setattr(backends, "onnx_installed", lambda: True)
    monkeypatch.setattr(backends, "torch_installed", lambda: False)
    assert backends.choose_backend("auto", "cpu") == "onnx"
    monkeypatch.setattr(backends, "torch_installed", lambda: True)
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: False)  # emulated bf16 is slow
    assert backends.choose_backend("auto", "cpu") == "onnx"
    monkeypatch.setenv(backends.BACKEND_ENV, "torch-bf16")
    assert backends.choose_backend("auto", "cpu") == "torch-bf16"
    with pytest.raises(UsageError, match="'torch-bf16' backend runs on the CPU"):
        backends.choose_backend("torch-bf16", "cuda:0")


def test_bad_thread_counts_are_refused() -> None:
    folder = Path(bundled_model_path())
    for bad in (0, -2, 1.5, "2"):
        with pytest.raises(UsageError, match="positive integer"):
            Bf16Encoder(folder, threads=bad)  # type: ignore[arg-type]


class Recording:
    """A stand-in small-call encoder that records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.exported = True

    def encode(self, texts: list[str], batch_size: int, normalize: bool) -> np.ndarray:
        self.calls.append(list(texts))
        return np.ones((len(texts), 384), dtype=np.float32)


def test_small_calls_go_to_the_small_encoder_without_loading_torch() -> None:
    small = Recording()
    encoder = Bf16Encoder(Path(bundled_model_path()), small=small)
    out = encoder.encode(["one query"], 64, True)
    assert small.calls == [["one query"]] and out.shape == (1, 384)
    assert encoder._model is None  # torch was not loaded for a query
    assert encoder.exported  # reports the small encoder's export


@pytest.mark.integration
@pytest.mark.slow
def test_bf16_vectors_are_close_to_torch_fp32_in_order(tmp_path) -> None:
    bf16 = SentenceTransformerEmbedder(device="cpu", backend="torch-bf16", cache_dir=tmp_path)
    fp32 = SentenceTransformerEmbedder(device="cpu", backend="torch")
    assert bf16.engine == "torch-bf16" and bf16.model_id == fp32.model_id
    texts = TEXTS * 2  # >= SMALL_CALL texts: the bf16 model runs
    assert len(texts) >= SMALL_CALL
    a, b = bf16.embed_batch(texts), fp32.embed_batch(texts)
    assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(1)
    assert cosine.min() > 0.999  # bf16 rounding, not a different model
    assert cosine.min() < 0.999999  # it really ran in bf16 (fp32 ONNX agrees to ~1e-7)
    order = np.argmax(a @ b.T, axis=1)  # each row is nearest its own text: rows not shuffled
    same = [i for i, t in enumerate(texts) if texts.index(t) == i % len(TEXTS)]
    assert all(order[i] % len(TEXTS) == i % len(TEXTS) for i in same)
    one = bf16.embed_batch([TEXTS[2]])  # one text: ONNX Runtime fp32, near-identical to torch
    assert float(one[0] @ b[2]) > 0.99999
    again = spec.load(bf16.to_dict())
    assert again.backend == "torch-bf16" and again.engine == "torch-bf16"
