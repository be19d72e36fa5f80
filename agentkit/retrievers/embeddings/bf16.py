""":class:`Bf16Encoder`: a sentence-transformers model run by torch in bfloat16 on the CPU.

On a CPU with native bfloat16 matrix instructions (AVX512-BF16 or AMX) the transformer's
matrix products run at about twice the fp32 rate: on SciFact chunks all-MiniLM-L6-v2 costs
30 CPU-s per 1,000 chunks in bf16 against 46 for ONNX Runtime fp32 and 55 for torch fp32
(``benchmarks/RESULTS.md``, ``ingest_e2e``), with vectors within 1e-4 cosine of fp32. On
a CPU without them torch emulates bf16 slowly, so ``auto`` picks it only where
:func:`~agentkit.retrievers.embeddings.backend.cpu_has_bf16`.

BEIR SciFact nDCG@10 in bf16: 0.6455 dense / 0.7275 hybrid against 0.6451 / 0.7282 for
torch fp32 (``benchmarks/results/retrieval_quality_torch-bf16.json``), so its vectors share
the fp32 model id (caches and indexes are shared across the engines).

The same tokenisation and length-sorted, token-budget batching as the ONNX path
(:func:`~agentkit.retrievers.embeddings.onnx.encode_sorted`); pooling is computed in fp32.
Calls of fewer than :data:`SMALL_CALL` texts (a query) go to ONNX Runtime fp32 when it is
installed: torch's per-call overhead in bf16 makes one short text cost 10-600 ms on a
loaded 2-core machine against ~6 ms for ONNX Runtime (measured, the same run).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.retrievers.embeddings.onnx import encode_sorted, fast_tokenizer
from agentkit.retrievers.embeddings.onnx_export import import_auto_model, model_layout

SMALL_CALL = 8


def bf16_encoder(folder: Path, cache_dir: Path, threads: int | None = None) -> Bf16Encoder:
    """A :class:`Bf16Encoder` whose small calls go to the ONNX fp32 export (cached in
    ``cache_dir``) when ONNX Runtime is installed."""
    from agentkit.retrievers.embeddings.backend import onnx_installed
    from agentkit.retrievers.embeddings.onnx import OnnxEncoder

    small = OnnxEncoder(folder, "fp32", cache_dir, threads) if onnx_installed() else None
    return Bf16Encoder(folder, threads, small)


class Bf16Encoder:
    """Encodes texts with the sentence-transformers model in ``folder`` in bfloat16.

    Args:
        folder: a sentence-transformers model folder (Transformer + Pooling [+ Normalize]).
        threads: torch's intra-op threads (process-wide in torch); ``None`` leaves torch's.
        small: the encoder for calls of fewer than :data:`SMALL_CALL` texts (``None``:
            this one).
    """

    @property
    def exported(self) -> bool:
        """Whether loading the small-call encoder had to export it (as the ONNX encoder's)."""
        return bool(self.small is not None and self.small.exported)

    def __init__(self, folder: Path, threads: int | None = None, small: Any = None) -> None:
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise UsageError(f"threads must be a positive integer, got {threads!r}")
        self.folder, self.threads, self.small = folder, threads, small
        self.layout = model_layout(folder)
        self.dimension = int(self.layout["dimension"])
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model in bfloat16 (once)."""
        with self._lock:
            if self._model is not None:
                return
            try:
                import torch
                from tokenizers import Tokenizer
            except ImportError as e:
                raise missing_dependency("torch", "retrieval", "the bf16 embedder") from e
            if self.threads is not None:
                torch.set_num_threads(self.threads)
            model = import_auto_model().from_pretrained(str(self.folder))
            self._tokenizer = fast_tokenizer(Tokenizer, self.folder, self.layout)
            self._model = model.to(torch.bfloat16).eval()

    def encode(self, texts: Sequence[str], batch_size: int, normalize: bool) -> np.ndarray:
        """float32 ``(len(texts), dimension)``; rows in the order of ``texts``."""
        if self.small is not None and len(texts) < SMALL_CALL:
            return np.asarray(self.small.encode(texts, batch_size, normalize))
        self.load()
        import torch

        cls = self.layout["pooling"] == "cls"

        def run(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
            m = torch.from_numpy(mask)
            hidden = self._model(
                input_ids=torch.from_numpy(ids),
                attention_mask=m,
                token_type_ids=torch.from_numpy(types),
            )[0].float()
            if cls:
                return np.asarray(hidden[:, 0].numpy())
            weights = m.unsqueeze(-1).float()
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return np.asarray(pooled.numpy())

        with torch.inference_mode():
            return encode_sorted(self._tokenizer, texts, batch_size, self.dimension, normalize, run)

    def __repr__(self) -> str:
        return f"Bf16Encoder({str(self.folder)!r})"
