"""Which engine runs a sentence-transformers embedder: torch (fp32, or bf16 on the CPU), or
ONNX Runtime (fp32/int8).

``auto`` (the default) picks torch on CUDA; on the CPU, when ``onnxruntime`` is installed,
``torch-bf16`` (:mod:`agentkit.retrievers.embeddings.bf16`: batches in torch bfloat16,
single queries in ONNX Runtime fp32) where the CPU has native bf16 instructions, else ONNX
Runtime fp32; torch without ``onnxruntime``. Both hold SciFact nDCG@10 within 0.005 of
torch fp32. The int8 variant is opt-in: on BEIR SciFact it costs more nDCG@10 than the
0.005 the default may lose (``benchmarks/retrieval_quality.py``).
``$AGENTKIT_EMBED_BACKEND`` overrides ``auto``; an explicit ``backend=`` overrides both.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from agentkit.core.errors import UsageError

BACKENDS = ("auto", "torch", "torch-bf16", "onnx", "onnx-int8")
CPU_ONLY = ("torch-bf16", "onnx", "onnx-int8")
BACKEND_ENV = "AGENTKIT_EMBED_BACKEND"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def check_backend(backend: str, where: str = "backend") -> str:
    if backend not in BACKENDS:
        raise UsageError(f"{where} must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return backend


def choose_backend(requested: str, device: str | None) -> str:
    """The engine for ``requested`` (one of :data:`BACKENDS`) on ``device``: ``"torch"``,
    ``"onnx"`` or ``"onnx-int8"``."""
    check_backend(requested)
    if requested == "auto":
        env = os.environ.get(BACKEND_ENV, "").strip()
        requested = check_backend(env, f"${BACKEND_ENV}") if env else "auto"
    on_gpu = device is not None and not device.startswith("cpu")
    if requested != "auto":
        if requested in CPU_ONLY and on_gpu:
            raise UsageError(
                f"the {requested!r} backend runs on the CPU; device={device!r} needs "
                "backend='torch' (or 'auto')"
            )
        return requested
    if on_gpu or (device is None and cuda_present()):
        return "torch"
    if not onnx_installed():
        return "torch"
    return "torch-bf16" if cpu_has_bf16() and torch_installed() else "onnx"


def onnx_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU advertises native bfloat16 instructions (Linux; ``False`` elsewhere)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in BF16_FLAGS)
    except OSError:
        return False
    return False


def torch_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))


def cuda_present() -> bool:
    """Whether torch sees a CUDA device, without importing torch on a machine with no
    NVIDIA driver (importing it costs a second and hundreds of MB)."""
    if "torch" not in sys.modules and not os.path.exists("/proc/driver/nvidia/version"):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
