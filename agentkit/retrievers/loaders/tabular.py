"""Row-per-document loaders: CSV (like the classic CSV loader) and JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import Loader, UnreadableFileError, decode_text

_SCALAR = (str, int, float, bool, type(None))
ROW_MARK = "#row="


def row_source(source: str, row: int) -> str:
    """The source of data row ``row`` (0-based) of a table: ``"catalog.csv#row=<row + 1>"``."""
    return f"{source}{ROW_MARK}{row + 1}"


@dataclass(frozen=True)
class CSVLoader(Loader):
    """One document per CSV row (the first row is the header).

    The text is ``"column: value"`` lines of ``content_columns`` (default: every column
    not in ``metadata_columns``); ``metadata_columns`` values go into the metadata, with
    ``row`` (0-based data row). Rows whose content is empty are left out.

    Each row's ``source`` names its row, ``"catalog.csv#row=3"`` (data rows counted from 1,
    the header not counted), so citations point at the row; ``metadata["file_source"]``
    keeps the file's own source (ingestion tracks the file by it).
    """

    content_columns: Sequence[str] | None = None
    metadata_columns: Sequence[str] = ()
    delimiter: str = ","

    def __post_init__(self) -> None:
        if isinstance(self.content_columns, str) or isinstance(self.metadata_columns, str):
            raise UsageError(
                "CSVLoader columns must be a list of names, e.g. content_columns=['question']"
            )
        object.__setattr__(
            self,
            "content_columns",
            None if self.content_columns is None else tuple(self.content_columns),
        )
        object.__setattr__(self, "metadata_columns", tuple(self.metadata_columns))

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        text, encoding = decode_text(data, source)
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        try:
            header = list(reader.fieldnames or [])
            wanted = [*(self.content_columns or ()), *self.metadata_columns]
            missing = [c for c in wanted if c not in header]
            if missing:
                raise UnreadableFileError(
                    source, f"CSV has no column(s) {missing}; its columns are {header}"
                )
            content = self.content_columns or [c for c in header if c not in self.metadata_columns]
            documents = []
            for row_number, row in enumerate(reader):
                body = "\n".join(f"{c}: {(row.get(c) or '').strip()}" for c in content)
                if not any((row.get(c) or "").strip() for c in content):
                    continue
                meta = {**metadata, "encoding": encoding, "row": row_number}
                meta.update({c: row.get(c) for c in self.metadata_columns})
                meta["file_source"] = source
                documents.append(
                    Document(body, metadata=meta, source=row_source(source, row_number))
                )
        except csv.Error as e:
            raise UnreadableFileError(source, f"malformed CSV ({e})") from e
        if not documents:
            raise UnreadableFileError(source, "CSV has no rows with content")
        return documents


@dataclass(frozen=True)
class JSONLLoader(Loader):
    """One document per JSON Lines record: the text is ``record[text_key]``; metadata is
    ``metadata_keys`` (default: every other key with a scalar value) plus ``line``
    (1-based). Blank lines and records with an empty text are left out."""

    text_key: str = "text"
    metadata_keys: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.metadata_keys, str):
            raise UsageError("JSONLLoader metadata_keys must be a list, e.g. ['title']")
        if self.metadata_keys is not None:
            object.__setattr__(self, "metadata_keys", tuple(self.metadata_keys))

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        text, encoding = decode_text(data, source)
        documents = []
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise UnreadableFileError(source, f"line {number} is not valid JSON ({e})") from e
            if not isinstance(record, dict) or self.text_key not in record:
                raise UnreadableFileError(
                    source,
                    f"line {number} has no {self.text_key!r} key; "
                    "set JSONLLoader(text_key=...) to the field holding the text",
                )
            value = record[self.text_key]
            body = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            if not body.strip():
                continue
            meta = {**metadata, "encoding": encoding, "line": number}
            meta.update(self._metadata(record))
            documents.append(Document(body, metadata=meta, source=source))
        if not documents:
            raise UnreadableFileError(source, f"no record has a non-empty {self.text_key!r}")
        return documents

    def _metadata(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.metadata_keys is not None:
            return {key: record.get(key) for key in self.metadata_keys}
        return {
            key: value
            for key, value in record.items()
            if key != self.text_key and isinstance(value, _SCALAR)
        }
