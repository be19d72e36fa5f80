"""Tokenisation for lexical retrieval: lower-casing, a word regex, stopwords and an optional
Snowball stemmer (PyStemmer). The settings serialise, so a saved BM25 index tokenises its
queries exactly as it tokenised its corpus."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from agentkit.core.errors import MissingDependencyError, UsageError

TOKEN_PATTERN = r"(?u)\b\w\w+\b"
AUTO = "auto"


def stemmer_available() -> bool:
    """Whether PyStemmer is installed."""
    try:
        import Stemmer  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_stemmer(stemmer: str | None) -> str | None:
    """``"auto"`` becomes ``"english"`` when PyStemmer is installed, else ``None``."""
    if stemmer == AUTO:
        return "english" if stemmer_available() else None
    return stemmer


@lru_cache(maxsize=16)
def _stopword_set(language: str) -> frozenset[str]:
    try:
        from bm25s.tokenization import _infer_stopwords
    except ImportError as e:
        raise MissingDependencyError("bm25s", "retrieval", "Stopword lists") from e
    try:
        return frozenset(_infer_stopwords(language))
    except ValueError as e:
        raise UsageError(
            f"unknown stopword language {language!r}; use 'en', 'de', 'fr', 'es', ... or "
            "pass your own list of words"
        ) from e


class Tokenizer:
    """Splits text into terms.

    Args:
        lower: lower-case before splitting.
        stopwords: a language code (``"en"``), a list of words, or ``None`` for none.
        stemmer: a Snowball language (``"english"``) applied with PyStemmer, ``"auto"``
            (English when PyStemmer is installed) or ``None``.
        pattern: the regex whose matches are the terms.
    """

    def __init__(
        self,
        lower: bool = True,
        stopwords: str | Sequence[str] | None = "en",
        stemmer: str | None = AUTO,
        pattern: str = TOKEN_PATTERN,
    ) -> None:
        self.lower = lower
        self.stopwords: str | tuple[str, ...] | None = (
            stopwords if stopwords is None or isinstance(stopwords, str) else tuple(stopwords)
        )
        self.stemmer = resolve_stemmer(stemmer)
        self.pattern = pattern
        self._split = re.compile(pattern).findall
        if self.stopwords is None:
            self._stop: frozenset[str] = frozenset()
        elif isinstance(self.stopwords, str):
            self._stop = _stopword_set(self.stopwords)
        else:
            self._stop = frozenset(w.lower() if lower else w for w in self.stopwords)
        self._stem = _make_stemmer(self.stemmer) if self.stemmer else None

    def __call__(self, text: str) -> list[str]:
        return self.tokenize([text])[0]

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """The terms of each text."""
        stop, split, lower = self._stop, self._split, self.lower
        out = [[t for t in split(x.lower() if lower else x) if t not in stop] for x in texts]
        if self._stem is None:
            return out
        return [self._stem(terms) if terms else terms for terms in out]

    def to_dict(self) -> dict[str, Any]:
        stopwords = list(self.stopwords) if isinstance(self.stopwords, tuple) else self.stopwords
        return {
            "lower": self.lower,
            "stopwords": stopwords,
            "stemmer": self.stemmer,
            "pattern": self.pattern,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokenizer:
        return cls(
            lower=bool(data.get("lower", True)),
            stopwords=data.get("stopwords", "en"),
            stemmer=data.get("stemmer"),
            pattern=str(data.get("pattern", TOKEN_PATTERN)),
        )

    def __repr__(self) -> str:
        return f"Tokenizer(stopwords={self.stopwords!r}, stemmer={self.stemmer!r})"


def _make_stemmer(language: str) -> Any:
    try:
        import Stemmer
    except ImportError as e:
        raise MissingDependencyError("PyStemmer", "retrieval", "Stemming for BM25") from e
    try:
        return Stemmer.Stemmer(language).stemWords
    except KeyError as e:
        raise UsageError(
            f"PyStemmer has no stemmer for {language!r}; pick one of "
            f"{sorted(Stemmer.algorithms())} or pass stemmer=None"
        ) from e
