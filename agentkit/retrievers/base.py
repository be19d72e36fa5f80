"""Contracts of the retrieval layer (one abstract method each).

- :class:`Embedder` — ``embed_batch(texts) -> float32 ndarray``.
- :class:`VectorStore` — ``search(vectors, k, filter) -> hits``; add/upsert/delete/persist.
- :class:`Retriever` — ``retrieve(query, k) -> list[Document]``; it is a Runnable.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentkit.core.config import ConfigLike
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable
from agentkit.retrievers.document import Document
from agentkit.retrievers.hit import Hit

if TYPE_CHECKING:
    import numpy as np

# A metadata filter: {"field": value} (equality; a list value means "any of"), or a
# predicate over the metadata dict.
Filter = Mapping[str, Any] | Callable[[Mapping[str, Any]], bool] | None


def matches(metadata: Mapping[str, Any], flt: Filter) -> bool:
    """Whether a document's metadata passes a filter."""
    if flt is None:
        return True
    if callable(flt):
        return bool(flt(metadata))
    for key, wanted in flt.items():
        value = metadata.get(key)
        if isinstance(wanted, list | tuple | set | frozenset):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors. ``embed_batch`` is the one method to implement."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape ``(len(texts), dimension)``, L2-normalised."""
        ...


def embed_one(embedder: Embedder, text: str) -> np.ndarray:
    """The vector of one text (shape ``(dimension,)``)."""
    return embedder.embed_batch([text])[0]


@runtime_checkable
class VectorStore(Protocol):
    """Stores vectors with their documents and finds nearest neighbours.

    The whole surface, stated truthfully: a vector store is searched (:meth:`search`, the
    method retrievers call) and maintained (:meth:`add`, :meth:`upsert`, :meth:`delete`,
    :meth:`get`, :meth:`ids`, ``len()``, :meth:`save`), nine members in all. Writing a new
    store? Subclass :class:`agentkit.retrievers.vectorstores.common.BaseVectorStore`: it
    implements all nine over six small index hooks (``_add_vectors``, ``_remove_vectors``,
    ``_raw_search``, ``_vectors``, ``_index_size``, ``_write_index``) and keeps the
    documents, ids, filters, MMR and atomic saving in one place; then run
    :class:`agentkit.testing.vectorstore.VectorStoreConformance` against it.
    """

    @property
    def dimension(self) -> int: ...

    def search(self, vectors: np.ndarray, k: int = 4, filter: Filter = None) -> list[list[Hit]]:
        """Top-``k`` hits for each query vector (shape ``(n, dimension)``), best first."""
        ...

    def add(self, documents: Sequence[Document], vectors: np.ndarray) -> None: ...

    def upsert(self, documents: Sequence[Document], vectors: np.ndarray) -> None: ...

    def delete(self, ids: Sequence[str]) -> int: ...

    def get(self, ids: Sequence[str]) -> list[Document]: ...

    def ids(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def save(self, path: str) -> None: ...


class Retriever(Runnable[str, list[Document]]):
    """A Runnable from a query to documents. Implement :meth:`retrieve`."""

    kind = "retriever"

    def __init__(self, k: int = 4) -> None:
        check_k(k)
        self.k = k

    @abstractmethod
    def retrieve(self, query: str, k: int) -> list[Document]:
        """The ``k`` best documents for ``query``, best first, each with ``score`` set."""

    def invoke(self, input: str, config: ConfigLike = None) -> list[Document]:
        if isinstance(input, Mapping):
            input = _query_from(input)
        if not isinstance(input, str):
            raise UsageError(f"{self.name} takes a query string, got {type(input).__name__}")
        return self.retrieve(input, self.k)

    def _with_params(self, params: Mapping[str, Any]) -> Runnable[str, list[Document]]:
        import copy

        if set(params) - {"k"}:
            raise UsageError(f"{self.name}.bind takes only k, got {sorted(params)}")
        clone = copy.copy(self)
        check_k(params["k"])
        clone.k = params["k"]
        return clone


def _query_from(data: Mapping[str, Any]) -> str:
    for key in ("query", "question", "input"):
        if isinstance(data.get(key), str):
            return str(data[key])
    raise UsageError(
        f"a retriever given a dict needs a 'query', 'question' or 'input' key; got {sorted(data)}"
    )


def check_k(k: int) -> None:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}")
