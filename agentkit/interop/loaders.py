"""LangChain document loaders and LlamaIndex readers as agentkit file loaders, for ingestion.

``agentkit ingest data.csv --loader langchain_community.document_loaders.CSVLoader`` uses
:func:`loader_from_path`. Naming a class imports code, so the rule is: a dotted path under
:data:`TRUSTED_PREFIXES` (LangChain's and LlamaIndex's loader packages) is imported because
the user typed it on the command line; any other module is refused unless the caller opts
in with ``allow_imports=True`` (the Python API; the CLI never does). Paths are never read
from data files.

Each file's bytes (already read and hashed by the ingestor) are written to a temporary file
with the same suffix, which the foreign loader reads; the temporary path in the documents'
metadata is replaced by the file's real source, other metadata (``row``, ``page``) is kept.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import Loader, UnreadableFileError

TRUSTED_PREFIXES = (
    "langchain_community.document_loaders.",
    "langchain_core.document_loaders.",
    "llama_index.",
)
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def resolve_loader_class(path: str, *, allow_imports: bool = False) -> type:
    """The loader class named by ``path`` (``package.module.Class``), under the rule above."""
    if not isinstance(path, str) or not _DOTTED.match(path):
        raise UsageError(
            f"--loader must be a dotted class path such as "
            f"langchain_community.document_loaders.CSVLoader, got {path!r}"
        )
    if not path.startswith(TRUSTED_PREFIXES) and not allow_imports:
        raise UsageError(
            f"loader {path!r} is outside the loader packages agentkit imports by name "
            f"({', '.join(p.rstrip('.') for p in TRUSTED_PREFIXES)}); to use other code, "
            "pass the class itself: ForeignFileLoader(MyLoader), or allow_imports=True"
        )
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(
            f"cannot import {module_name!r} for --loader {path!r} ({exc}); install it "
            "(pip install 'agentkit[interop]' langchain-community)"
        ) from exc
    cls = getattr(module, attr, None)
    if not isinstance(cls, type) or not (hasattr(cls, "load") or hasattr(cls, "load_data")):
        raise UsageError(
            f"{path!r} is not a document loader class (a LangChain BaseLoader with load() or "
            "a LlamaIndex reader with load_data())"
        )
    return cls


class ForeignFileLoader(Loader):
    """An agentkit :class:`Loader` running a LangChain loader class (``cls(path).load()``)
    or a LlamaIndex reader class (``cls().load_data(file=path)``); ``options`` go to the
    class."""

    def __init__(self, cls: type, **options: Any) -> None:
        if not isinstance(cls, type):
            raise UsageError(f"ForeignFileLoader needs a loader class, got {cls!r}")
        self.cls, self.options = cls, options

    def __repr__(self) -> str:
        return f"ForeignFileLoader({self.cls.__module__}.{self.cls.__qualname__})"

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        fd, tmp = tempfile.mkstemp(suffix=Path(source).suffix, prefix="agentkit-load-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            try:
                loaded = self._load(tmp)
            except UsageError:
                raise
            except Exception as exc:
                raise UnreadableFileError(
                    source, f"{self.cls.__name__} failed: {type(exc).__name__}: {exc}"
                ) from exc
        finally:
            Path(tmp).unlink(missing_ok=True)
        return [_document(item, tmp, source, metadata, i) for i, item in enumerate(loaded)]

    def _load(self, path: str) -> list[Any]:
        if hasattr(self.cls, "load_data") and not hasattr(self.cls, "lazy_load"):
            return list(self.cls(**self.options).load_data(file=Path(path)))
        return list(self.cls(path, **self.options).load())


def _document(item: Any, tmp: str, source: str, base: dict[str, Any], index: int) -> Document:
    text = getattr(item, "page_content", None)
    if text is None:
        text = item.get_content() if hasattr(item, "get_content") else str(item)
    raw = dict(getattr(item, "metadata", None) or {})
    meta = {**base}
    for key, value in raw.items():
        if isinstance(value, str) and tmp in value:
            value = value.replace(tmp, source)
        elif isinstance(value, str) and Path(tmp).name in value:
            value = value.replace(Path(tmp).name, Path(source).name)
        meta[key] = value
    meta.setdefault("source", source)
    ident = f"{source}#{index}"
    return Document(str(text), ident, meta, source)


def cli_loaders(spec: str, paths: Sequence[Path]) -> dict[str, Loader]:
    """The ingest loaders of ``--loader``: ``CLASS`` applies to the extensions of the files
    given; ``.ext=CLASS`` to that extension (needed when only folders are given)."""
    ext, sep, path = spec.partition("=")
    if not sep:
        ext, path = "", spec
    cls = resolve_loader_class(path.strip())
    if ext:
        extensions = [ext.strip().lower()]
        if not re.fullmatch(r"\.\w+", extensions[0]):
            raise UsageError(f"--loader extension must look like '.csv', got {ext!r}")
    else:
        extensions = sorted({Path(p).suffix.lower() for p in paths if Path(p).suffix})
        if not extensions or any(Path(p).is_dir() for p in paths):
            raise UsageError(
                "--loader CLASS applies to the types of the files given; for folders name the "
                f"extension: --loader .csv={path}"
            )
    loader = ForeignFileLoader(cls)
    return dict.fromkeys(extensions, loader)
