"""A local OpenAI-compatible HTTP server for tests (stdlib only, on 127.0.0.1, a free port).

It answers ``POST /v1/chat/completions`` in one of two ways:

- **queued steps** (:meth:`FakeOpenAIServer.enqueue`): the next requests get recorded
  replies in order — a JSON body, an SSE stream, an HTTP error, or a hang (the server accepts
  and never answers);
- **a script** (:meth:`FakeOpenAIServer.script`): when no step is queued, it replies with
  scripted texts, honouring ``stop``, ``max_tokens``, ``stream`` and ``include_usage`` like a
  real server (whitespace tokens). A reply is picked by the request's last user message when
  it is one of the ``prompts`` (so concurrent batch calls stay deterministic), else in order.

``GET /api/tags`` answers like Ollama when :attr:`FakeOpenAIServer.ollama_models` is set.
Every request is recorded in :attr:`FakeOpenAIServer.requests`. Test modules import the
fixtures ``openai_server_fixture`` (one server per module) and ``server_fixture`` (that server,
reset), which provide ``openai_server`` and ``server``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
_TOKEN = re.compile(r"\s*\S+|\s+")


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@dataclass
class Step:
    """One recorded reply: ``body`` sent with ``status`` (SSE when ``sse``), after ``delay``
    seconds; ``hang`` seconds of silence instead of any reply."""

    body: str = ""
    status: int = 200
    sse: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: float = 0.0

    @classmethod
    def fixture(cls, name: str, **kwargs: Any) -> Step:
        return cls(fixture_text(name), sse=name.endswith(".sse"), **kwargs)

    @classmethod
    def error(cls, status: int, message: str, **kwargs: Any) -> Step:
        body = json.dumps({"error": {"message": message, "type": "server_error", "code": None}})
        return cls(body, status=status, **kwargs)


class FakeOpenAIServer:
    """Start with ``FakeOpenAIServer()``; stop with :meth:`close` (or use ``with``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.steps: list[Step] = []
        self.replies: list[str] = []
        self.prompts: list[str] = []
        self.ollama_models: list[str] | None = None
        self.model = "fake-model"
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.block_on_close = False
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.steps.clear()
            self.replies, self.prompts, self._count = [], [], 0
            self.ollama_models = None

    def enqueue(self, *steps: Step) -> None:
        with self._lock:
            self.steps.extend(steps)

    def script(self, replies: Sequence[str], prompts: Sequence[str] = ()) -> None:
        with self._lock:
            self.replies, self.prompts, self._count = list(replies), list(prompts), 0

    def bodies(self) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if r["method"] == "POST"]

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- replies ----------------------------------------------------------------------

    def next_step(self, body: dict[str, Any]) -> Step:
        with self._lock:
            if self.steps:
                return self.steps.pop(0)
            if not self.replies:
                return Step.error(500, "the fake server has no scripted reply")
            last_user = [m for m in body.get("messages", []) if m.get("role") == "user"]
            prompt = last_user[-1].get("content") if last_user else None
            if prompt in self.prompts:
                index = self.prompts.index(prompt)
            else:
                index, self._count = self._count, self._count + 1
            text = self.replies[index % len(self.replies)]
        return self.scripted(text, body)

    def scripted(self, text: str, body: dict[str, Any]) -> Step:
        finish = "stop"
        stops = [s for s in body.get("stop") or [] if s in text]
        if stops:
            text = text[: min(text.find(s) for s in stops)]
        limit = body.get("max_tokens")
        if limit is not None and len(text.split()) > limit:
            text, finish = "".join(_TOKEN.findall(text)[:limit]), "length"
        prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in body["messages"])
        usage = _usage(prompt_tokens, len(text.split()))
        if not body.get("stream"):
            return Step(json.dumps(completion(self.model, text, finish, usage)))
        include = (body.get("stream_options") or {}).get("include_usage")
        pieces = _TOKEN.findall(text)
        return Step(sse_stream(self.model, pieces, finish, usage if include else None), sse=True)

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def completion(model: str, text: str, finish: str, usage: dict[str, int]) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI sends it."""
    return {
        "id": "chatcmpl-fake0001",
        "object": "chat.completion",
        "created": 1763900000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }
        ],
        "usage": usage,
        "system_fingerprint": "fp_fake",
    }


def sse_stream(model: str, pieces: Sequence[str], finish: str, usage: dict[str, int] | None) -> str:
    """The SSE text of a streamed ``chat.completion.chunk`` sequence."""
    base = {"id": "chatcmpl-fake0002", "object": "chat.completion.chunk", "created": 1763900000}
    base["model"] = model

    def event(choices: list[dict[str, Any]], usage: Any = None) -> str:
        return f"data: {json.dumps({**base, 'choices': choices, 'usage': usage})}\n\n"

    deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in pieces]
    out = [event([{"index": 0, "delta": d, "finish_reason": None}]) for d in deltas]
    out.append(event([{"index": 0, "delta": {}, "finish_reason": finish}]))
    if usage is not None:
        out.append(event([], usage))
    out.append("data: [DONE]\n\n")
    return "".join(out)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    @property
    def server_(self) -> FakeOpenAIServer:
        owner: FakeOpenAIServer = self.server.owner  # type: ignore[attr-defined]
        return owner

    def _record(self, body: Any) -> None:
        owner = self.server_
        entry = {"method": self.command, "path": self.path, "headers": dict(self.headers)}
        with owner._lock:
            owner.requests.append({**entry, "json": body})

    def do_GET(self) -> None:
        self._record(None)
        owner = self.server_
        if self.path == "/api/tags" and owner.ollama_models is not None:
            tags = json.loads(fixture_text("ollama_tags.json"))
            template = tags["models"][0]
            models = [{**template, "name": n, "model": n} for n in owner.ollama_models]
            self._send(Step(json.dumps({"models": models})))
        else:
            self._send(Step.error(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self._record(body)
        if self.path != "/v1/chat/completions":
            self._send(Step.error(404, f"no route {self.path}"))
            return
        self._send(self.server_.next_step(body))

    def _send(self, step: Step) -> None:
        if step.hang:
            self.server_.wait(step.hang)
            self.close_connection = True
            return
        if step.delay:
            self.server_.wait(step.delay)
        data = step.body.encode("utf-8")
        self.send_response(step.status)
        content_type = "text/event-stream" if step.sse else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in step.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


@pytest.fixture(scope="module", name="openai_server")
def openai_server_fixture() -> Iterator[FakeOpenAIServer]:
    """One server per test module, reset before each test by :func:`server`."""
    server = FakeOpenAIServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(name="server")
def server_fixture(openai_server: FakeOpenAIServer) -> FakeOpenAIServer:
    """The module's server, reset (no steps, no script, no recorded requests)."""
    openai_server.reset()
    return openai_server
