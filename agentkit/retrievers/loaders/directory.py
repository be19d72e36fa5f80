"""Directory loading: files chosen by glob, the loader chosen by extension, bad files
skipped and reported."""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import (
    DEFAULT_MAX_BYTES,
    Loader,
    LoadReport,
    UnreadableFileError,
    encoding_note,
    file_metadata,
    read_bytes,
)
from agentkit.retrievers.loaders.html import HTMLLoader
from agentkit.retrievers.loaders.pdf import PDFLoader
from agentkit.retrievers.loaders.tabular import CSVLoader, JSONLLoader
from agentkit.retrievers.loaders.text import MarkdownLoader, TextLoader

logger = logging.getLogger(__name__)

DEFAULT_LOADERS: Mapping[str, Loader] = {
    ".md": MarkdownLoader(),
    ".markdown": MarkdownLoader(),
    ".mdx": MarkdownLoader(),
    ".pdf": PDFLoader(),
    ".html": HTMLLoader(),
    ".htm": HTMLLoader(),
    ".xhtml": HTMLLoader(),
    ".csv": CSVLoader(),
    ".tsv": CSVLoader(delimiter="\t"),
    ".jsonl": JSONLLoader(),
    ".ndjson": JSONLLoader(),
}
FALLBACK_LOADER: Loader = TextLoader()


class DirectoryLoader:
    """Load every file under ``path`` matching ``glob``.

    Args:
        path: a folder (or a single file).
        glob: which files, relative to ``path`` (``"**/*.md"``).
        exclude: fnmatch patterns on the relative path (``"*.log"``, ``"build/*"``);
            ``*`` also crosses folders.
        max_bytes: larger files are skipped (default 20 MB).
        loaders: extension -> :class:`Loader`, overriding the defaults (Markdown, PDF,
            HTML, CSV/TSV, JSONL). Other extensions load as text; binary files are skipped.
        include_hidden: also load files and folders whose name starts with ``.``.

    Every document's ``source`` is its path relative to ``path`` (POSIX separators).
    """

    def __init__(
        self,
        path: str | Path,
        glob: str = "**/*",
        exclude: Sequence[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        loaders: Mapping[str, Loader] | None = None,
        include_hidden: bool = False,
    ) -> None:
        if isinstance(exclude, str):
            raise UsageError(f"exclude must be a list of patterns, e.g. [{exclude!r}]")
        if not isinstance(max_bytes, int) or max_bytes < 1:
            raise UsageError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        self.path = Path(path)
        self.glob = glob
        self.exclude = tuple(exclude)
        self.max_bytes = max_bytes
        self.loaders = {**DEFAULT_LOADERS, **{_ext(k): v for k, v in (loaders or {}).items()}}
        self.include_hidden = include_hidden

    def files(self) -> list[tuple[Path, str]]:
        """``(path, source)`` of each selected file, sorted by source."""
        if not self.path.exists():
            raise UsageError(f"{self.path} does not exist; pass an existing folder or file")
        if self.path.is_file():
            return [(self.path, self.path.name)]
        selected = []
        for file in self.path.glob(self.glob):
            source = file.relative_to(self.path).as_posix()
            if not self.include_hidden and any(p.startswith(".") for p in source.split("/")):
                continue
            if any(fnmatch.fnmatch(source, pattern) for pattern in self.exclude):
                continue
            if file.is_file():
                selected.append((file, source))
        return sorted(selected, key=lambda item: item[1])

    def loader_for(self, path: Path) -> Loader:
        return self.loaders.get(path.suffix.lower(), FALLBACK_LOADER)

    def read(self, path: Path, source: str) -> bytes:
        """The bytes of one file (size limit and I/O errors raise UnreadableFileError)."""
        return read_bytes(path, source, self.max_bytes)

    def parse(self, path: Path, source: str, data: bytes) -> list[Document]:
        """Documents of one file's bytes, by the loader for its extension."""
        return self.loader_for(path).parse(data, source, file_metadata(path))

    def load_with_report(self) -> tuple[list[Document], LoadReport]:
        """All documents, and the report of loaded and skipped files."""
        documents: list[Document] = []
        report = LoadReport()
        for path, source in self.files():
            try:
                loaded = self.parse(path, source, self.read(path, source))
            except UnreadableFileError as e:
                report.skipped.append((source, e.reason))
                continue
            documents.extend(loaded)
            report.loaded.append(source)
            note = encoding_note(loaded)
            if note:
                report.notes.append((source, note))
        return documents, report

    def load(self) -> list[Document]:
        """All documents; skipped files are logged (use :meth:`load_with_report`)."""
        documents, report = self.load_with_report()
        for source, reason in report.skipped:
            logger.warning("skipped %s: %s", source, reason)
        return documents


def _ext(extension: str) -> str:
    extension = extension.lower()
    return extension if extension.startswith(".") else "." + extension


def load_file(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Documents of one file, with the loader for its extension (``source`` = the path)."""
    file = Path(path)
    loader = DEFAULT_LOADERS.get(file.suffix.lower(), FALLBACK_LOADER)
    return loader.load(file, max_bytes)
