""":class:`OnnxEncoder`: a sentence-transformers model run by ONNX Runtime on the CPU.

The same model as the torch path (exported once by
:mod:`agentkit.retrievers.embeddings.onnx_export`), with the fast Rust tokenizer from the
model folder. Texts are tokenised once, sorted by token count and batched under a token
budget (:data:`BATCH_TOKENS` padded tokens per forward pass, at most ``batch_size`` texts):
a batch pads only to its own longest text, and long texts go a few at a time, which on the
CPU costs less than half the time of 64-text batches in file order (measured on SciFact
chunks: 11 vs 27 CPU-s for 293 chunks). ONNX Runtime's worker threads do not
spin while idle, so they leave the cores to loading and splitting between batches.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.retrievers.embeddings.onnx_export import exported_model, model_layout

THREADS_ENV = "AGENTKIT_EMBED_THREADS"
BATCH_TOKENS = 2048


def default_threads() -> int:
    """``$AGENTKIT_EMBED_THREADS``, else the cores this process may run on."""
    env = os.environ.get(THREADS_ENV, "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise UsageError(f"{THREADS_ENV} must be a positive integer, got {env!r}")
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class OnnxEncoder:
    """Encodes texts with the ONNX export of the sentence-transformers model in ``folder``.

    Args:
        folder: a sentence-transformers model folder (Transformer + Pooling [+ Normalize]).
        variant: ``"fp32"`` (the same vectors as torch, cosine > 0.9999) or ``"int8"``.
        cache_dir: where the export is cached (``<cache_dir>/onnx/...``).
        threads: ONNX Runtime intra-op threads; ``None``: :func:`default_threads`.
    """

    def __init__(
        self, folder: Path, variant: str, cache_dir: Path, threads: int | None = None
    ) -> None:
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise UsageError(f"threads must be a positive integer, got {threads!r}")
        self.folder, self.variant, self.cache_dir = folder, variant, cache_dir
        self.layout = model_layout(folder)
        self.threads = threads or default_threads()
        self.exported = False  # whether loading had to export (tests check reuse)
        self.dimension = int(self.layout["dimension"])
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Open the session (exporting first if needed); a damaged cached export is
        exported again, and an export that still will not load raises a UsageError."""
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime
                from tokenizers import Tokenizer
            except ImportError as e:
                raise missing_dependency("onnxruntime", "retrieval", "the ONNX embedder") from e
            path, self.exported = exported_model(self.folder, self.variant, self.cache_dir)
            try:
                session = self._open(onnxruntime, path)
            except Exception as first:  # onnxruntime raises its own exception classes
                path, _ = exported_model(self.folder, self.variant, self.cache_dir, force=True)
                self.exported = True
                try:
                    session = self._open(onnxruntime, path)
                except Exception as e:
                    raise UsageError(
                        f"the ONNX export of {self.folder} in {path.parent} will not load "
                        f"({e}; before re-export: {first}). Delete that folder, or use "
                        "backend='torch'"
                    ) from e
            self._tokenizer = fast_tokenizer(Tokenizer, self.folder, self.layout)
            self._session = session

    def _open(self, onnxruntime: Any, path: Path) -> Any:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], batch_size: int, normalize: bool) -> np.ndarray:
        """float32 ``(len(texts), dimension)``; rows in the order of ``texts``."""
        self.load()

        def run(ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            return np.asarray(self._session.run(None, feeds)[0])

        return encode_sorted(self._tokenizer, texts, batch_size, self.dimension, normalize, run)

    def __repr__(self) -> str:
        return f"OnnxEncoder({str(self.folder)!r}, variant={self.variant!r})"


def fast_tokenizer(tokenizer_class: Any, folder: Path, layout: dict[str, Any]) -> Any:
    """The model folder's Rust tokenizer, unpadded, truncating at its max sequence length."""
    tokenizer = tokenizer_class.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(layout["max_seq_length"])
    return tokenizer


def encode_sorted(
    tokenizer: Any,
    texts: Sequence[str],
    batch_size: int,
    dimension: int,
    normalize: bool,
    run: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Tokenise ``texts`` once, sort them by token count and call ``run(ids, mask,
    type_ids)`` (int64 arrays, padded to each batch's longest text) per batch of
    :func:`_batches`; float32 ``(len(texts), dimension)`` in the order of ``texts``."""
    encodings = tokenizer.encode_batch(list(texts))
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    out = np.empty((len(texts), dimension), dtype=np.float32)
    for rows in _batches(order, lengths, batch_size):
        width = int(lengths[rows].max())
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        types = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            encoding = encodings[row]
            n = len(encoding.ids)
            ids[i, :n] = encoding.ids
            mask[i, :n] = 1
            types[i, :n] = encoding.type_ids
        out[rows] = run(ids, mask, types)
    if normalize:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.maximum(norms, 1e-12)
    return out


def _batches(order: np.ndarray, lengths: np.ndarray, most: int) -> list[np.ndarray]:
    """Consecutive runs of ``order`` (sorted by length) of at most ``most`` texts whose
    padded size stays within :data:`BATCH_TOKENS` (a single longer text goes alone)."""
    batches, start = [], 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < most
            and (end - start + 1) * int(lengths[order[end]]) <= BATCH_TOKENS
        ):
            end += 1
        batches.append(order[start:end])
        start = end
    return batches
