"""The server's limits, checked before any handler runs: API keys (bearer, compared in
constant time), the request body size (by ``Content-Length``; handlers also cap what they
read), and the number of requests in flight (429 beyond it). ``/healthz`` is always open.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.tracing import Tracer
from agentkit.serve.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
OPEN_PATHS = ("/healthz",)


@dataclass(frozen=True)
class ServeSettings:
    """Limits and wiring of a served app.

    Attributes:
        api_keys: bearer keys accepted (none: no auth; required off 127.0.0.1).
        max_body_bytes: the largest request body read (413 beyond it).
        max_concurrency: requests in flight at once, streams included (429 beyond it).
        tracers: receive the spans of every request's run.
    """

    api_keys: tuple[str, ...] = ()
    max_body_bytes: int = 1_000_000
    max_concurrency: int = 64
    tracers: tuple[Tracer, ...] = ()

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1:
            raise UsageError(f"max_body_bytes must be >= 1, got {self.max_body_bytes}")
        if self.max_concurrency < 1:
            raise UsageError(f"max_concurrency must be >= 1, got {self.max_concurrency}")
        if any(not isinstance(k, str) or not k.strip() for k in self.api_keys):
            raise UsageError("API keys must be non-empty strings")

    def __repr__(self) -> str:  # never show the keys
        return (
            f"ServeSettings(api_keys=<{len(self.api_keys)} keys>, max_body_bytes="
            f"{self.max_body_bytes}, max_concurrency={self.max_concurrency})"
        )


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Whether ``given`` is one of ``keys``; every key is compared, in constant time."""
    found = False
    for key in keys:
        found |= hmac.compare_digest(given.encode(), key.encode())
    return found


class Load:
    """The number of guarded requests in flight (shown by ``/healthz``)."""

    __slots__ = ("in_flight",)

    def __init__(self) -> None:
        self.in_flight = 0


class Guard:
    """ASGI middleware enforcing :class:`ServeSettings` (auth, body size, concurrency)."""

    def __init__(self, app: ASGIApp, settings: ServeSettings, load: Load) -> None:
        self.app = app
        self.settings = settings
        self.load = load

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        settings = self.settings
        headers = dict(scope.get("headers") or ())
        if settings.api_keys:
            auth = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or not key_matches(token.strip(), settings.api_keys):
                message = "missing or wrong API key: send 'Authorization: Bearer <key>'"
                await _reject(send, 401, message, {"www-authenticate": "Bearer"})
                return
        length = headers.get(b"content-length")
        if length is not None and not length.isdigit():
            await _reject(send, 400, "the Content-Length header is not a number")
            return
        if length is not None and int(length) > settings.max_body_bytes:
            message = (
                f"the request body is larger than the limit of {settings.max_body_bytes} bytes"
            )
            await _reject(send, 413, message)
            return
        load = self.load
        if load.in_flight >= settings.max_concurrency:
            message = (
                f"too many requests in flight (limit {settings.max_concurrency}); retry shortly"
            )
            await _reject(send, 429, message, {"retry-after": "1"}, "rate_limit_exceeded")
            return
        load.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            load.in_flight -= 1


async def _reject(
    send: Send,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    code: str | None = None,
) -> None:
    body = json.dumps(error_body(status, message, None, code)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
