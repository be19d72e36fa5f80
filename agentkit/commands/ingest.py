"""``agentkit ingest PATH... --index DIR``: add files and folders to an index (incremental)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import out, printable
from agentkit.commands.options import (
    Executor,
    GpusPerActor,
    NewIndexEmbedder,
    RayActors,
    RayAddress,
)
from agentkit.scale.cluster import check_executor


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files and folders to index."),
    index: Path = typer.Option(..., "--index", help="The index folder (created if new)."),
    embedder: NewIndexEmbedder = None,
    glob: str = typer.Option("**/*", "--glob", help="Which files inside folders."),
    exclude: list[str] = typer.Option(None, "--exclude", help="fnmatch patterns to skip."),
    progress: bool = typer.Option(None, "--progress/--no-progress", help="Progress bar."),
    loader: str = typer.Option(
        None,
        "--loader",
        help="A LangChain loader or LlamaIndex reader class for the given files' types, "
        "e.g. langchain_community.document_loaders.CSVLoader ('.csv=CLASS' for folders).",
    ),
    follow_symlinks: bool = typer.Option(
        False,
        "--follow-symlinks",
        help="Also index files that symbolic links point to outside the given folders "
        "(by default such links are skipped and listed).",
    ),
    executor: Executor = "local",
    address: RayAddress = None,
    actors: RayActors = None,
    gpus_per_actor: GpusPerActor = 0.0,
    ivf: int = typer.Option(
        0,
        "--ivf",
        min=0,
        max=1_000_000,
        help="For a new large index: a FAISS IVF index of this many lists, trained on a "
        "sample (0: exact search, the default).",
    ),
    pq_m: int = typer.Option(
        0, "--pq-m", min=0, max=1024, help="With --ivf: PQ sub-quantizers (0: full vectors)."
    ),
) -> None:
    """Index files and folders: new and changed files are embedded, removed ones deleted."""
    from agentkit.interop.loaders import cli_loaders
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.workspace.indexes import index_embedder, make_embedder

    folder = index.expanduser()
    # an index keeps its own embedder; one asked for must match it (the Ingestor checks)
    chosen = make_embedder(embedder) if embedder is not None else index_embedder(folder)
    settings: dict[str, Any] = {
        "progress": progress,
        "glob": glob,
        "exclude": exclude or (),
        "follow_symlinks": follow_symlinks,
        "loaders": cli_loaders(loader, paths) if loader else None,
    }
    if pq_m and not ivf:
        raise typer.BadParameter("--pq-m needs --ivf N (the IVF lists the PQ codes live in)")
    if ivf:
        from agentkit.scale.ingest import ivf_store

        settings["store"] = ivf_store(ivf, pq_m=pq_m)
    if check_executor(executor, address, actors, gpus_per_actor) == "ray":
        from agentkit.scale import ray_ingest

        report, chunks = ray_ingest(
            paths, folder, chosen, address=address, actors=actors,
            gpus_per_actor=gpus_per_actor, **settings,
        )  # fmt: skip
    else:
        ingestor = Ingestor(folder, chosen, **settings)
        report = ingestor.ingest(paths)
        chunks = len(ingestor.store) if ingestor.store is not None else 0
    table = Table(title=Text(f"Index {printable(folder)}"), title_justify="left")
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
            table.add_row(status, Text(printable(name)), "")
    for name, reason in report.files_skipped:
        table.add_row("skipped", Text(printable(name)), Text(printable(reason)))
    out.print(table)
    out.print(
        f"{chunks} chunks in the index; this run: {report.chunks_added} added, "
        f"{report.chunks_updated} updated, {report.chunks_deleted} deleted, "
        f"{report.embedded} embedded in {report.seconds:.1f} s",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
