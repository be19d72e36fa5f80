"""Finding and loading Hugging Face models: local folders or hub ids (offline first, failing
fast), device and dtype resolution, 4-bit loading, and the process-wide model cache.

Loaded weights live in a :class:`Backbone`, shared by every ``HFChatModel`` that names the same
(model, device, dtype, 4-bit) while any of them is alive (a weak-value cache).
"""

from __future__ import annotations

import json
import os
import re
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_TRUE = ("1", "true", "yes", "on")
DTYPE_NAMES = {
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
}
OTHER_BACKENDS = (
    "pass a local model folder instead, or use another backend "
    "('ollama:<model>', 'openai:<model>', or 'extractive')"
)


@dataclass(frozen=True)
class ModelSource:
    """Where weights come from: ``ref`` for ``from_pretrained`` and a cache ``key``."""

    ref: str
    key: str
    local: bool


def hub_offline() -> bool:
    """Whether the environment forbids Hugging Face hub downloads."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def resolve_source(model: str | os.PathLike[str]) -> ModelSource:
    """A local model folder, a hub id from the local cache, or (when downloads are allowed
    and the hub answers within seconds) a hub id to download. Fails fast otherwise."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_dir():
        _check_model_folder(path)
        resolved = str(path.resolve())
        return ModelSource(resolved, resolved, True)
    if not _HUB_ID.match(text) or path.is_absolute() or text.startswith((".", "~")):
        raise UsageError(f"model folder {text!r} does not exist; check the path")
    return _hub_source(text)


def _check_model_folder(path: Path) -> None:
    if (path / "config.json").exists():
        return
    if (path / "adapter_config.json").exists():
        raise UsageError(
            f"{path} is a LoRA adapter folder, not a model; load it with "
            f"HFChatModel.from_adapter({str(path)!r}) or "
            "HFChatModel(base_model, adapters={'name': path})"
        )
    raise UsageError(
        f"{path} is not a Hugging Face model folder (it has no config.json); pass the folder "
        "that save_pretrained() wrote"
    )


def _hub_source(repo_id: str) -> ModelSource:
    try:
        from huggingface_hub import model_info, snapshot_download
    except ImportError as e:
        raise missing_dependency("huggingface_hub", "hf", "loading a hub model") from e
    key = f"hub:{repo_id}"
    try:
        return ModelSource(snapshot_download(repo_id, local_files_only=True), key, True)
    except Exception:
        pass  # not in the local cache
    if hub_offline():
        raise UsageError(
            f"model {repo_id!r} is not in the local Hugging Face cache and downloads are off "
            f"(HF_HUB_OFFLINE=1). Set HF_HUB_OFFLINE=0 to download it, pre-download it with "
            f"`huggingface-cli download {repo_id}`, or {OTHER_BACKENDS}"
        )
    try:
        model_info(repo_id, timeout=5.0)
    except Exception as e:  # offline, missing, gated, or a slow network
        raise UsageError(
            f"model {repo_id!r} cannot be downloaded from the Hugging Face hub "
            f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'}). "
            f"Check the id (and your access token for a gated model), pre-download it with "
            f"`huggingface-cli download {repo_id}`, or {OTHER_BACKENDS}"
        ) from e
    return ModelSource(repo_id, key, False)


