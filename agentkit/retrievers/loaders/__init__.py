"""Document loaders: text, Markdown, PDF, HTML, CSV, JSON Lines and whole folders.

A file that cannot be read (binary, empty, undecodable, corrupt PDF, too large, no
permission) raises :class:`UnreadableFileError`; :class:`DirectoryLoader` skips it and
lists it with the reason in a :class:`LoadReport`.
"""

from agentkit.retrievers.loaders.base import (
    DEFAULT_MAX_BYTES,
    Loader,
    LoadReport,
    UnreadableFileError,
    decode_text,
)
from agentkit.retrievers.loaders.directory import (
    DEFAULT_LOADERS,
    DirectoryLoader,
    FileOptions,
    load_documents,
    load_file,
)
from agentkit.retrievers.loaders.html import HTMLLoader, html_to_text
from agentkit.retrievers.loaders.pdf import PDFLoader
from agentkit.retrievers.loaders.tabular import CSVLoader, JSONLLoader
from agentkit.retrievers.loaders.text import MarkdownLoader, TextLoader

__all__ = [
    "DEFAULT_LOADERS",
    "DEFAULT_MAX_BYTES",
    "CSVLoader",
    "DirectoryLoader",
    "FileOptions",
    "HTMLLoader",
    "JSONLLoader",
    "LoadReport",
    "Loader",
    "MarkdownLoader",
    "PDFLoader",
    "TextLoader",
    "UnreadableFileError",
    "decode_text",
    "html_to_text",
    "load_documents",
    "load_file",
]
