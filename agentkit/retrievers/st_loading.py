"""Loading sentence-transformers models offline first, shared by the embedder and the reranker.

:func:`resolve_local` turns a model name into a local folder (a folder as given, or a hub id
already in the Hugging Face cache) and fails fast, saying how to fix it, for a hub id that
is not local while downloads are off. :class:`LocalModel` does that when it is made and
builds the model from that folder on first use, with the hub switched off, turning a
failure into a :class:`UsageError`; a :class:`ModelKind` says which class and how errors read.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ModelKind:
    """A sentence-transformers model class and the words of its errors."""

    class_name: str  # "SentenceTransformer", "CrossEncoder"
    what: str  # names the model in errors: "embedding model"
    feature: str  # named when sentence-transformers is missing
    advice: str  # the first fix offered: "Pass a local model folder"


class LocalModel:
    """A model of ``kind`` found locally when made (:func:`resolve_local`, unless ``path``
    is given) and built on first use, once, under a lock, with the keyword arguments
    ``options()`` returns; offline unless ``allow_download``."""

    def __init__(
        self,
        kind: ModelKind,
        name: str,
        allow_download: bool,
        options: Callable[[], dict[str, Any]],
        path: str | None = None,
    ) -> None:
        self.kind, self.name, self.allow_download = kind, name, allow_download
        self.path = (
            path
            if path is not None
            else resolve_local(name, allow_download, kind.what, kind.advice)
        )
        self._options = options
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def get(self) -> Any:
        """The model; a model that will not load raises a :class:`UsageError` naming it."""
        with self._lock:
            if self._model is None:
                self._model = self._build()
            return self._model

    def _build(self) -> Any:
        kind = self.kind
        try:
            import sentence_transformers
        except ImportError as e:
            raise missing_dependency("sentence-transformers", "retrieval", kind.feature) from e
        factory = getattr(sentence_transformers, kind.class_name)
        offline = not self.allow_download
        with _hub_offline(offline):
            try:
                return factory(self.path, local_files_only=offline, **self._options())
            except (OSError, ValueError) as e:
                raise UsageError(
                    f"could not load {kind.what} {self.name!r} from {self.path}: {e}. {kind.advice}"
                ) from e
