"""Start ``agentkit serve`` as a subprocess on a free 127.0.0.1 port; stop it by its process
group (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).parent
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    trace: Path | None = None

    @property
    def base(self) -> str:
        return f"{self.url}/v1"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(tmp: Path, args: list[str], env: dict[str, str] | None = None) -> Server:
    port = free_port()
    log = tmp / f"server-{port}.log"
    environ = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    environ.update(env or {})
    command = [sys.executable, "-m", "agentkit.cli", "serve", *args, "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=environ,
            cwd=HERE,
            start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"agentkit serve exited early:\n{server.output()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=1.0).status_code == 200:
                return server
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"agentkit serve did not start in {START_TIMEOUT} s:\n{server.output()}")


def stop_server(server: Server) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not exited."""
    process = server.process
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
