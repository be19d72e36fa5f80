"""Loading sentence-transformers models offline first, shared by the embedder and the reranker.

:func:`resolve_local` turns a model name into a local folder (a folder as given, or a hub id
already in the Hugging Face cache) and fails fast, saying how to fix it, for a hub id that
is not local while downloads are off. :func:`load_st` builds the model from that folder with
the hub switched off, turning a failure into a :class:`UsageError`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency


def resolve_local(model: str, allow_download: bool, what: str, advice: str) -> str:
    """A local folder for ``model``, or the hub id itself when downloads are allowed.

    ``what`` names the model in the error (``"embedding model"``); ``advice`` is the first
    fix offered (``"Pass a local model folder"``).
    """
    path = Path(model).expanduser()
    if path.is_dir():
        return str(path)
    if allow_download:
        return model
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(model, local_files_only=True))
    except Exception as e:  # not in the local cache, an invalid id, or no huggingface_hub
        raise UsageError(
            f"{what} {model!r} is not available locally: it is neither a local folder nor in "
            f"the local Hugging Face cache, and downloads are off. {advice}, pre-download it "
            f"(huggingface-cli download {model}), or pass allow_download=True"
        ) from e


@contextlib.contextmanager
def _hub_offline(offline: bool) -> Iterator[None]:
    """Set ``HF_HUB_OFFLINE=1`` for the block when ``offline``; restore it after."""
    previous = os.environ.get("HF_HUB_OFFLINE")
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous


def load_st(
    class_name: str,
    path: str,
    *,
    model: str,
    what: str,
    feature: str,
    advice: str,
    allow_download: bool,
    **options: Any,
) -> Any:
    """``sentence_transformers.<class_name>(path, **options)``, offline unless
    ``allow_download``; a model that will not load raises a :class:`UsageError` naming
    ``what`` ``model`` and ending with ``advice``."""
    try:
        import sentence_transformers
    except ImportError as e:
        raise missing_dependency("sentence-transformers", "retrieval", feature) from e
    factory = getattr(sentence_transformers, class_name)
    with _hub_offline(not allow_download):
        try:
            return factory(path, local_files_only=not allow_download, **options)
        except (OSError, ValueError) as e:
            raise UsageError(f"could not load {what} {model!r} from {path}: {e}. {advice}") from e
