"""The ``app`` command: start the Streamlit app (it ships inside the package).

The app listens on 127.0.0.1 unless ``--host`` says otherwise. Anyone who reaches it can
chat, run the agent's tools, change the index and read the chat history, so a host other
than loopback needs an access token (``--auth-token`` or ``$AGENTKIT_APP_TOKEN``), or
``--no-auth`` to expose it without one, with a loud warning. The token travels to the app
in its environment and is never printed.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path

import typer

from agentkit.commands.common import err, printable
from agentkit.commands.options import ChainRef, HistoryFile, NewIndexEmbedder
from agentkit.core.refs import ALLOW_IMPORTS_HELP
from agentkit.core.refs import ENV_VAR as IMPORTS_ENV

DEFAULT_HOST = "127.0.0.1"
MIN_TOKEN_LENGTH = 16
# No "Deploy" button nor developer options in the toolbar.
CLIENT_FLAGS = ("--client.toolbarMode", "minimal")
TOKEN_HINT = "make one with: python -c 'import secrets; print(secrets.token_urlsafe(24))'"


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


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_warnings(host: str, token: str | None, no_auth: bool) -> list[str]:
    """Check the host and token; the warnings to print (a UsageError when the app would
    be exposed without a token and without ``--no-auth``)."""
    from agentkit.core.errors import UsageError

    if not host or host.startswith("-") or not host.isprintable() or " " in host:
        raise UsageError(f"--host must be a host name or IP address, got {printable(host)!r}")
    if token is not None and no_auth:
        raise UsageError("--no-auth and an access token contradict each other; give one")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(
            f"the access token must be at least {MIN_TOKEN_LENGTH} characters; {TOKEN_HINT}"
        )
    if is_loopback(host):
        return []
    shown = printable(host)
    if token is not None:
        return [
            f"warning: the app listens on {shown}, reachable from other machines; visitors "
            "need the access token. It is plain HTTP: put it behind an HTTPS proxy so the "
            "token cannot be read on the network."
        ]
    if not no_auth:
        raise UsageError(
            f"--host {shown} exposes the app to other machines, where anyone could chat, run "
            "the agent's tools, change the index and read the chat history; give an access "
            f"token (--auth-token or $AGENTKIT_APP_TOKEN; {TOKEN_HINT}) or pass --no-auth"
        )
    return [
        f"WARNING: the app listens on {shown} with NO authentication: anyone who can reach "
        "this port can chat, run the agent's tools (python_repl included), upload and delete "
        "documents and read the chat history."
    ]


def streamlit_command(
    script_args: list[str], port: int | None, headless: bool, host: str = DEFAULT_HOST
) -> list[str]:
    """The command line that serves the app (on ``host``: loopback by default)."""
    from agentkit.workspace.settings import main_script

    command = [sys.executable, "-m", "streamlit", "run", str(main_script())]
    command += ["--browser.gatherUsageStats", "false", "--server.address", host, *CLIENT_FLAGS]
    if headless:
        command += ["--server.headless", "true"]
    if port is not None:
        command += ["--server.port", str(port)]
    return [*command, "--", *script_args]


def app(
    chain: ChainRef = None,
    index: Path = typer.Option(None, "--index", help="The index to chat with and manage."),
    history: HistoryFile = None,
    runs: Path = typer.Option(None, "--runs", help="The folder of eval runs to browse."),
    model: str = typer.Option(None, "--model", help="The model spec to start with (auto)."),
    embedder: NewIndexEmbedder = None,
    port: int = typer.Option(None, "--port", min=1, max=65535, help="Port to serve on."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser."),
    host: str = typer.Option(
        DEFAULT_HOST,
        "--host",
        help="The address to listen on. Other than loopback, the app is reachable from other "
        "machines: give an access token (or --no-auth).",
    ),
    auth_token: str = typer.Option(
        None,
        "--auth-token",
        envvar="AGENTKIT_APP_TOKEN",
        show_envvar=True,
        show_default=False,
        help="Visitors must enter this token (16+ characters) before the app shows anything. "
        "Prefer the environment variable: command lines are visible to other local users.",
    ),
    no_auth: bool = typer.Option(
        False, "--no-auth", help="Allow a non-loopback --host without an access token."
    ),
    allow_imports: bool = typer.Option(
        False, "--allow-imports", help=ALLOW_IMPORTS_HELP + " Applies to the Graph page too."
    ),
) -> None:
    """Open the chat app (Chat, Documents, Evaluations and Graph pages) in the browser."""
    from agentkit.core.errors import MissingDependencyError, UsageError
    from agentkit.workspace.indexes import is_index
    from agentkit.workspace.settings import TOKEN_ENV, AppSettings

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError("streamlit", "app", "the Streamlit app")
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
    given = [f"--{key}={value}" for key, value in values.items() if value is not None]
    settings = AppSettings.load(given, os.environ)  # history and uploads follow the index
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
    if allow_imports:
        env[IMPORTS_ENV] = "1"  # the app process loads the chain: it reads this
    token = auth_token or None
    for warning in exposure_warnings(host, token, no_auth):
        err.print(warning, style="bold red", markup=False)
    env.pop(TOKEN_ENV, None)
    if token is not None:
        env[TOKEN_ENV] = token
    command = streamlit_command(settings.to_args(), port, headless, host)
    where = f"index {printable(settings.index)}" + ("; access token required" if token else "")
    err.print(f"Starting the app ({where}); Ctrl+C stops it.", markup=False)
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
