"""Incremental ingestion: files -> loader -> splitter -> content hash -> embedder -> store.

The vector store is the single source of truth. Each chunk carries ``path`` (the file),
``file_hash`` (sha256 of the file's bytes), ``content_hash`` (of the chunk text) and
``pipeline`` (a fingerprint of the loaders and splitter) in its metadata. A re-run skips an
unchanged file after hashing its bytes (no parsing, splitting or embedding), embeds only new
chunk texts, re-stores moved or re-labelled chunks with their stored vectors, and deletes
the chunks of removed text and of files that disappeared. Work is committed (an atomic
``store.save``) every ``commit_every`` files or ``commit_seconds`` and at the end: a killed
run loses nothing already committed, and the next run completes it with every chunk once.
"""

from agentkit.retrievers.ingest.ingestor import Ingestor
from agentkit.retrievers.ingest.manifest import MANIFEST, STORE_DIR, store_path
from agentkit.retrievers.ingest.report import IngestReport

__all__ = ["MANIFEST", "STORE_DIR", "IngestReport", "Ingestor", "store_path"]
