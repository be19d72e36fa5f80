"""``agentkit app`` is private by default: it listens on 127.0.0.1, a public host needs an
access token (or an explicit ``--no-auth``), and with a token every page shows nothing but
the token prompt until the visitor gives it. The token is never printed or put on a
command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit.app import main_script
from agentkit.app.auth import token_matches
from agentkit.cli import app
from agentkit.commands.app import is_loopback, streamlit_command

TOKEN = "s3cret-token-for-tests-0123456789"
PAGES = ("views/documents.py", "views/evaluations.py", "views/graph.py")
runner = CliRunner()


# --- the command ------------------------------------------------------------------------


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """What ``agentkit app`` would start: the command line and its environment."""
    pytest.importorskip("streamlit")
    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            seen.update(command=command, env=env)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr("subprocess.Popen", FakeServer)
    monkeypatch.setenv("AGENTKIT_APP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("AGENTKIT_APP_TOKEN", raising=False)
    return seen


def run_app(*args: str) -> Any:
    return runner.invoke(app, ["app", "--headless", *args])


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_the_app_binds_loopback_by_default(started: dict[str, Any]) -> None:
    assert option(streamlit_command([], None, True), "--server.address") == "127.0.0.1"
    result = run_app()
    assert result.exit_code == 0, result.output
    assert option(started["command"], "--server.address") == "127.0.0.1"
    assert "AGENTKIT_APP_TOKEN" not in started["env"]
    assert "WARNING" not in result.output and "warning" not in result.output


def test_a_public_host_without_a_token_is_refused(started: dict[str, Any]) -> None:
    result = run_app("--host", "0.0.0.0")
    assert result.exit_code == 1 and "command" not in started
    assert "--auth-token" in result.output and "--no-auth" in result.output


def test_no_auth_exposes_it_with_a_loud_warning(started: dict[str, Any]) -> None:
    result = run_app("--host", "0.0.0.0", "--no-auth")
    assert result.exit_code == 0, result.output
    assert option(started["command"], "--server.address") == "0.0.0.0"
    assert "WARNING" in result.output and "NO authentication" in result.output


def test_a_token_reaches_the_app_only_through_its_environment(
    started: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_app("--host", "0.0.0.0", "--auth-token", TOKEN, "--port", "8600")
    assert result.exit_code == 0, result.output
    assert started["env"]["AGENTKIT_APP_TOKEN"] == TOKEN
    assert not any(TOKEN in part for part in started["command"])  # not in the process list
    assert TOKEN not in result.output and TOKEN[:8] not in result.output
    assert "access token" in result.output and "HTTPS" in result.output

    started.clear()
    monkeypatch.setenv("AGENTKIT_APP_TOKEN", TOKEN)
    from_env = run_app("--host", "192.168.1.20")
    assert from_env.exit_code == 0, from_env.output
    assert started["env"]["AGENTKIT_APP_TOKEN"] == TOKEN and TOKEN not in from_env.output


def test_weak_or_contradictory_tokens_and_bad_hosts_are_refused(started: dict[str, Any]) -> None:
    short = run_app("--auth-token", "hunter2")
    assert short.exit_code == 1 and "at least 16 characters" in short.output
    assert "hunter2" not in short.output
    both = run_app("--host", "0.0.0.0", "--auth-token", TOKEN, "--no-auth")
    assert both.exit_code == 1 and TOKEN not in both.output
    bad = run_app("--host", "--evil")
    assert bad.exit_code != 0
    assert "command" not in started


def test_loopback_hosts() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.com", "localhost.evil.com"):
        assert not is_loopback(host), host


def test_tokens_compare_exactly() -> None:
    assert token_matches(TOKEN, TOKEN)
    for wrong in ("", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), None, 123, "é" * 20):
        assert not token_matches(wrong, TOKEN)


# --- the app ------------------------------------------------------------------------------


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    pytest.importorskip("streamlit", reason="the app tests need the 'app' extra (streamlit)")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AGENTKIT_APP_HOME", str(tmp_path / "app"))
    monkeypatch.setenv("AGENTKIT_APP_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AGENTKIT_APP_EMBEDDER", "hashing")
    monkeypatch.setenv("AGENTKIT_APP_CHAIN", "tests.app.fixtures:fake_rag_chain")
    monkeypatch.setenv("AGENTKIT_APP_TOKEN", TOKEN)
    for name in ("INDEX", "HISTORY", "MODEL", "UPLOADS"):
        monkeypatch.delenv(f"AGENTKIT_APP_{name}", raising=False)
    st.cache_resource.clear()

    def make(script: Path | None = None, **query: str) -> Any:
        at = AppTest.from_file(str(script or main_script()), default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        return at.run()

    return make


def locked(at: Any) -> bool:
    """Only the token prompt is shown: a title, a caption, a password box and its button."""
    assert not at.exception, at.exception
    assert [t.label for t in at.text_input] == ["Access token"]
    assert at.text_input[0].proto.type == at.text_input[0].proto.PASSWORD  # masked
    assert [b.label for b in at.button] == ["Open the app"]
    assert not at.chat_input and not at.sidebar.children
    assert not at.selectbox and not at.radio and not at.number_input and not at.expander
    shown = [e.value for kind in ("markdown", "caption", "text", "code") for e in getattr(at, kind)]
    return all("Index" not in str(s) and "session" not in str(s) for s in shown)


def test_without_the_token_every_page_shows_only_the_prompt(make_app: Callable[..., Any]) -> None:
    at = make_app()
    assert locked(at)
    for page in PAGES:
        assert locked(at.switch_page(page).run()), page
    # a page script run on its own (views/documents.py) is gated as well
    for page in PAGES:
        assert locked(make_app(main_script().parent / page)), page


def test_a_wrong_token_keeps_it_locked_and_the_right_one_opens_it(
    make_app: Callable[..., Any],
) -> None:
    at = make_app()
    at.text_input[0].input("not-the-token-at-all-000")
    at.button[0].click().run()
    assert locked(at)
    assert [e.value for e in at.error] == ["That is not the access token."]
    at.text_input[0].input(TOKEN)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.text_input and len(at.chat_input) == 1  # the Chat page
    at.switch_page("views/documents.py").run()
    assert not at.exception and "Documents" in [t.value for t in at.title]


def test_the_token_in_the_address_opens_it_once_and_leaves_the_address(
    make_app: Callable[..., Any],
) -> None:
    at = make_app(token=TOKEN)
    assert not at.exception, at.exception
    assert len(at.chat_input) == 1 and not at.text_input
    assert "token" not in at.query_params
    assert locked(make_app(token="wrong-token-wrong-token-wrong"))


def test_without_a_token_the_app_is_open(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGENTKIT_APP_TOKEN")
    at = make_app()
    assert not at.exception and len(at.chat_input) == 1 and not at.text_input
