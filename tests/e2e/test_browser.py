"""The app in a real browser: ``streamlit run`` on a free port with a fake-model chain,
Debian's chromium driven by playwright; a question typed into the chat input gets an
answer with its sources. A screenshot is saved under ``test-artifacts/``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentkit.app import main_script
from tests.app.fixtures import ANSWER

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not become healthy at {url} within {timeout} s")


@pytest.fixture
def app_url(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("streamlit", reason="needs the 'app' extra (streamlit)")
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["AGENTKIT_APP_HOME"] = str(tmp_path / "app")
    command = [
        sys.executable, "-m", "streamlit", "run", str(main_script()),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--", "--chain", "tests.app.fixtures:fake_rag_chain", "--runs", str(tmp_path / "runs"),
    ]  # fmt: skip
    with served(command, env, port, tmp_path / "streamlit.log") as url:
        yield url


@contextmanager
def served(command: list[str], env: dict[str, str], port: int, log_path: Path) -> Iterator[str]:
    """Run ``command`` (a Streamlit server on 127.0.0.1:``port``), logging to ``log_path``;
    yields its URL once healthy and stops it (terminate, then kill) on exit."""
    log = log_path.open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_a_question_typed_in_the_browser_gets_an_answer_with_sources(app_url: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium) - the browser test needs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(app_url, wait_until="domcontentloaded")
            box = page.get_by_test_id("stChatInput").locator("textarea")
            box.wait_for(timeout=60_000)
            box.fill("How big is the Amazon rainforest?")
            box.press("Enter")
            answer = page.get_by_text(ANSWER, exact=True)
            answer.first.wait_for(timeout=60_000)
            # a rerun can show the streamed and the re-rendered reply for a moment
            sync_api.expect(answer).to_have_count(1, timeout=60_000)
            page.get_by_text("Sources (2)").click()
            page.get_by_text("Amazon rainforest", exact=True).first.wait_for(timeout=10_000)
            page.get_by_text("retrieval score 1.000").wait_for(timeout=10_000)
            assert "session=" in page.url
            page.screenshot(path=str(ARTIFACTS / "chat-answer.png"), full_page=True)
        finally:
            browser.close()
