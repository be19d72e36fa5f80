"""The OpenAI-compatible ASGI app (Starlette): ``/v1/models``, ``/v1/chat/completions``
(JSON and SSE), ``/v1/embeddings`` and ``/healthz`` over named :class:`Target` objects.

Errors are OpenAI-shaped. A streamed answer takes its first piece before the response
starts, so a request that fails at once gets a real status code; a failure after that is
sent inside the stream as an ``{"error": ...}`` event and the stream ends.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from agentkit.core.config import RunConfig
from agentkit.core.messages import Usage
from agentkit.serve.errors import APIError, bad_request, error_body, internal_error
from agentkit.serve.guard import Guard, Load, ServeSettings
from agentkit.serve.protocol import (
    chunk_body,
    completion_body,
    new_id,
    parse_chat_request,
    parse_embedding_input,
    sse,
    tool_calls_to_wire,
)
from agentkit.serve.targets import EmbedderTarget, Piece, Target

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

log = logging.getLogger("agentkit.serve")
Handler = Callable[["Request"], Awaitable["Response"]]


def _json(data: Any, status: int = 200) -> Response:
    from starlette.responses import Response

    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status, media_type="application/json")


def _answering_errors(fn: Handler) -> Handler:
    """Answer :class:`APIError` with its OpenAI-shaped body, anything else with a 500."""

    async def handler(request: Request) -> Response:
        try:
            return await fn(request)
        except APIError as exc:
            return _json(exc.body(), exc.status)
        except Exception as exc:
            log.exception("request %s failed", request.url.path)
            error = internal_error(exc)
            return _json(error.body(), error.status)

    return handler


async def read_json(request: Request, limit: int) -> Any:
    """The request body as JSON, refusing more than ``limit`` bytes with a 413."""
    size = 0
    parts: list[bytes] = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise APIError(
                413, f"the request body is larger than this server's limit of {limit} bytes"
            )
        parts.append(chunk)
    try:
        return json.loads(b"".join(parts))
    except (ValueError, RecursionError):
        raise bad_request("the request body is not valid JSON") from None


class ServeApp:
    """The route handlers over ``targets``, under ``settings``."""

    def __init__(self, targets: Mapping[str, Target], settings: ServeSettings) -> None:
        self.targets = dict(targets)
        self.settings = settings
        self.load = Load()

    def target(self, name: str) -> Target:
        target = self.targets.get(name)
        if target is None:
            served = ", ".join(sorted(self.targets))
            raise APIError(
                404,
                f"the model {name!r} is not served here; served: {served} (GET /v1/models)",
                param="model",
                code="model_not_found",
            )
        return target

    def run_config(self, target: Target, user: str | None) -> RunConfig:
        request_id = uuid.uuid4().hex[:16]
        return RunConfig(
            tracers=self.settings.tracers,
            run_name=f"serve:{target.name}",
            metadata={"request_id": request_id, "served": target.name, "kind": target.kind},
            configurable={"session_id": user} if user else {},
        )

    async def healthz(self, request: Request) -> Response:
        return _json(
            {"status": "ok", "served": len(self.targets), "in_flight": self.load.in_flight}
        )

    async def models(self, request: Request) -> Response:
        return _json({"object": "list", "data": [_model_card(t) for t in self.targets.values()]})

    async def model(self, request: Request) -> Response:
        return _json(_model_card(self.target(request.path_params["name"])))

    async def chat(self, request: Request) -> Response:
        from starlette.responses import StreamingResponse

        chat = parse_chat_request(await read_json(request, self.settings.max_body_bytes))
        target = self.target(chat.model)
        target.check(chat)
        config = self.run_config(target, chat.user)
        cid = new_id()
        if not chat.stream:
            reply = await target.complete(chat, config)
            body = completion_body(
                cid,
                chat.model,
                reply.text,
                reply.tool_calls,
                reply.finish_reason,
                reply.usage,
                reply.extra,
            )
            return _json(body)
        pieces = aiter(target.stream(chat, config))
        try:
            first: Piece | None = await anext(pieces)
        except StopAsyncIteration:
            first = None
        events = _events(cid, chat.model, first, pieces, chat.include_usage)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def embeddings(self, request: Request) -> Response:
        name, texts, fmt = parse_embedding_input(
            await read_json(request, self.settings.max_body_bytes)
        )
        target = self.target(name)
        if not isinstance(target, EmbedderTarget):
            raise bad_request(f"{name!r} is a {target.kind}, not an embedder", "model")
        vectors = await target.embed(texts)
        data = []
        for i, row in enumerate(vectors):
            if fmt == "base64":
                value: Any = base64.b64encode(row.astype("<f4").tobytes()).decode()
            else:
                value = [float(x) for x in row]
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json({"object": "list", "data": data, "model": name, "usage": usage})

    async def not_found(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        what = "method" if status == 405 else "path"
        message = f"no such {what}: {request.method} {request.url.path}"
        return _json(error_body(status, message), status)


def _model_card(target: Target) -> dict[str, Any]:
    return {
        "id": target.name,
        "object": "model",
        "created": 0,
        "owned_by": f"agentkit-{target.kind}",
    }


async def _events(
    cid: str,
    model: str,
    first: Piece | None,
    rest: AsyncIterator[Piece],
    include_usage: bool,
) -> AsyncIterator[bytes]:
    """The SSE body: a role chunk, content / tool-call / event chunks, the finish chunk,
    the usage chunk when asked for, then ``[DONE]``; an error ends it with an error event."""
    yield sse(chunk_body(cid, model, {"role": "assistant", "content": ""}))
    finish: str | None = None
    usage: Usage | None = None
    calls = 0
    piece = first
    try:
        while piece is not None:
            if piece.text:
                yield sse(chunk_body(cid, model, {"content": piece.text}))
            if piece.tool_calls:
                wire = tool_calls_to_wire(piece.tool_calls)
                for entry in wire:
                    entry["index"] = calls
                    calls += 1
                yield sse(chunk_body(cid, model, {"tool_calls": wire}))
            if piece.event is not None:
                yield sse(chunk_body(cid, model, {}, extra={"event": piece.event}))
            finish = piece.finish_reason or finish
            usage = piece.usage or usage
            piece = await anext(rest, None)
    except Exception as exc:
        log.exception("stream of %s failed", model)
        error = exc if isinstance(exc, APIError) else internal_error(exc)
        yield sse(error.body())
        return
    finally:
        close = getattr(rest, "aclose", None)
        if close is not None:  # a client that went away: end the run now
            await close()
    if calls and finish in (None, "stop"):
        finish = "tool_calls"
    yield sse(chunk_body(cid, model, {}, finish or "stop"))
    if include_usage:
        yield sse(chunk_body(cid, model, None, usage=usage or Usage()))
    yield b"data: [DONE]\n\n"


def create_app(targets: Mapping[str, Target], settings: ServeSettings | None = None) -> Starlette:
    """The ASGI app serving ``targets`` (see :class:`ServeSettings` for the limits)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    settings = settings or ServeSettings()
    served = ServeApp(targets, settings)
    routes = [
        Route("/healthz", _answering_errors(served.healthz), methods=["GET"]),
        Route("/v1/models", _answering_errors(served.models), methods=["GET"]),
        Route("/v1/models/{name:path}", _answering_errors(served.model), methods=["GET"]),
        Route("/v1/chat/completions", _answering_errors(served.chat), methods=["POST"]),
        Route("/v1/embeddings", _answering_errors(served.embeddings), methods=["POST"]),
    ]
    app = Starlette(
        routes=routes, exception_handlers={404: served.not_found, 405: served.not_found}
    )
    app.add_middleware(Guard, settings=settings, load=served.load)
    return app
