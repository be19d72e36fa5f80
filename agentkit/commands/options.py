"""Options that several commands take alike, as ``Annotated`` types: each one's flag, range
and help are written once, and a command declares ``model: ModelSpec = "auto"``.

The Ray options (``--executor``, ``--address``, ``--actors``, ``--gpus-per-actor``) are the
ones of every command that can run its work on a Ray cluster (``agentkit ingest``,
``agentkit eval``); :func:`agentkit.scale.cluster.check_executor` checks them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentkit.core.refs import ALLOW_IMPORTS_HELP

ModelSpec = Annotated[str, typer.Option("--model", help="auto, extractive, hf:..., ollama:...")]
ChainRef = Annotated[
    str | None, typer.Option("--chain", help="A chain spec YAML or module:function.")
]
AllowImports = Annotated[bool, typer.Option("--allow-imports", help=ALLOW_IMPORTS_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
HistoryFile = Annotated[
    Path | None, typer.Option("--history", help="The SQLite chat history file.")
]
NewIndexEmbedder = Annotated[
    str | None,
    typer.Option(
        "--embedder",
        help="For a new index: 'default' (MiniLM) or 'hashing' (model-free). An existing "
        "index keeps its own.",
    ),
]

Executor = Annotated[
    str, typer.Option("--executor", help="'local', or 'ray': run the work on Ray actors.")
]
RayAddress = Annotated[
    str | None,
    typer.Option("--address", help="Ray cluster address (default $RAY_ADDRESS, else a local Ray)."),
]
RayActors = Annotated[
    int | None,
    typer.Option(
        "--actors", min=1, max=10_000, help="Ray actors (default: as many as the cluster fits)."
    ),
]
GpusPerActor = Annotated[
    float, typer.Option("--gpus-per-actor", min=0.0, max=64.0, help="GPUs of each Ray actor.")
]
