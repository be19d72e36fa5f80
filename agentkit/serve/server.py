"""Run a served app under uvicorn: private by default, keys required off loopback, and a
graceful shutdown (SIGINT/SIGTERM stop accepting, in-flight requests finish first)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any

from agentkit.core.errors import MissingDependencyError, UsageError
from agentkit.serve.guard import ServeSettings
from agentkit.serve.targets import Target

KEYS_ENV = "AGENTKIT_API_KEYS"


def keys_from(option: str | None, environ: Mapping[str, str] = os.environ) -> tuple[str, ...]:
    """API keys from ``--api-key`` (comma-separated) and ``AGENTKIT_API_KEYS``."""
    texts = [option or "", environ.get(KEYS_ENV, "")]
    return tuple(k.strip() for text in texts for k in text.split(",") if k.strip())


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: ServeSettings) -> None:
    """Refuse to serve beyond this machine without an API key."""
    if not is_loopback(host) and not settings.api_keys:
        raise UsageError(
            f"binding {host} exposes the server beyond this machine, so it needs an API key: "
            f"pass --api-key KEY or set {KEYS_ENV}; or bind 127.0.0.1 (the default)"
        )


def serve(
    targets: Mapping[str, Target],
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServeSettings | None = None,
    *,
    graceful_timeout: float = 30.0,
    log_level: str = "warning",
    access_log: bool = False,
) -> None:
    """Serve ``targets`` until interrupted (blocking)."""
    settings = settings or ServeSettings()
    check_exposure(host, settings)
    try:
        import uvicorn
    except ImportError as exc:
        raise MissingDependencyError("uvicorn", "serve", "agentkit serve") from exc
    try:
        from agentkit.serve.app import create_app

        app = create_app(targets, settings)
    except ImportError as exc:
        raise MissingDependencyError("starlette", "serve", "agentkit serve") from exc
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": access_log,
        "timeout_graceful_shutdown": graceful_timeout,
        "lifespan": "off",
    }
    uvicorn.Server(uvicorn.Config(app, **options)).run()
