"""Serving overhead: ``agentkit serve`` (Starlette + uvicorn, OpenAI protocol) vs LangServe
(FastAPI + uvicorn, ``add_routes``), both serving the same fake-model chain
(prompt -> fake chat model -> string parser) under the same uvicorn settings, measured by
the same client.

- ``p50_ms`` / ``p50_ms_langserve``: median latency of 200 sequential requests on one
  keep-alive connection (``latency_ratio`` = LangServe / agentkit; target >= 2);
- ``rps`` / ``rps_langserve``: requests per second with 100 requests in flight on 100
  keep-alive connections (``throughput_ratio`` = agentkit / LangServe; target >= 1.5);
- ``ttft_ms`` / ``ttft_ms_langserve``: median time to the first streamed token (httpx).

The latency and throughput client is a minimal asyncio HTTP/1.1 client (:class:`Connection`).

Each server runs in its own subprocess on 127.0.0.1 (killed at the end).
``python benchmarks/serve.py [--quick]``; the last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, parse_args

ANSWER = "Paris is the capital of France and its largest city"
SEQUENTIAL = 200
CONCURRENT = 100


def agentkit_app() -> Any:
    from agentkit.llms.fake import FakeListModel
    from agentkit.parsers import StrOutputParser
    from agentkit.prompts import PromptTemplate
    from agentkit.serve import create_app, make_target
    from agentkit.serve.guard import ServeSettings

    chain = (
        PromptTemplate.from_template("Answer: {question}")
        | FakeListModel([ANSWER])
        | StrOutputParser()
    )
    return create_app({"qa": make_target("qa", chain)}, ServeSettings(max_concurrency=1024))


def langserve_app() -> Any:
    from fastapi import FastAPI
    from langchain_core.language_models import FakeListChatModel
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate
    from langserve import add_routes

    chain = (
        ChatPromptTemplate.from_template("Answer: {question}")
        | FakeListChatModel(responses=[ANSWER])
        | StrOutputParser()
    )
    app = FastAPI()
    add_routes(app, chain, path="/qa")
    return app


def run_server(kind: str, port: int) -> None:
    import uvicorn

    app = agentkit_app() if kind == "agentkit" else langserve_app()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False)
    uvicorn.Server(config).run()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(kind: str) -> Iterator[str]:
    import httpx

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--server", kind, "--port", str(port)],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the {kind} server exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url + "/docs" if kind == "langserve" else url + "/healthz", timeout=1)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} server did not start")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def requests_for(kind: str, url: str, i: int) -> tuple[str, dict[str, Any], Callable[[Any], str]]:
    """(url, JSON body, answer reader) of request ``i``."""
    question = f"What is the capital of France? ({i})"
    if kind == "agentkit":
        body = {"model": "qa", "messages": [{"role": "user", "content": question}]}
        return f"{url}/v1/chat/completions", body, lambda r: r["choices"][0]["message"]["content"]
    return f"{url}/qa/invoke", {"input": {"question": question}}, lambda r: r["output"]


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection (asyncio streams), used for both
    servers: an httpx client costs more CPU per request than the servers under test on a
    2-core machine, which would hide their difference."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        host, port = url.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        if "content-length" in headers:
            return int(lines[0].split()[1]), await self.reader.readexactly(
                int(headers["content-length"])
            )
        parts = []
        while True:  # chunked
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return int(lines[0].split()[1]), b"".join(p[:-2] for p in parts)

    def close(self) -> None:
        self.writer.close()


def sequential_ms(kind: str, url: str, count: int) -> float:
    """Median milliseconds of one request, ``count`` requests one after another on one
    keep-alive connection (after 20 warm-up requests)."""

    async def main() -> float:
        connection = await Connection.open(url)
        times = []
        try:
            for i in range(count + 20):
                target, body, read = requests_for(kind, url, i)
                payload = json.dumps(body).encode()
                start = time.perf_counter()
                status, data = await connection.post("/" + target.split("/", 3)[3], payload)
                took = time.perf_counter() - start
                if status != 200 or read(json.loads(data)) != ANSWER:
                    raise RuntimeError(f"{kind} answered {status}: {data[:200]!r}")
                if i >= 20:
                    times.append(took)
        finally:
            connection.close()
        return statistics.median(times) * 1000

    return asyncio.run(main())


def concurrent_rps(kind: str, url: str, count: int, rounds: int) -> float:
    async def burst(connections: list[Connection]) -> float:
        async def one(i: int, connection: Connection) -> None:
            target, body, read = requests_for(kind, url, i)
            path = "/" + target.split("/", 3)[3]
            status, data = await connection.post(path, json.dumps(body).encode())
            if status != 200 or read(json.loads(data)) != ANSWER:
                raise RuntimeError(f"{kind} answered {status}: {data[:200]!r}")

        start = time.perf_counter()
        await asyncio.gather(*(one(i, c) for i, c in enumerate(connections)))
        return count / (time.perf_counter() - start)

    async def main() -> float:
        connections = [await Connection.open(url) for _ in range(count)]
        try:
            await burst(connections)  # warm-up
            return statistics.median([await burst(connections) for _ in range(rounds)])
        finally:
            for connection in connections:
                connection.close()

    return asyncio.run(main())


def ttft_ms(kind: str, url: str, count: int) -> float:
    import httpx

    times = []
    with httpx.Client(timeout=30) as client:
        for i in range(count + 3):
            target, body, _ = requests_for(kind, url, i)
            if kind == "agentkit":
                body["stream"] = True
                marker = b'"content":"P'
            else:
                target = target.replace("/invoke", "/stream")
                marker = b"event: data"
            start = time.perf_counter()
            took = None
            with client.stream("POST", target, json=body) as reply:
                for raw in reply.iter_raw():
                    if took is None and marker in raw.replace(b'": "', b'":"'):
                        took = time.perf_counter() - start
            if took is None:
                raise RuntimeError(f"{kind} streamed no token")
            if i >= 3:
                times.append(took)
    return statistics.median(times) * 1000


def measure(kind: str, quick: bool) -> dict[str, float]:
    with server(kind) as url:
        return {
            "p50_ms": sequential_ms(kind, url, SEQUENTIAL),
            "rps": concurrent_rps(kind, url, CONCURRENT, 3 if quick else 10),
            "ttft_ms": ttft_ms(kind, url, 20 if quick else 100),
        }


def main() -> None:
    if "--server" in sys.argv:
        kind = sys.argv[sys.argv.index("--server") + 1]
        run_server(kind, int(sys.argv[sys.argv.index("--port") + 1]))
        return
    args = parse_args(__doc__ or "serve benchmark")
    ours = measure("agentkit", args.quick)
    peer = measure("langserve", args.quick)
    import langserve

    result = {
        "benchmark": "serve",
        "quick": args.quick,
        "peer": f"langserve {langserve.__version__} (FastAPI add_routes)",
        "requests_sequential": SEQUENTIAL,
        "requests_concurrent": CONCURRENT,
        "p50_ms": round(ours["p50_ms"], 3),
        "p50_ms_langserve": round(peer["p50_ms"], 3),
        "latency_ratio": round(peer["p50_ms"] / ours["p50_ms"], 2),
        "rps": round(ours["rps"], 1),
        "rps_langserve": round(peer["rps"], 1),
        "throughput_ratio": round(ours["rps"] / peer["rps"], 2),
        "ttft_ms": round(ours["ttft_ms"], 3),
        "ttft_ms_langserve": round(peer["ttft_ms"], 3),
    }
    emit(result, "serve", args.quick)


if __name__ == "__main__":
    main()
