"""Re-ranking: a :class:`Reranker` re-orders a retriever's candidates by a finer model.

- :class:`CrossEncoderReranker` scores (query, document) pairs with a sentence-transformers
  ``CrossEncoder`` from a local folder (or a hub id already in the local cache).
- :class:`RerankingRetriever` fetches ``fetch_k`` candidates and keeps the reranker's top ``k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentkit.core import spec
from agentkit.core.compose import Lambda
from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import Call, FlowGen
from agentkit.core.runnable import Runnable
from agentkit.retrievers.base import FlowRetriever, Retriever, check_k
from agentkit.retrievers.document import Document
from agentkit.retrievers.st_loading import LocalModel, ModelKind

if TYPE_CHECKING:
    import numpy as np

_KIND = ModelKind(
    "CrossEncoder",
    "cross-encoder",
    "CrossEncoderReranker",
    "Pass the folder of a model saved with CrossEncoder.save_pretrained",
)


@runtime_checkable
class Reranker(Protocol):
    """Re-orders candidate documents for a query; returns the best ``k`` with scores set."""

    def rerank(self, query: str, documents: Sequence[Document], k: int) -> list[Document]: ...


class CrossEncoderReranker:
    """Scores (query, document text) pairs with a sentence-transformers ``CrossEncoder``.

    Args:
        model: a local model folder, or a hub id present in the local cache.
        batch_size: pairs per forward pass.
        device: ``"cuda"``, ``"cpu"``, ...; ``None`` lets sentence-transformers pick.
        max_length: truncate pairs to this many tokens (default: the model's).
        allow_download: let a hub id missing from the cache be downloaded.
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        device: str | None = None,
        max_length: int | None = None,
        allow_download: bool = False,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.model, self.batch_size, self.device = model, batch_size, device
        self.max_length, self.allow_download = max_length, allow_download
        self._ce = LocalModel(_KIND, str(model), allow_download, self._ce_options)

    def _ce_options(self) -> dict[str, Any]:
        return {"device": self.device, "max_length": self.max_length}

    def scores(self, query: str, documents: Sequence[Document]) -> np.ndarray:
        """The model's score for each (query, document) pair."""
        import numpy as np

        if not documents:
            return np.zeros(0, dtype=np.float32)
        pairs = [(query, d.text) for d in documents]
        raw = self._ce.get().predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return np.asarray(raw, dtype=np.float32).reshape(len(documents), -1)[:, 0]

    def rerank(self, query: str, documents: Sequence[Document], k: int) -> list[Document]:
        import numpy as np

        check_k(k)
        scores = self.scores(query, documents)
        order = np.argsort(-scores, kind="stable")[:k]
        return [documents[int(i)].with_score(float(scores[i])) for i in order]

    def __repr__(self) -> str:
        return f"CrossEncoderReranker(model={self.model!r})"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "cross_encoder_reranker", "model": self.model}
        data["batch_size"] = self.batch_size
        if self.device is not None:
            data["device"] = self.device
        if self.max_length is not None:
            data["max_length"] = self.max_length
        if self.allow_download:
            data["allow_download"] = True
        return data


class RerankingRetriever(FlowRetriever):
    """Asks ``retriever`` for ``fetch_k`` candidates and returns the reranker's best ``k``."""

    kind = "retriever"

    def __init__(
        self,
        retriever: Runnable[str, list[Document]],
        reranker: Reranker,
        fetch_k: int = 20,
        k: int = 4,
    ) -> None:
        Retriever.__init__(self, k)
        check_k(fetch_k)
        if not isinstance(reranker, Reranker):
            raise UsageError(
                f"reranker must have rerank(query, documents, k), got {type(reranker).__name__}"
            )
        self.retriever, self.reranker, self.fetch_k = retriever, reranker, fetch_k
        self._base = retriever.bind(k=fetch_k) if isinstance(retriever, Retriever) else retriever

    def _search(self, query: str, k: int, config: RunConfig) -> FlowGen:
        candidates = yield Call(self._base, query, config)
        step = Lambda(self._rerank, name="rerank", blocking=True)
        return (yield Call(step, (query, list(candidates), k), config))

    def _rerank(self, args: tuple[str, list[Document], int]) -> list[Document]:
        query, candidates, k = args
        return self.reranker.rerank(query, candidates, k) if candidates else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "reranking_retriever",
            "retriever": spec.dump(self.retriever),
            "reranker": spec.dump(self.reranker),
            "fetch_k": self.fetch_k,
            "k": self.k,
        }


spec.add_builder(
    "cross_encoder_reranker",
    lambda ctx: CrossEncoderReranker(
        ctx.get("model", str),
        batch_size=ctx.get("batch_size", int, 32),
        device=ctx.get("device", str, None),
        max_length=ctx.get("max_length", int, None),
        allow_download=ctx.get("allow_download", bool, False),
    ),
)
spec.add_builder(
    "reranking_retriever",
    lambda ctx: RerankingRetriever(
        ctx.runnable("retriever"),
        ctx.component("reranker"),
        fetch_k=ctx.get("fetch_k", int, 20),
        k=ctx.get("k", int, 4),
    ),
)
