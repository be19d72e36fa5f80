"""HTTP plumbing of :class:`OpenAICompatModel`: clients, retries, and errors that say how to
fix them.

One sync ``httpx.Client`` per model (shared by its ``bind`` copies; thread-safe; closed when the
model is garbage collected) and one ``httpx.AsyncClient`` per event loop, closed when that loop
shuts down (``asyncio.run`` finalises async generators before closing its loop; a small one
holding the client closes it then). Requests are retried with exponential backoff
(``backoff * 2**attempt`` seconds, or the server's ``Retry-After``) on HTTP 408/429/5xx and on
connection errors, up to ``max_retries`` times. A stream is retried only before its first
chunk. Timeouts are not retried: they raise :class:`RunTimeoutError` at once. Error messages
never show the API key (nor other secret headers, nor a password in the URL), even where the
server echoes it back.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agentkit.core.errors import (
    ModelOutputError,
    RunError,
    RunTimeoutError,
    UsageError,
    import_optional,
)
from agentkit.llms.openai_compat.wire import ModelServerError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_WAIT = 60.0  # never sleep longer than this between attempts, whatever Retry-After says
SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie")
REDACTED = "***"


def import_httpx() -> Any:
    return import_optional("httpx", "httpx", "openai", "OpenAICompatModel")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def server_message(text: str) -> str:
    """The ``error.message`` of a JSON error body, else the start of the body."""
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:300] or "(empty body)"
    error = data.get("error", data) if isinstance(data, Mapping) else data
    if isinstance(error, Mapping):
        error = error.get("message", error)
    return str(error)[:300]


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send requests."""

    url: str
    headers: Mapping[str, str]
    timeout: float
    max_retries: int
    backoff: float


