"""Where an answer sits in its sources: the span a reader returned, or the passage sentence
that best matches a generated answer, as ``[start, end]`` offsets into a source's
``passage`` (see :mod:`agentkit.workspace.sources`).

A front end shows the passage with that range highlighted; the offsets index plain text
and say nothing about how it is rendered (the app escapes every part of it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

WORD = re.compile(r"\w+")
SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")
MIN_OVERLAP = 0.5  # a sentence is "the answer's" when it holds this share of its words
STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in",
     "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were",
     "which", "with"]
)  # fmt: skip


def flat(text: str) -> str:
    """``text`` with whitespace runs as single spaces (how sources keep passages)."""
    return re.sub(r"\s+", " ", text).strip()


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


def best_sentence(answer: str, passage: str) -> tuple[int, int] | None:
    """The offsets of the sentence of ``passage`` sharing the most words with ``answer``
    (at least :data:`MIN_OVERLAP` of the answer's words), else ``None``."""
    wanted = _words(answer)
    if not wanted:
        return None
    best: tuple[float, int, int] | None = None
    for match in SENTENCE.finditer(passage):
        share = len(wanted & _words(match.group())) / len(wanted)
        if share >= MIN_OVERLAP and (best is None or share > best[0]):
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            best = (share, start, match.end())
    return None if best is None else (best[1], best[2])


def span_in(answer: str, passage: str) -> tuple[int, int] | None:
    """Where ``answer`` occurs in ``passage`` word for word (case-insensitive), else the
    best-matching sentence (:func:`best_sentence`)."""
    answer = flat(answer)
    if not answer:
        return None
    at = passage.lower().find(answer.lower())
    if at >= 0:
        return at, at + len(answer)
    return best_sentence(answer, passage)


def mark_sources(answer: str, sources: list[dict[str, Any]], read: Any = None) -> dict[str, Any]:
    """Add ``highlight`` (``[start, end]`` into ``passage``) to the source that holds the
    answer; return what the turn records about the reader (``{}`` without one):
    ``{"abstained", "confidence"}``."""
    info: dict[str, Any] = {}
    if read is not None:
        info = {"abstained": bool(read.abstained), "confidence": float(read.confidence)}
        if read.abstained:
            return info
        passage = getattr(read, "passage", None)
        answer = str(read.text)
        ident = getattr(passage, "id", None)
        ordered = sorted(sources, key=lambda s: s.get("id") != ident)
    else:
        ordered = sources
    for source in ordered:
        found = span_in(answer, str(source.get("passage") or ""))
        if found is not None:
            source["highlight"] = list(found)
            break
    return info


def highlight_of(source: Mapping[str, Any]) -> tuple[int, int] | None:
    """A source's highlight as valid offsets into its passage, else ``None`` (stored data
    is checked: it may come from an older or edited history file)."""
    value, passage = source.get("highlight"), source.get("passage")
    if not isinstance(passage, str) or not isinstance(value, list | tuple) or len(value) != 2:
        return None
    start, end = value
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(passage)):
        return None
    return start, end
