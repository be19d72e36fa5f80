"""Contracts of the retrieval layer (one abstract method each).

- :class:`Embedder` — ``embed_batch(texts) -> float32 ndarray``; :class:`BaseEmbedder` builds
  LangChain's ``embed_query``/``embed_documents`` on it once.
- :class:`VectorStore` — ``search(vectors, k, filter) -> hits``; add/upsert/delete/persist.
- :class:`Retriever` — ``retrieve(query, k) -> list[Document]``; it is a Runnable
  (:class:`FlowRetriever`: one whose search is a flow over other runnables).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.flow import Flow, FlowGen, run_flow
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
    """Turns texts into vectors. ``embed_batch`` is the one method to implement; subclass
    :class:`BaseEmbedder` to get LangChain's ``embed_query``/``embed_documents`` built on it."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape ``(len(texts), dimension)``, L2-normalised."""
        ...


class BaseEmbedder(ABC):
    """Base class of agentkit's embedders: implement ``model_id``, ``dimension`` and the one
    abstract method, :meth:`embed_batch`; LangChain's spellings are built on it here."""

    @abstractmethod
    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape ``(len(texts), dimension)``, L2-normalised."""

    def embed_query(self, text: str) -> list[float]:
        """LangChain's spelling: the vector of one text, as floats."""
        return [float(x) for x in self.embed_batch([text])[0]]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """LangChain's spelling of :meth:`embed_batch`, as lists of floats."""
        return [[float(x) for x in row] for row in self.embed_batch(texts)]

    def embed_search_query(self, text: str) -> np.ndarray:
        """The vector a search uses for the query ``text`` (shape ``(dimension,)``): by
        default its document vector; an embedder with a cheaper query path overrides it."""
        return self.embed_batch([text])[0]


def embed_one(embedder: Embedder, text: str) -> np.ndarray:
    """The vector of one text (shape ``(dimension,)``)."""
    return embedder.embed_batch([text])[0]


def query_vector(embedder: Embedder, text: str) -> np.ndarray:
    """The vector a search uses for ``text``: the embedder's ``embed_search_query`` where it
    has one (a :class:`BaseEmbedder`), else its document vector."""
    method = getattr(embedder, "embed_search_query", None)
    return method(text) if callable(method) else embed_one(embedder, text)


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
        return self.retrieve(self._query(input), self.k)

    def _query(self, input: Any) -> str:
        """The query of an input: a string, or a dict with a query, question or input key."""
        if isinstance(input, Mapping):
            input = _query_from(input)
        if not isinstance(input, str):
            raise UsageError(f"{self.name} takes a query string, got {type(input).__name__}")
        return input

    def _with_params(self, params: Mapping[str, Any]) -> Runnable[str, list[Document]]:
        import copy

        if set(params) - {"k"}:
            raise UsageError(f"{self.name}.bind takes only k, got {sorted(params)}")
        clone = copy.copy(self)
        check_k(params["k"])
        clone.k = params["k"]
        return clone


class FlowRetriever(Flow[str, list[Document]], Retriever):
    """A retriever whose search calls other runnables (members, a reranker): implement
    :meth:`_search` as a flow; it then runs under both drivers (``invoke``, a native
    ``ainvoke``) and :meth:`retrieve` runs it to the end."""

    @abstractmethod
    def _search(self, query: str, k: int, config: RunConfig) -> FlowGen:
        """Yield operations; return the ``k`` best documents for ``query``."""

    def flow(self, input: str, config: RunConfig) -> FlowGen:
        return self._search(self._query(input), self.k, config)

    def retrieve(self, query: str, k: int) -> list[Document]:
        check_k(k)
        result: list[Document] = run_flow(self._search(query, k, ensure_config(None)))
        return result


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
