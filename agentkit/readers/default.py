"""Which reader answers offline: the registered fine-tuned span reader when there is one,
else the sentence reader (saying so once, plainly)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentkit.readers.base import Reader
    from agentkit.readers.span import SpanReader
    from agentkit.retrievers.base import Embedder

logger = logging.getLogger(__name__)

FALLBACK_NOTICE = (
    "answers are whole sentences of your documents until `agentkit finetune reader` has "
    "been run (it trains a span reader here, once, in a few minutes)"
)
_LOADED: dict[Path, SpanReader] = {}
_LOCK = threading.Lock()
_NOTICE = {"said": False}


def registered_reader_path(name: str | None = None) -> Path | None:
    """The folder of the registered reader ``name`` (default: the one
    ``agentkit finetune reader`` trains), or ``None``."""
    from agentkit.finetune.reader_registry import DEFAULT_READER, ReaderRegistry

    return ReaderRegistry().find(name or DEFAULT_READER)


def span_reader(path: Path) -> SpanReader:
    """The :class:`SpanReader` of ``path``, loaded once per process."""
    from agentkit.readers.span import SpanReader

    with _LOCK:
        if path not in _LOADED:
            _LOADED[path] = SpanReader(path)
        return _LOADED[path]


def fallback_notice() -> str | None:
    """:data:`FALLBACK_NOTICE` the first time it is asked for (``None`` afterwards)."""
    with _LOCK:
        if _NOTICE["said"]:
            return None
        _NOTICE["said"] = True
    return FALLBACK_NOTICE


def default_reader(embedder: Embedder | None = None, name: str | None = None) -> Reader:
    """The fine-tuned span reader registered as ``name`` (default ``squad-minilm``), else a
    :class:`~agentkit.readers.sentence.SentenceReader` over ``embedder`` (logging
    :data:`FALLBACK_NOTICE` once per process)."""
    path = registered_reader_path(name)
    if path is not None:
        return span_reader(path)
    from agentkit.readers.sentence import SentenceReader

    notice = fallback_notice()
    if notice:
        logger.warning("offline reader: %s", notice)
    return SentenceReader(embedder)
