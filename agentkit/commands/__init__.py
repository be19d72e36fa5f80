"""The ``agentkit`` commands beyond ``eval``: ingest, ask, chat, app, models, bench,
finetune, serve and mcp.

Each module has ``register(app)``; :func:`register_all` adds them all to the ``agentkit``
typer app (once: a command already there is left alone).
"""

from __future__ import annotations

import importlib

import typer

COMMANDS = ("ingest", "ask", "chat", "app", "models", "bench", "finetune", "serve", "mcp")


def register_all(app: typer.Typer) -> None:
    """Add every command of this package to ``app``."""
    have = {info.name for info in app.registered_commands}
    have |= {info.name for info in app.registered_groups}
    for name in COMMANDS:
        if name not in have:
            importlib.import_module(f"agentkit.commands.{name}").register(app)


__all__ = ["COMMANDS", "register_all"]
