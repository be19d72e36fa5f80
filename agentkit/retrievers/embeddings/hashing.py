""":class:`HashingEmbedder`: a deterministic, model-free embedder for tests and demos."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.retrievers.base import BaseEmbedder

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def _bucket(token: str, dimension: int) -> tuple[int, float]:
    """Stable (bucket, sign) of a token: blake2b, never Python's salted ``hash()``."""
    value = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")
    return value % dimension, (1.0 if (value >> 63) == 0 else -1.0)


class HashingEmbedder(BaseEmbedder):
    """Hashes lower-cased words and word bigrams into ``dimension`` signed buckets.

    Texts sharing words get similar vectors, so it behaves like a (weak) real embedder in
    tests; the same text gives the same vector in every process. Vectors are L2-normalised
    float32; a text without words maps to the zero vector.
    """

    def __init__(self, dimension: int = 256) -> None:
        if not isinstance(dimension, int) or isinstance(dimension, bool) or dimension < 2:
            raise UsageError(
                f"HashingEmbedder dimension must be an integer >= 2, got {dimension!r}"
            )
        self._dimension = dimension

    @property
    def model_id(self) -> str:
        return f"hashing-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise UsageError("embed_batch takes a list of texts; wrap a single text as [text]")
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            tokens = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            vec = out[row]
            for token in tokens:
                index, sign = _bucket(token, self._dimension)
                vec[index] += sign
            norm = float(np.linalg.norm(vec))
            if norm > 0:
                vec /= norm
        return out

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self._dimension})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "hashing_embedder", "dimension": self._dimension}


spec.add_builder("hashing_embedder", lambda ctx: HashingEmbedder(ctx.get("dimension", int, 256)))
