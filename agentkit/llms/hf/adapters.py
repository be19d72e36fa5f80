"""LoRA adapters through peft: attach several to a loaded model, pick the active one per
call (or none: the base model), and merge one into a fresh copy of the base weights."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, import_optional
from agentkit.llms.hf.loading import Backbone, ModelSource, load_backbone


def adapter_folder(path: str | os.PathLike[str]) -> str:
    """The resolved folder of a saved adapter (checked to hold ``adapter_config.json``)."""
    folder = Path(path).expanduser()
    if not (folder / "adapter_config.json").exists():
        raise UsageError(
            f"adapter folder {str(path)!r} does not exist or has no adapter_config.json; pass "
            "the folder that peft's save_pretrained() wrote (or a registered adapter name with "
            "HFChatModel.from_adapter)"
        )
    return str(folder.resolve())


def adapter_name(adapters: dict[str, str], adapter: str | os.PathLike[str] | None) -> str | None:
    """The name of ``adapter`` in ``adapters`` (``{name: folder}``): a known name, or an
    adapter folder, added under its folder name when it is new. ``None`` stays ``None``."""
    if adapter is None or (isinstance(adapter, str) and adapter in adapters):
        return adapter
    if not (Path(adapter).expanduser() / "adapter_config.json").exists():
        raise UsageError(
            f"unknown adapter {str(adapter)!r}; loaded adapters: {sorted(adapters) or 'none'}. "
            "Load one with model.load_adapter(path, name) or pass adapters={name: folder}"
        )
    folder = adapter_folder(adapter)
    for name, known in adapters.items():
        if known == folder:
            return name
    name = Path(folder).name if Path(folder).name not in adapters else folder
    adapters[name] = folder
    return name


def _peft() -> Any:
    return import_optional("peft", "peft", "hf", "LoRA adapters")


def is_peft(model: Any) -> bool:
    """Whether ``model`` is a peft ``PeftModel`` (without importing peft for plain models)."""
    if type(model).__module__.split(".")[0] != "peft":
        return False
    return isinstance(model, _peft().PeftModel)


def _stamp(folder: str) -> tuple[tuple[str, int, int, int], ...]:
    """What identifies the adapter weights in ``folder``: their files' inode, size and mtime
    (a retrained adapter written to the same folder gets a new stamp)."""
    stamp = []
    for file in sorted(Path(folder).glob("adapter_model.*")):
        info = file.stat()
        stamp.append((file.name, info.st_ino, info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def attach(backbone: Backbone, folder: str) -> str:
    """Load the adapter in ``folder`` into ``backbone`` (again when its weight files have
    changed since); returns its peft name."""
    with backbone.lock:
        stamp = _stamp(folder)
        if folder in backbone.adapters and backbone.stamps.get(folder) == stamp:
            return backbone.adapters[folder]
        peft = _peft()
        key = f"{folder}\0{stamp}"
        name = "adapter_" + hashlib.sha1(key.encode()).hexdigest()[:12]
        try:
            if isinstance(backbone.model, peft.PeftModel):
                backbone.model.load_adapter(folder, adapter_name=name, is_trainable=False)
            else:
                backbone.model = peft.PeftModel.from_pretrained(
                    backbone.model, folder, adapter_name=name, is_trainable=False
                )
        except (RuntimeError, ValueError, KeyError) as e:
            raise UsageError(
                f"the adapter in {folder} does not fit this base model ({e}); load it on the "
                "base model it was trained on (adapter_config.json: base_model_name_or_path)"
            ) from e
        backbone.model.eval()
        stale = backbone.adapters.get(folder)
        if stale is not None and stale in backbone.model.peft_config:
            backbone.model.delete_adapter(stale)  # the folder's old weights
        backbone.adapters[folder], backbone.stamps[folder] = name, stamp
        return name


@contextmanager
def active_adapter(backbone: Backbone, name: str | None) -> Iterator[Any]:
    """Make ``name`` the active adapter (``None``: the base model) while the caller, who
    holds ``backbone.lock``, runs the model it yields."""
    model = backbone.model
    if not is_peft(model):
        yield model
        return
    if name is None:
        with model.disable_adapter():
            yield model
    else:
        model.set_adapter(name)
        yield model


def merged_backbone(
    source: ModelSource, device: str, dtype: Any, trust_remote_code: bool, folder: str
) -> Backbone:
    """A fresh copy of the base weights with the adapter in ``folder`` merged in."""
    peft = _peft()
    fresh = load_backbone(source, device, dtype, False, trust_remote_code, cached=False)
    wrapped = peft.PeftModel.from_pretrained(fresh.model, folder, is_trainable=False)
    fresh.model = wrapped.merge_and_unload()
    fresh.model.eval()
    return fresh


def save_backbone(
    backbone: Backbone, path: str | os.PathLike[str], chat_template: str | None = None
) -> Path:
    """Save the model (safetensors) and tokenizer to ``path`` atomically: written to a
    temporary sibling folder, then renamed. ``path`` must not exist or be empty. A
    ``chat_template`` is saved as the tokenizer's."""
    target = Path(path).expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty; pick a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        backbone.model.save_pretrained(tmp, safe_serialization=True)
        tokenizer = backbone.tokenizer
        if chat_template is not None:
            tokenizer = copy.copy(tokenizer)  # the loaded one stays as it was
            tokenizer.chat_template = chat_template
        tokenizer.save_pretrained(tmp)
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
