"""``agentkit ingest PATH... --index DIR``: add files and folders to an index (incremental)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import out


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files and folders to index."),
    index: Path = typer.Option(..., "--index", help="The index folder (created if new)."),
    embedder: str = typer.Option(
        None,
        "--embedder",
        help="For a new index: 'default' (MiniLM) or 'hashing' (model-free). An existing "
        "index keeps its own.",
    ),
    glob: str = typer.Option("**/*", "--glob", help="Which files inside folders."),
    exclude: list[str] = typer.Option(None, "--exclude", help="fnmatch patterns to skip."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Index files and folders: new and changed files are embedded, removed ones deleted."""
    from agentkit.app.retrieval import make_embedder
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.retrievers.ingest.manifest import embedder_from, read_manifest

    folder = index.expanduser()
    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is not None and embedder is None:
        chosen = embedder_from(folder, manifest)
    else:
        chosen = make_embedder(embedder or "default")
    ingestor = Ingestor(folder, chosen, progress=progress, glob=glob, exclude=exclude or ())
    report = ingestor.ingest(paths)
    table = Table(title=f"Index {folder}", title_justify="left")
    table.add_column("status")
    table.add_column("file")
    table.add_column("reason")
    for status, files in (
        ("added", report.files_added),
        ("updated", report.files_updated),
        ("unchanged", report.files_unchanged),
        ("deleted", report.files_deleted),
    ):
        for name in files:
            table.add_row(status, Text(name), "")
    for name, reason in report.files_skipped:
        table.add_row("skipped", Text(name), Text(reason))
    out.print(table)
    chunks = len(ingestor.store) if ingestor.store is not None else 0
    out.print(
        f"{chunks} chunks in the index; this run: {report.chunks_added} added, "
        f"{report.chunks_updated} updated, {report.chunks_deleted} deleted, "
        f"{report.embedded} embedded in {report.seconds:.1f} s",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
