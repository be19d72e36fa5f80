"""The :class:`IngestReport`: what one ingestion did, per file and per chunk."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class IngestReport:
    """Files by source (added, updated, unchanged, deleted, skipped with a reason) and chunk
    counts. ``chunks_updated`` are stored chunks whose text is unchanged but whose metadata
    (position, file hash, ...) changed; ``embedded`` counts texts sent to the embedder."""

    files_added: list[str] = field(default_factory=list)
    files_updated: list[str] = field(default_factory=list)
    files_unchanged: list[str] = field(default_factory=list)
    files_deleted: list[str] = field(default_factory=list)
    files_skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_unchanged: int = 0
    chunks_deleted: int = 0
    embedded: int = 0
    commits: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"files: {len(self.files_added)} added, {len(self.files_updated)} updated, "
            f"{len(self.files_unchanged)} unchanged, {len(self.files_deleted)} deleted, "
            f"{len(self.files_skipped)} skipped",
            f"chunks: {self.chunks_added} added, {self.chunks_updated} updated, "
            f"{self.chunks_unchanged} unchanged, {self.chunks_deleted} deleted "
            f"({self.embedded} embedded, {self.commits} commits) in {self.seconds:.1f}s",
        ]
        lines += [f"  skipped {source}: {reason}" for source, reason in self.files_skipped]
        lines += [f"  note {source}: {note}" for source, note in self.notes]
        return "\n".join(lines)
