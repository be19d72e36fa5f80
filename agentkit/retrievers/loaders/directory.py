"""Directory loading: files chosen by glob, the loader chosen by extension, bad files
skipped and reported.

Only regular files are read. A symbolic link is followed only to a file inside the loaded
folder (or, for ingestion, inside any of the ingested folders): a link to a file elsewhere
(``d/s.txt -> /etc/shadow``) is skipped and reported unless ``follow_symlinks=True``. Links
to folders are never followed; broken links, link loops, FIFOs, devices and sockets are
skipped and reported, never opened.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict

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


class FileOptions(TypedDict, total=False):
    """A :class:`DirectoryLoader`'s file selection and loaders, as keywords: what an
    :class:`~agentkit.retrievers.ingest.Ingestor` passes on to the loader of each path."""

    glob: str
    exclude: Sequence[str]
    max_bytes: int
    loaders: Mapping[str, Loader] | None
    include_hidden: bool
    follow_symlinks: bool


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
        follow_symlinks: also load files that symbolic links point to outside ``path``
            (by default such links are skipped and reported: a folder of documents must
            not be able to pull in ``/etc/shadow``).

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
        follow_symlinks: bool = False,
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
        self.follow_symlinks = follow_symlinks

    def files(self) -> list[tuple[Path, str]]:
        """``(path, source)`` of each selected file, sorted by source."""
        return self.scan()[0]

    def scan(
        self, within: Sequence[Path] = ()
    ) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
        """The selected files as ``(path, source)`` sorted by source, and the matching
        entries that are skipped as ``(path, reason)``: links out of ``within`` (default:
        this loader's folder), links to folders, broken links, link loops, FIFOs, devices.
        """
        if not self.path.exists():
            raise UsageError(f"{self.path} does not exist; pass an existing folder or file")
        if self.path.is_file():
            return [(self.path, self.path.name)], []
        roots = [Path(os.path.realpath(r)) for r in (within or [self.path])]
        selected, skipped = [], []
        for file in self.path.glob(self.glob):
            source = file.relative_to(self.path).as_posix()
            if not self.include_hidden and any(p.startswith(".") for p in source.split("/")):
                continue
            if any(fnmatch.fnmatch(source, pattern) for pattern in self.exclude):
                continue
            reason = self._refusal(file, roots)
            if reason is None:
                selected.append((file, source))
            elif reason:
                skipped.append((file, reason))
        return sorted(selected, key=lambda item: item[1]), sorted(skipped)

    def _refusal(self, file: Path, roots: Sequence[Path]) -> str | None:
        """Why ``file`` is not loaded (``""``: a plain folder, not worth a report line),
        or ``None`` when it is."""
        link = file.is_symlink()
        try:
            mode = file.stat().st_mode
        except FileNotFoundError:
            return "broken symbolic link (its target does not exist)" if link else ""
        except (OSError, RuntimeError):  # ELOOP: a link loop
            return "symbolic link loop" if link else "cannot read its file status"
        if stat.S_ISDIR(mode):
            return "symbolic link to a folder (links to folders are not followed)" if link else ""
        if not stat.S_ISREG(mode):
            return "not a regular file (a FIFO, device or socket): never read"
        if self.follow_symlinks:
            return None
        target = Path(os.path.realpath(file))
        if any(target.is_relative_to(root) for root in roots):
            return None
        return (
            f"a symbolic link leads to {target}, outside the ingested folders; pass "
            "--follow-symlinks (follow_symlinks=True) to index what links point to"
        )

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
        files, skipped = self.scan()
        for path, reason in skipped:
            report.skipped.append((path.relative_to(self.path).as_posix(), reason))
        for path, source in files:
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


def load_documents(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Documents of one file, with the loader for its extension (``source`` = the path)."""
    file = Path(path)
    loader = DEFAULT_LOADERS.get(file.suffix.lower(), FALLBACK_LOADER)
    return loader.load(file, max_bytes)


load_file = load_documents  # the earlier name, kept (agentkit.load loads a spec file)
