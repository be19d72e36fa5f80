"""Which engine runs a sentence-transformers embedder: torch, or ONNX Runtime (fp32/int8).

``auto`` (the default) picks torch on CUDA and ONNX Runtime fp32 on the CPU when
``onnxruntime`` is installed, else torch. The int8 variant is opt-in: on BEIR SciFact it
costs more nDCG@10 than the 0.005 the default may lose (``benchmarks/retrieval_quality.py``).
``$AGENTKIT_EMBED_BACKEND`` overrides ``auto``; an explicit ``backend=`` overrides both.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from agentkit.core.errors import UsageError

BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
BACKEND_ENV = "AGENTKIT_EMBED_BACKEND"
AUTO_CPU_BACKEND = "onnx"  # fp32; "onnx-int8" did not hold quality (see module docstring)


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
        if requested.startswith("onnx") and on_gpu:
            raise UsageError(
                f"the ONNX backend runs on the CPU; device={device!r} needs backend='torch' "
                "(or 'auto')"
            )
        return requested
    if on_gpu or (device is None and cuda_present()):
        return "torch"
    return AUTO_CPU_BACKEND if onnx_installed() else "torch"


def onnx_installed() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tokenizers"))


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
