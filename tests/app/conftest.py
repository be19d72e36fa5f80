"""App test helpers: each test gets its own app home (history, uploads, index) and runs
folder; ``make_app`` starts the app headless with Streamlit's AppTest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agentkit.app import main_script

PAGES = {
    "chat": "views/chat.py",
    "documents": "views/documents.py",
    "evaluations": "views/evaluations.py",
    "graph": "views/graph.py",
}


@pytest.fixture
def app_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "app"
    monkeypatch.setenv("AGENTKIT_APP_HOME", str(home))
    monkeypatch.setenv("AGENTKIT_APP_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AGENTKIT_APP_EMBEDDER", "hashing")
    for name in ("CHAIN", "INDEX", "HISTORY", "MODEL", "UPLOADS"):
        monkeypatch.delenv(f"AGENTKIT_APP_{name}", raising=False)
    return home


def history_of(app_home: Path) -> Path:
    """The chat history file the app uses in a test (one per index and chain)."""
    import os

    from agentkit.workspace.settings import AppSettings

    return AppSettings.load((), os.environ).history


def uploads_of(app_home: Path) -> Path:
    """Where the app saves uploads for the default index (next to it)."""
    return app_home / "index-uploads"


@pytest.fixture
def make_app(app_home: Path) -> Callable[..., Any]:
    pytest.importorskip("streamlit", reason="the app tests need the 'app' extra (streamlit)")
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()

    def make(page: str | None = None, **query: str) -> AppTest:
        at = AppTest.from_file(str(main_script()), default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(PAGES[page]).run()
        return at

    return make
