"""Exporting a sentence-transformers model to ONNX once, and finding the export again.

:func:`exported_model` returns the path of ``model.onnx`` (fp32) or ``model.int8.onnx``
(int8, dynamically quantised, per channel, weights of the MatMuls only) for a model folder,
exporting it on first use into ``<agentkit cache>/onnx/<name>-<fingerprint>/``. The
fingerprint covers the weight files, torch's version and this exporter's version, so a
retrained model or a new exporter never reuses a stale file.

Each file is written beside its target and renamed into place, then its SHA-256 is written
to ``<file>.sha256``; a file whose checksum is missing or wrong (a crash mid-export, a
corrupted disk) is exported again. One export at a time per folder (an OS file lock).

The graph is the transformer with mean or CLS pooling folded in (input ids, attention mask
and token type ids in, one vector per text out); the caller normalises.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.core.files import atomic_write_text

EXPORTER_VERSION = 1
OPSET = 17
VARIANTS = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def model_layout(folder: Path) -> dict[str, Any]:
    """What the ONNX path needs from a sentence-transformers folder: ``pooling``
    (``"mean"``/``"cls"``), ``normalize``, ``max_seq_length`` and ``dimension``. A
    UsageError for a model whose modules the ONNX path does not reproduce (dense layers,
    other poolings)."""
    modules_file = folder / "modules.json"
    if not (folder / "tokenizer.json").is_file() or not (folder / "config.json").is_file():
        raise UsageError(
            f"{folder} has no tokenizer.json/config.json: the ONNX backend needs a "
            "sentence-transformers folder with a fast tokenizer; use backend='torch'"
        )
    modules = json.loads(modules_file.read_text()) if modules_file.is_file() else []
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    extra = [k for k in kinds if k not in ("Transformer", "Pooling", "Normalize")]
    if extra:
        raise UsageError(
            f"the ONNX backend reproduces Transformer + Pooling + Normalize models; {folder} "
            f"also has {', '.join(extra)}. Use backend='torch' for this model"
        )
    pooling = "mean"
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            config = json.loads((folder / module.get("path", "") / "config.json").read_text())
            modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
            if modes == ["pooling_mode_mean_tokens"]:
                pooling = "mean"
            elif modes == ["pooling_mode_cls_token"]:
                pooling = "cls"
            else:
                raise UsageError(
                    f"the ONNX backend supports mean or CLS pooling; {folder} uses {modes}. "
                    "Use backend='torch' for this model"
                )
    st_config = folder / "sentence_bert_config.json"
    max_len = (
        json.loads(st_config.read_text()).get("max_seq_length") if st_config.is_file() else None
    )
    return {
        "pooling": pooling,
        "normalize": "Normalize" in kinds,
        "max_seq_length": int(max_len or 512),
        "dimension": int(json.loads((folder / "config.json").read_text())["hidden_size"]),
    }


def fingerprint(folder: Path) -> str:
    """A hash of the weight files (names, sizes, mtimes), torch's version and the exporter."""
    digest = hashlib.sha256(f"exporter{EXPORTER_VERSION};opset{OPSET};".encode())
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".safetensors", ".bin", ".json", ".txt"):
            stat = path.stat()
            rel = path.relative_to(folder).as_posix()
            digest.update(f"{rel}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def export_dir(folder: Path, cache_dir: Path) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", folder.name).strip("-.")[:40] or "model"
    return cache_dir / "onnx" / f"{name}-{fingerprint(folder)}"


def exported_model(
    folder: Path, variant: str, cache_dir: Path, *, force: bool = False
) -> tuple[Path, bool]:
    """``(path of the checked ONNX file, whether it was exported now)`` for ``variant``
    (``"fp32"`` or ``"int8"``); ``force`` exports again even over a valid file."""
    if variant not in VARIANTS:
        raise UsageError(f"unknown ONNX variant {variant!r}; use one of {', '.join(VARIANTS)}")
    target_dir = export_dir(folder, cache_dir)
    target = target_dir / VARIANTS[variant]
    if not force and verified(target):
        return target, False
    target_dir.mkdir(parents=True, exist_ok=True)
    with _locked(target_dir):
        if not force and verified(target):  # another process exported it meanwhile
            return target, False
        fp32 = target_dir / VARIANTS["fp32"]
        if force or not verified(fp32):
            _write_checked(fp32, lambda tmp: _export(folder, model_layout(folder), tmp))
        if variant == "int8":
            _write_checked(target, lambda tmp: _quantize(fp32, tmp))
    return target, True


def verified(path: Path) -> bool:
    """Whether ``path`` exists and matches the SHA-256 in ``<path>.sha256``."""
    check = path.with_name(path.name + ".sha256")
    if not path.is_file() or not check.is_file():
        return False
    return check.read_text().strip() == _sha256(path)


def _write_checked(target: Path, write: Any) -> None:
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    check = target.with_name(target.name + ".sha256")
    try:
        check.unlink(missing_ok=True)  # a crash from here on leaves an unverified file
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        atomic_write_text(check, _sha256(target) + "\n")
    finally:
        tmp.unlink(missing_ok=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: exports may race, each still lands atomically
        yield
        return
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def import_auto_model() -> Any:
    """``transformers.AutoModel``. A first import of transformers running in another thread
    at the same moment (a reader loading while the first query exports) can make the lazy
    module answer ImportError for a moment: wait and try again; only a package that is
    really absent is a missing dependency."""
    import importlib.util
    import time

    for attempt in range(20):
        try:
            from transformers import AutoModel

            return AutoModel
        except ImportError as e:
            absent = [n for n in ("torch", "transformers") if importlib.util.find_spec(n) is None]
            if absent or attempt == 19:
                raise missing_dependency("transformers", "retrieval", "exporting to ONNX") from e
            time.sleep(0.25)
    raise AssertionError("unreachable")


def _export(folder: Path, layout: dict[str, Any], out: Path) -> None:
    try:
        import torch
    except ImportError as e:
        raise missing_dependency("torch", "retrieval", "exporting to ONNX") from e
    AutoModel = import_auto_model()
    import warnings

    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            hidden = self.model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0]
            if layout["pooling"] == "cls":
                return hidden[:, 0]
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(),
            (sample, sample, torch.zeros_like(sample)),
            str(out),
            input_names=list(INPUTS),
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )


def _quantize(fp32: Path, out: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        raise missing_dependency("onnxruntime", "retrieval", "int8 quantisation") from e
    # per channel, weight MatMuls only: per-tensor int8 costs MiniLM ~0.07 cosine
    quantize_dynamic(
        str(fp32),
        str(out),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
