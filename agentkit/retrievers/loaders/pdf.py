"""PDF loader (pypdf, imported on first use): one document per page with text."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import MissingDependencyError
from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.base import Loader, UnreadableFileError


@dataclass(frozen=True)
class PDFLoader(Loader):
    """One document per page that has extractable text; ``metadata["page"]`` is 1-based
    and ``metadata["pages"]`` the page count. Pages without text (scans) are left out;
    corrupt, truncated and encrypted PDFs raise :class:`UnreadableFileError`."""

    def parse(self, data: bytes, source: str, metadata: dict[str, Any]) -> list[Document]:
        try:
            import pypdf
        except ImportError as e:
            raise MissingDependencyError("pypdf", "retrieval", "Loading PDF files") from e
        if not data:
            raise UnreadableFileError(source, "empty file")
        if b"%PDF-" not in data[:1024]:
            raise UnreadableFileError(source, "not a PDF (no %PDF- header)")
        pdf_logger = logging.getLogger("pypdf")
        level = pdf_logger.level
        pdf_logger.setLevel(logging.ERROR)  # pypdf logs a warning per recoverable glitch
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                raise UnreadableFileError(source, "encrypted PDF")
            texts = [page.extract_text() or "" for page in reader.pages]
        except UnreadableFileError:
            raise
        except Exception as e:  # pypdf raises many types on damaged files
            raise UnreadableFileError(source, f"corrupt or truncated PDF ({e})") from e
        finally:
            pdf_logger.setLevel(level)
        documents = [
            Document(
                text,
                metadata={**metadata, "page": number, "pages": len(texts)},
                source=source,
            )
            for number, text in enumerate(texts, 1)
            if text.strip()
        ]
        if not documents:
            raise UnreadableFileError(source, "PDF has no extractable text (scanned images?)")
        return documents
