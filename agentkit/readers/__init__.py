"""Readers: answer a question from given passages, ``Reader.read(question, documents) ->
Answer``. :class:`SpanReader` is a question-answering model fine-tuned here (``agentkit
finetune reader``) that returns the best span and abstains when the passages do not hold
the answer; :class:`SentenceReader` is the untrained fallback (the best whole sentence).
:func:`default_reader` picks the registered span reader, else the fallback.

Imports are light: torch and transformers load when a span reader first reads.
"""

from __future__ import annotations

from agentkit.readers.base import NOT_FOUND, Answer, Reader
from agentkit.readers.default import FALLBACK_NOTICE, default_reader, registered_reader_path
from agentkit.readers.node import ReadNode, reader_of
from agentkit.readers.sentence import SentenceReader
from agentkit.readers.span import SpanReader

__all__ = [
    "FALLBACK_NOTICE",
    "NOT_FOUND",
    "Answer",
    "ReadNode",
    "Reader",
    "SentenceReader",
    "SpanReader",
    "default_reader",
    "reader_of",
    "registered_reader_path",
]
