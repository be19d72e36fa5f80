"""Merging a LoRA adapter into a copy of its base model's weights: a standalone model that
loads with ``HFChatModel(folder)`` and generates like the base plus the adapter."""

from __future__ import annotations

import os
from pathlib import Path

from agentkit.finetune.registry import AdapterRegistry, read_manifest
from agentkit.finetune.runs import write_manifest


def merge_adapter(
    adapter: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    base: str | None = None,
    name: str | None = None,
    registry: AdapterRegistry | None = None,
    chat_template: str | None = None,
) -> Path:
    """Merge ``adapter`` (a registered name or an adapter folder) into its base model (or
    ``base``) and save the full model and tokenizer to ``output`` (which must not exist or be
    empty), with a manifest. ``name`` also registers the merged folder under that name."""
    from agentkit.llms.hf import HFChatModel

    registry = registry if registry is not None else AdapterRegistry()
    folder = registry.resolve(adapter)
    model = HFChatModel.from_adapter(
        folder, base=base, registry=registry, chat_template=chat_template
    )
    target = model.merge_and_save(output)
    source = read_manifest(folder)
    manifest = write_manifest(
        target,
        {
            "kind": "model",
            "method": "merge",
            "name": name or target.resolve().name,
            "base_model": model.model_id,
            "adapter": str(folder),
            "adapter_manifest": {
                k: source[k]
                for k in ("name", "method", "base_model", "data", "created")
                if k in source
            },
            "chat_template": chat_template or source.get("chat_template"),
        },
    )
    if name is not None:
        registry.register(name, target, manifest)
    return target
