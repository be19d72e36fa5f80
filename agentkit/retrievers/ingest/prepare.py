"""The part of ingesting a file that needs no index state: read it, hash its bytes and,
unless the stored hash says it is unchanged, parse and split it.

:class:`~agentkit.retrievers.ingest.run.IngestRun` applies the :class:`Prepared` results in
file order, so where they are made does not matter: :func:`prepare_locally` makes them one
after another on this thread (lazily, overlapping the embedding thread); ``agentkit.scale``
makes them in Ray tasks. Either way the chunks are the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders import DirectoryLoader, UnreadableFileError
from agentkit.retrievers.loaders.base import encoding_note
from agentkit.retrievers.splitters import Splitter

# path, source, its loader, the file hash stored for it with this pipeline (None: none)
FileTask = tuple[Path, str, DirectoryLoader, str | None]
Preparer = Callable[[Sequence[FileTask], Splitter], Iterator["Prepared"]]


@dataclass
class Prepared:
    """One file read and hashed; ``chunks`` is None when the file is unchanged (its hash
    is the stored one) or cannot be read (``skipped`` says why)."""

    file_hash: str = ""
    chunks: list[Document] | None = None
    skipped: str | None = None
    note: str | None = None  # e.g. a non-UTF-8 encoding that was detected


def prepare_file(
    path: Path, source: str, loader: DirectoryLoader, splitter: Splitter, stored: str | None
) -> Prepared:
    """Read, hash and (unless its hash is ``stored``) parse and split one file."""
    try:
        data = loader.read(path, source)
        file_hash = hashlib.sha256(data).hexdigest()
        if file_hash == stored:
            return Prepared(file_hash)
        documents = loader.parse(path, source, data)
    except UnreadableFileError as e:
        return Prepared(skipped=e.reason)
    return Prepared(file_hash, splitter.split(documents), note=encoding_note(documents))


def prepare_locally(tasks: Sequence[FileTask], splitter: Splitter) -> Iterator[Prepared]:
    """The :data:`Preparer` of a local run: each file in turn, when the caller asks."""
    for path, source, loader, stored in tasks:
        yield prepare_file(path, source, loader, splitter, stored)
