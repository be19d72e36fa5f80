"""The loader contract, the skip report and text decoding shared by every loader.

A :class:`Loader` turns one file's bytes into documents (``parse``). A file that cannot be
read raises :class:`UnreadableFileError` with a short reason; directory loading and
ingestion skip such files and list them in a :class:`LoadReport`.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import RunError
from agentkit.retrievers.document import Document

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_SAMPLE = 1 << 16
UTF8_ENCODINGS = frozenset({"utf-8", "utf-8-sig", "utf-16"})
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a FIFO must not wait for a writer
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows


class UnreadableFileError(RunError):
    """A file that cannot be loaded. ``reason`` is the short text shown in reports."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"cannot load {path}: {reason}. Fix or remove the file; directory loading and "
            "ingestion skip such files and list them in the report"
        )


@dataclass
class LoadReport:
    """What a load did: ``loaded`` sources, ``skipped`` (source, reason) pairs, and
    ``notes`` (source, remark) such as a non-UTF-8 encoding that was detected."""

    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"loaded {len(self.loaded)} file(s), skipped {len(self.skipped)}"]
        lines += [f"  skipped {source}: {reason}" for source, reason in self.skipped]
        lines += [f"  note {source}: {note}" for source, note in self.notes]
        return "\n".join(lines)


def encoding_note(documents: list[Document]) -> str | None:
    """The report note for documents decoded from a non-UTF text encoding, if any."""
    encoding = documents[0].metadata.get("encoding") if documents else None
    if encoding is None or encoding in UTF8_ENCODINGS:
        return None
    return f"not valid UTF-8; decoded as {encoding}"


class Loader(ABC):
    """Turns the bytes of one file into documents. Implement :meth:`parse`."""

    @abstractmethod
    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        """Documents of one file. ``metadata`` (file name, extension) goes on each of them.
        Raise :class:`UnreadableFileError` when the content cannot be used."""

    def load(self, path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
        """Read and parse one file; its ``source`` is the path as given."""
        file = Path(path)
        return self.parse(read_bytes(file, str(path), max_bytes), str(path), file_metadata(file))


def file_metadata(path: Path) -> dict[str, Any]:
    return {"file_name": path.name, "extension": path.suffix.lower()}


def read_bytes(path: Path, source: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes, or :class:`UnreadableFileError` (too large, no permission, ...).

    Only a regular file is read, and never more than ``max_bytes``: the file is opened
    without blocking and checked on its open descriptor, so a FIFO or a device
    (``/dev/zero``), even one swapped in after the folder was listed, is refused at once."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _BINARY)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(path)
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableFileError(source, "not a regular file (a FIFO, device or socket)")
            data = b"" if info.st_size > max_bytes else _read_at_most(fd, max_bytes + 1)
        finally:
            os.close(fd)
        size = max(info.st_size, len(data))
        if size > max_bytes:
            raise UnreadableFileError(
                source, f"file too large ({_mb(size)} > {_mb(max_bytes)} limit; raise max_bytes)"
            )
        return data
    except PermissionError as e:
        raise UnreadableFileError(source, "permission denied") from e
    except IsADirectoryError as e:
        raise UnreadableFileError(source, "is a directory") from e
    except FileNotFoundError as e:
        raise UnreadableFileError(source, "file not found") from e
    except OSError as e:
        raise UnreadableFileError(source, f"cannot read ({e.strerror or e})") from e


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """``(text, encoding)`` of a text file. UTF-8 (with or without BOM) and UTF-16 with a
    BOM are decoded as such; other text that is clearly text is decoded as cp1252 or
    Latin-1. Empty, binary and undecodable files raise :class:`UnreadableFileError`.
    Line endings are normalised to ``\\n``."""
    if not data.strip():
        raise UnreadableFileError(
            source, "empty file" if not data else "empty file (whitespace only)"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text, encoding = _strict(data, "utf-16", source), "utf-16"
    elif data.startswith(codecs.BOM_UTF8):
        text, encoding = _strict(data, "utf-8-sig", source), "utf-8-sig"
    elif b"\x00" in data:
        raise UnreadableFileError(source, "binary file")
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "latin-1"
    sample = text[:_SAMPLE]
    if len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise UnreadableFileError(source, "binary file")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UnreadableFileError(source, "empty file (whitespace only)")
    return text, encoding


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        raise UnreadableFileError(
            source, f"undecodable: invalid {encoding} at byte {e.start} despite its byte-order mark"
        ) from e
