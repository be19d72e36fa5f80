"""``agentkit serve qa=chain.yaml agent=agent.yaml``: an OpenAI-compatible HTTP server over
named chains, agents, models and embedders (extra ``serve``)."""

from __future__ import annotations

from pathlib import Path

import typer

from agentkit.commands.common import err


def tracers_from(trace: Path | None, otel: bool) -> tuple[object, ...]:
    """The tracers named by ``--trace FILE.jsonl`` and ``--otel``."""
    found: list[object] = []
    if trace is not None:
        from agentkit.core.tracing import JsonlTracer

        found.append(JsonlTracer(trace))
    if otel:
        from agentkit.interop.otel import OTelTracer

        found.append(OTelTracer.from_env())
    return tuple(found)


def serve(
    targets: list[str] = typer.Argument(
        ..., help="NAME=spec.yaml or NAME=package.module:attr, one per served component."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (private by default)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    api_key: str = typer.Option(
        None, "--api-key", help="Bearer key(s), comma-separated (also AGENTKIT_API_KEYS)."
    ),
    allow_imports: bool = typer.Option(
        False, "--allow-imports", help="Let spec files import non-agentkit code they reference."
    ),
    max_body_bytes: int = typer.Option(1_000_000, "--max-body-bytes", min=1),
    max_concurrency: int = typer.Option(64, "--max-concurrency", min=1),
    trace: Path = typer.Option(
        None, "--trace", help="Append every request's spans to a JSONL file."
    ),
    otel: bool = typer.Option(False, "--otel", help="Export spans with OpenTelemetry (OTLP env)."),
    graceful_timeout: float = typer.Option(30.0, "--graceful-timeout", min=0.0, max=3600.0),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Serve chains, agents and models as an OpenAI-compatible API (/v1/chat/completions)."""
    from agentkit.serve.guard import ServeSettings
    from agentkit.serve.loading import load_targets
    from agentkit.serve.server import check_exposure, keys_from, serve

    settings = ServeSettings(
        api_keys=keys_from(api_key),
        max_body_bytes=max_body_bytes,
        max_concurrency=max_concurrency,
        tracers=tracers_from(trace, otel),  # type: ignore[arg-type]
    )
    check_exposure(host, settings)
    served = load_targets(targets, allow_imports=allow_imports)
    names = ", ".join(f"{name} ({t.kind})" for name, t in served.items())
    auth = f"{len(settings.api_keys)} API key(s)" if settings.api_keys else "no auth"
    err.print(f"serving {names} at http://{host}:{port}/v1 ({auth})", markup=False)
    serve(served, host, port, settings, graceful_timeout=graceful_timeout, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
