"""``agentkit models``: which model ``auto`` (or another spec) resolves to, and why."""

from __future__ import annotations

import json

import typer
from rich.table import Table
from rich.text import Text

from agentkit.commands.common import out
from agentkit.commands.options import AsJson


def models(
    spec: str = typer.Argument("auto", help="auto, extractive, fake, hf:..., ollama:..."),
    as_json: AsJson = False,
) -> None:
    """Show what a model spec resolves to (by default: what `auto` picks) and why."""
    from agentkit.workspace.models import ENABLE_GENERATIVE, choose_model

    choice = choose_model(spec)
    data = {
        "spec": spec,
        "backend": choice.backend,
        "model": repr(choice.model),
        "reason": choice.reason,
        "generative": choice.generative,
    }
    if as_json:
        print(json.dumps(data))
        return
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for key, value in data.items():
        table.add_row(key, Text(str(value)))
    out.print(table)
    if not choice.generative:
        out.print(Text(ENABLE_GENERATIVE, style="dim"))


def register(app: typer.Typer) -> None:
    app.command("models")(models)