class Transport:
    """Sends chat-completion requests to one endpoint, with retries."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._secrets = _secrets(endpoint)
        self.url = self.redact(endpoint.url)  # the URL as error messages show it
        self._lock = threading.Lock()
        self._client: Any = None
        self._aclients: weakref.WeakKeyDictionary[Any, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )

    # --- clients ----------------------------------------------------------------------

    def client(self) -> Any:
        with self._lock:
            if self._client is None or self._client.is_closed:
                httpx = import_httpx()
                self._client = httpx.Client(**self._client_options(httpx))
                weakref.finalize(self, self._client.close)
            return self._client

    async def aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        with self._lock:
            for old in [old for old in self._aclients if old.is_closed()]:
                del self._aclients[old]  # its client was closed when that loop shut down
            entry = self._aclients.get(loop)
            fresh = entry is None or entry[0].is_closed
            if fresh:
                httpx = import_httpx()
                client = httpx.AsyncClient(**self._client_options(httpx))
                entry = self._aclients[loop] = (client, _close_at_shutdown(client))
        assert entry is not None
        if fresh:
            await entry[1].__anext__()  # registers the closer with the loop
        return entry[0]

    def _client_options(self, httpx: Any) -> dict[str, Any]:
        return {"headers": dict(self.endpoint.headers), "timeout": httpx.Timeout(self.timeout)}

    @property
    def timeout(self) -> float:
        return self.endpoint.timeout

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aclose(self) -> None:
        """Close the async client of the running event loop (and the sync client)."""
        entry = self._aclients.pop(asyncio.get_running_loop(), None)
        if entry is not None:
            await entry[1].aclose()
        self.close()

    # --- one decision, shared by the sync and async loops -----------------------------

    def redact(self, text: str) -> str:
        """``text`` with the API key and other secrets of this endpoint masked."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def wait_after_status(self, status: int, body: str, headers: Any, attempt: int) -> float:
        """Seconds to wait before retrying an HTTP error; raises when it must not retry."""
        body = self.redact(body)
        url, message = self.url, server_message(body)
        if status in RETRY_STATUSES and attempt < self.endpoint.max_retries:
            wait = parse_retry_after(headers.get("retry-after"))
            return min(MAX_WAIT, self._backoff(attempt) if wait is None else wait)
        if status in (401, 403):
            raise UsageError(
                f"the model server at {url} refused the API key (HTTP {status}: {message}); "
                "pass api_key=... or set OPENAI_API_KEY (or AGENTKIT_OPENAI_API_KEY)"
            )
        if status == 404:
            raise UsageError(
                f"the model server at {url} answered HTTP 404 ({message}); check the base URL "
                "(an OpenAI-compatible server's ends in /v1, e.g. http://localhost:11434/v1) "
                "and that the model exists there (for Ollama: `ollama pull <model>`)"
            )
        if status in (400, 422):
            raise UsageError(
                f"the model server at {url} rejected the request (HTTP {status}: {message}); "
                "check the model name and params, and that the server supports the tools or "
                "response_format you passed"
            )
        if status in RETRY_STATUSES:
            raise ModelServerError(
                f"the model server at {url} answered HTTP {status} ({message}) and still did "
                f"after {attempt} retries; wait and try again, send fewer requests at once, "
                "or raise max_retries",
                status,
                body,
            )
        raise ModelServerError(
            f"the model server at {url} answered HTTP {status}: {message}; check the server's "
            "log, or that this URL is an OpenAI-compatible /v1 endpoint",
            status,
            body,
        )

    def wait_after_error(self, exc: Exception, attempt: int, started: bool = False) -> float:
        """Seconds to wait before retrying an ``httpx.TransportError``; raises when it must not
        (a timeout, a stream that had ``started``, or no retries left)."""
        httpx = import_httpx()
        url, error = self.url, self.redact(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            raise RunTimeoutError(
                f"the model server at {url} did not answer within {self.timeout:g} s "
                f"({type(exc).__name__}); check that the server is up, or raise the timeout "
                "for slow models: OpenAICompatModel(..., timeout=300)"
            ) from exc
        if not started and attempt < self.endpoint.max_retries:
            return self._backoff(attempt)
        if started:
            raise RunError(
                f"the connection to the model server at {url} broke during the reply ({error}); "
                "call again, and check the server's log if it keeps happening"
            ) from exc
        raise RunError(
            f"could not reach the model server at {url} ({type(exc).__name__}: {error}) after "
            f"{attempt + 1} attempts; check that it is running (e.g. `ollama serve`, "
            "`vllm serve <model>`, `llama-server -m <file>`) and that the base URL is right"
        ) from exc

    def _json(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ModelOutputError(
                f"the model server at {self.url} answered with something that is not JSON",
                self.redact(text[:500]),
                hint="Check that the base URL points at an OpenAI-compatible /v1 endpoint",
            ) from exc

    def _backoff(self, attempt: int) -> float:
        return min(MAX_WAIT, self.endpoint.backoff * 2**attempt * random.uniform(0.9, 1.1))

    # --- requests ---------------------------------------------------------------------

    def post(self, body: Mapping[str, Any]) -> Any:
        client, attempt = self.client(), 0
        errors = import_httpx().TransportError
        while True:
            try:
                response = client.post(self.endpoint.url, json=body)
            except errors as exc:
                time.sleep(self.wait_after_error(exc, attempt))
            else:
                if response.is_success:
                    return self._json(response.text)
                code, text, headers = response.status_code, response.text, response.headers
                time.sleep(self.wait_after_status(code, text, headers, attempt))
            attempt += 1

    async def apost(self, body: Mapping[str, Any]) -> Any:
        client, attempt = await self.aclient(), 0
        errors = import_httpx().TransportError
        while True:
            try:
                response = await client.post(self.endpoint.url, json=body)
            except errors as exc:
                await asyncio.sleep(self.wait_after_error(exc, attempt))
            else:
                if response.is_success:
                    return self._json(response.text)
                code, text, headers = response.status_code, response.text, response.headers
                await asyncio.sleep(self.wait_after_status(code, text, headers, attempt))
            attempt += 1

    def stream_lines(self, body: Mapping[str, Any]) -> Generator[str, None, None]:
        """The lines of a streamed response."""
        client, attempt, started = self.client(), 0, False
        errors = import_httpx().TransportError
        while True:
            try:
                with client.stream("POST", self.endpoint.url, json=body) as response:
                    if response.is_success:
                        started = True
                        yield from response.iter_lines()
                        return
                    text = response.read().decode("utf-8", "replace")
                    wait = self.wait_after_status(
                        response.status_code, text, response.headers, attempt
                    )
            except errors as exc:
                wait = self.wait_after_error(exc, attempt, started)
            time.sleep(wait)
            attempt += 1

    async def astream_lines(self, body: Mapping[str, Any]) -> AsyncGenerator[str, None]:
        client, attempt, started = await self.aclient(), 0, False
        errors = import_httpx().TransportError
        while True:
            try:
                async with client.stream("POST", self.endpoint.url, json=body) as response:
                    if response.is_success:
                        started = True
                        async for line in response.aiter_lines():
                            yield line
                        return
                    text = (await response.aread()).decode("utf-8", "replace")
                    wait = self.wait_after_status(
                        response.status_code, text, response.headers, attempt
                    )
            except errors as exc:
                wait = self.wait_after_error(exc, attempt, started)
            await asyncio.sleep(wait)
            attempt += 1


def _secrets(endpoint: Endpoint) -> list[str]:
    """The values to keep out of messages: secret headers (the bearer token alone too) and
    the URL's password; longest first, so a token is masked before any part of it."""
    found = [endpoint.headers[k] for k in endpoint.headers if _is_secret_header(k)]
    found += [v.split(" ", 1)[1] for v in found if v.lower().startswith("bearer ")]
    password = urlsplit(endpoint.url).password
    if password:
        found.append(password)
    return sorted({s.strip() for s in found if len(s.strip()) >= 4}, key=len, reverse=True)


def _is_secret_header(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_HEADER_WORDS)


async def _close_at_shutdown(client: Any) -> AsyncIterator[None]:
    """Suspended once started; the loop closes it (and so the client) when it shuts down."""
    try:
        yield
    finally:
        await client.aclose()