def resolve_device(device: Any) -> str:
    """``None`` -> ``"cuda"`` when available, else ``"cpu"``; otherwise checked as given."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    name = str(device)
    try:
        kind = torch.device(name).type
    except (RuntimeError, TypeError) as e:
        raise UsageError(f"invalid device {name!r}; use 'cpu', 'cuda', 'cuda:1', ...") from e
    if kind == "cuda" and not torch.cuda.is_available():
        raise UsageError(
            f"device {name!r} was requested but CUDA is not available here; pass device='cpu' "
            "or leave device=None to choose automatically"
        )
    return name


def check_dtype(dtype: Any) -> None:
    """Validate a dtype argument without importing torch when it is a string."""
    if dtype is None or (isinstance(dtype, str) and dtype in (*DTYPE_NAMES, "auto")):
        return
    if not isinstance(dtype, str) and type(dtype).__name__ == "dtype":
        return
    raise UsageError(
        f"invalid dtype {dtype!r}; use one of auto, {', '.join(DTYPE_NAMES)} or a torch.dtype"
    )


def resolve_dtype(dtype: Any, device: str) -> Any:
    """``None``/``"auto"`` -> bfloat16 on CUDA (float16 without bf16 support), else float32."""
    import torch

    check_dtype(dtype)
    if dtype is None or dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if isinstance(dtype, str):
        return getattr(torch, DTYPE_NAMES[dtype])
    return dtype


def check_4bit() -> None:
    """4-bit loading needs CUDA and bitsandbytes; say which is missing."""
    try:
        import torch
    except ImportError as e:
        raise missing_dependency("torch", "hf", "4-bit loading") from e
    if not torch.cuda.is_available():
        raise UsageError(
            "load_in_4bit=True needs a CUDA GPU (bitsandbytes 4-bit kernels), and CUDA is not "
            "available here; load the model without load_in_4bit (use dtype='bfloat16' to halve "
            "memory) or run on a machine with a GPU"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as e:
        raise missing_dependency("bitsandbytes", "gpu", "4-bit loading (load_in_4bit=True)") from e


@dataclass(eq=False)
class Backbone:
    """Loaded weights and tokenizer. ``model`` becomes a peft ``PeftModel`` once an adapter
    is attached; ``adapters`` maps adapter folders to their peft names (``stamps``: the weight
    files each was loaded from). Hold ``lock`` while generating (the active adapter is model
    state)."""

    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    quantized: bool = False
    adapters: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)


_CACHE: weakref.WeakValueDictionary[tuple[Any, ...], Backbone] = weakref.WeakValueDictionary()
_CACHE_LOCK = threading.Lock()


def load_backbone(
    source: ModelSource,
    device: Any = None,
    dtype: Any = None,
    load_in_4bit: bool = False,
    trust_remote_code: bool = False,
    cached: bool = True,
) -> Backbone:
    """The loaded model for ``source``, reused from the cache while another user holds it."""
    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    key = (source.key, dev, str(torch_dtype), load_in_4bit, trust_remote_code)
    with _CACHE_LOCK:
        backbone = _CACHE.get(key) if cached else None
        if backbone is None:
            backbone = _load(source, dev, torch_dtype, load_in_4bit, trust_remote_code)
            if cached:
                _CACHE[key] = backbone
    return backbone


def _load(source: ModelSource, device: str, dtype: Any, four_bit: bool, remote: bool) -> Backbone:
    try:
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise missing_dependency("transformers", "hf", "HFChatModel") from e
    options: dict[str, Any] = {"trust_remote_code": remote}
    if hub_offline():
        options["local_files_only"] = True
    tokenizer = AutoTokenizer.from_pretrained(source.ref, **options)
    tokenizer.padding_side = "left"  # batched generation continues every row at its end
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    weights: dict[str, Any] = {("dtype" if (major, minor) >= (4, 56) else "torch_dtype"): dtype}
    if four_bit:
        from transformers import BitsAndBytesConfig

        weights["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=dtype,
        )
        weights["device_map"] = {"": device}
    model = AutoModelForCausalLM.from_pretrained(source.ref, **options, **weights)
    if not four_bit:
        model.to(device)  # type: ignore[arg-type]
    model.eval()
    return Backbone(model, tokenizer, device, dtype, quantized=four_bit)


def adapter_base_model(path: Path) -> str:
    """The base model an adapter was trained on (``adapter_config.json``)."""
    config_file = path / "adapter_config.json"
    if not config_file.exists():
        raise UsageError(
            f"{path} is not a LoRA adapter folder (it has no adapter_config.json); pass the "
            "folder that peft's save_pretrained() wrote"
        )
    base = json.loads(config_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise UsageError(
            f"{config_file} does not name its base model (base_model_name_or_path); pass "
            "base=... to HFChatModel.from_adapter"
        )
    return str(base)
