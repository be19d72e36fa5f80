"""API keys and graceful shutdown of ``agentkit serve`` (its own subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.serve.server_process import start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
KEY = "sk-test-secret-key-1234"


def test_keys_are_required_and_never_logged_and_shutdown_is_graceful(tmp_path: Path) -> None:
    server = start_server(
        tmp_path,
        ["echo=served_components:echo", "slow=served_components:slow"],
        env={"AGENTKIT_API_KEYS": f"other-key,{KEY}"},
    )
    try:
        body = {"model": "echo", "messages": [{"role": "user", "content": "hi"}]}
        url = f"{server.base}/chat/completions"
        assert httpx.post(url, json=body, timeout=10).status_code == 401
        wrong = httpx.post(url, json=body, headers={"Authorization": "Bearer nope"}, timeout=10)
        assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
        basic = httpx.post(url, json=body, headers={"Authorization": f"Basic {KEY}"}, timeout=10)
        assert basic.status_code == 401
        api = openai.OpenAI(base_url=server.base, api_key=KEY, timeout=30, max_retries=0)
        assert api.chat.completions.create(**body).choices[0].message.content == "echo [user] hi"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=server.base, api_key="bad", max_retries=0).models.list()
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200  # open

        # a slow request in flight when SIGTERM arrives still gets its answer
        answers: list[httpx.Response] = []
        slow = {"model": "slow", "messages": [{"role": "user", "content": "x"}]}
        headers = {"Authorization": f"Bearer {KEY}"}
        worker = threading.Thread(
            target=lambda: answers.append(httpx.post(url, json=slow, headers=headers, timeout=60))
        )
        worker.start()
        deadline = time.monotonic() + 30
        while httpx.get(f"{server.url}/healthz", timeout=10).json()["in_flight"] < 1:
            assert time.monotonic() < deadline, "the slow request never got in flight"
            time.sleep(0.05)
        os.killpg(server.process.pid, signal.SIGTERM)
        worker.join(60)
        assert answers and answers[0].status_code == 200
        assert answers[0].json()["choices"][0]["message"]["content"] == "slow answer"
        # uvicorn re-raises the signal once it has shut down cleanly
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert KEY not in server.output() and "1 API key" not in server.output()
        assert "2 API key(s)" in server.output()
    finally:
        stop_server(server)


def test_public_bind_without_a_key_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AGENTKIT_API_KEYS"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "agentkit.cli",
            "serve",
            "e=served_components:echo",
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=Path(__file__).parent,
    )
    assert done.returncode == 1
    assert "needs an API key" in done.stderr
