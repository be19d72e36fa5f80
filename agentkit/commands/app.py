"""``agentkit app``: start the Streamlit app (it ships in the package: agentkit/app/)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import typer

from agentkit.commands.common import err


def check_chain_ref(ref: str) -> None:
    """Fail early on a chain reference the app could not load."""
    from agentkit.core.errors import UsageError

    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        if not path.is_file():
            raise UsageError(f"chain spec file {ref} does not exist; check the path")
    elif ":" not in ref:
        raise UsageError(
            f"cannot use --chain {ref!r}: give a .yaml/.yml/.json spec file or a "
            "'package.module:function' factory reference"
        )


def streamlit_command(script_args: list[str], port: int | None, headless: bool) -> list[str]:
    """The command line that serves the app."""
    from agentkit.app import main_script

    command = [sys.executable, "-m", "streamlit", "run", str(main_script())]
    command += ["--browser.gatherUsageStats", "false"]
    if headless:
        command += ["--server.headless", "true"]
    if port is not None:
        command += ["--server.port", str(port)]
    return [*command, "--", *script_args]


def app(
    chain: str = typer.Option(None, "--chain", help="A chain spec YAML or module:function."),
    index: Path = typer.Option(None, "--index", help="The index to chat with and manage."),
    history: Path = typer.Option(None, "--history", help="The SQLite chat history file."),
    runs: Path = typer.Option(None, "--runs", help="The folder of eval runs to browse."),
    model: str = typer.Option(None, "--model", help="The model spec to start with (auto)."),
    embedder: str = typer.Option(None, "--embedder", help="For a new index: default or hashing."),
    port: int = typer.Option(None, "--port", min=1, max=65535, help="Port to serve on."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser."),
) -> None:
    """Open the chat app (Chat, Documents, Evaluations and Graph pages) in the browser."""
    from agentkit.app.retrieval import is_index
    from agentkit.app.settings import AppSettings
    from agentkit.core.errors import MissingDependencyError, UsageError

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError("streamlit", "app", "the agentkit app")
    if chain:
        check_chain_ref(chain)
    usable = index is None or not index.exists() or is_index(index)
    if not usable and index is not None and (not index.is_dir() or any(index.iterdir())):
        raise UsageError(
            f"{index} is not an index built by agentkit ingest; pass an index folder (or a "
            "new folder, which the Documents page fills)"
        )
    values = {
        "chain": chain, "index": index, "history": history, "runs": runs,
        "model": model, "embedder": embedder,
    }  # fmt: skip
    settings = AppSettings.load((), os.environ).updated(
        **{key: value for key, value in values.items() if value is not None}
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    command = streamlit_command(settings.to_args(), port, headless)
    err.print(f"Starting the agentkit app (index {settings.index}); Ctrl+C stops it.", markup=False)
    code = serve(command, env)
    if code:
        raise typer.Exit(code)


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits; stopping this process (Ctrl+C, SIGTERM) stops it too."""
    proc = subprocess.Popen(command, env=env)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.terminate())
    try:
        return proc.wait()
    except KeyboardInterrupt:  # the terminal sent it to both: let streamlit shut down
        proc.terminate()
        return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def register(app_: typer.Typer) -> None:
    app_.command("app")(app)
