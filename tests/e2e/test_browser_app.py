"""The app in a real browser, as a new user meets it (issue 19): deep links keep the app's
own navigation, the welcome screen, sources with the answer highlighted, chat history per
index and a bad model choice. Each test starts ``streamlit run`` with the command line
``agentkit app`` builds (127.0.0.1, a free port) and drives Debian's chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, served

pytestmark = pytest.mark.slow

NAV = ("Chat", "Documents", "Evaluations", "Graph")


@contextmanager
def running_app(tmp_path: Path, *args: str) -> Iterator[str]:
    """The app on 127.0.0.1 with the given ``agentkit app`` settings; killed on exit."""
    from agentkit.commands.app import streamlit_command
    from agentkit.workspace.settings import AppSettings

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["AGENTKIT_APP_HOME"] = str(tmp_path / "app")
    env["AGENTKIT_APP_EMBEDDER"] = "hashing"
    settings = AppSettings.load(["--runs", str(tmp_path / "runs"), *args], env)
    port = free_port()
    command = streamlit_command(settings.to_args(), port, headless=True)
    split = command.index("--")
    command[split:split] = ["--server.fileWatcherType", "none"]
    with served(command, env, port, tmp_path / f"streamlit-{port}.log") as url:
        yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    pytest.importorskip("streamlit", reason="needs the 'app' extra (streamlit)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium) - the browser test needs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def demo_index(tmp_path: Path) -> Path:
    """The sample documents in an index built with the hashing embedder."""
    from agentkit.workspace.documents import ingest_files

    folder = tmp_path / "demo-index"
    docs = sorted((ROOT / "data" / "sample" / "docs").glob("*.md"))
    ingest_files(folder, docs, "hashing")
    return folder


def expect(locator: Any) -> Any:
    """Playwright's retrying assertions (imported late: the browser extra is optional)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_test_id("stSidebar").wait_for(timeout=60_000)
    return page


def ask(page: Any, question: str) -> None:
    box = page.get_by_test_id("stChatInput").locator("textarea")
    box.wait_for(timeout=60_000)
    box.fill(question)
    box.press("Enter")


def nav_labels(page: Any) -> list[str]:
    nav = page.get_by_test_id("stSidebarNav")
    nav.wait_for(timeout=60_000)
    return [t.strip() for t in nav.locator("a").all_inner_texts()]


def test_deep_links_show_the_apps_own_navigation(
    browser: Any, tmp_path: Path, demo_index: Path
) -> None:
    with running_app(tmp_path, "--index", str(demo_index), "--model", "fake") as url:
        for path, title in (("documents", "Documents"), ("evaluations", "Evaluations"),
                            ("graph", "Chain graph")):  # fmt: skip
            page = open_page(browser, f"{url}/{path}")  # a fresh tab on a bookmark
            page.get_by_role("heading", name=title, exact=True).wait_for(timeout=60_000)
            labels = nav_labels(page)
            assert [label.split("\n")[-1] for label in labels] == list(NAV), labels
            assert not any(label.lower() in ("main", "chat.py") for label in labels)
            icons = page.get_by_test_id("stSidebarNav").get_by_test_id("stIconMaterial")
            assert icons.count() == len(NAV)
            width = page.get_by_test_id("stMainBlockContainer").bounding_box()["width"]
            assert width > 800  # the wide layout (Streamlit's narrow one is 736 px at most)
            page.close()


def test_the_welcome_screen_and_no_deploy_button(
    browser: Any, tmp_path: Path, demo_index: Path
) -> None:
    with running_app(tmp_path, "--index", str(demo_index), "--model", "fake") as url:
        page = open_page(browser, url)
        page.get_by_text("What you can ask").wait_for(timeout=60_000)
        for label in ("Documents", "Chunks", "Embedder"):
            metric = page.get_by_test_id("stMetric").filter(has_text=label)
            metric.first.wait_for(timeout=30_000)
        sample = page.get_by_role("button", name="What is Amazon rainforest?")
        sample.wait_for(timeout=10_000)
        assert page.get_by_text("The active model (fake) can:").count() == 1
        assert page.get_by_test_id("stAppDeployButton").count() == 0
        sample.click()
        page.get_by_test_id("stChatMessage").first.wait_for(timeout=60_000)
        page.get_by_text("What you can ask").wait_for(state="detached", timeout=60_000)


def test_sources_show_the_answer_highlighted_and_open_the_chunk(
    browser: Any, tmp_path: Path
) -> None:
    from tests.app.fixtures import ANSWER

    chain = "tests.app.fixtures:fake_rag_chain"
    with running_app(tmp_path, "--chain", chain) as url:
        page = open_page(browser, url)
        ask(page, "How big is the Amazon rainforest?")
        answer = page.get_by_text(ANSWER, exact=True)
        answer.first.wait_for(timeout=60_000)
        # While Streamlit reruns, the streamed reply and the re-rendered one can both be on
        # the page for a moment; wait for the rerun to settle to one before clicking.
        expect(answer).to_have_count(1, timeout=60_000)
        page.get_by_text("Retrieved 2 passages").wait_for(timeout=10_000)
        page.get_by_text("Sources (2)").click()
        mark = page.locator("span[style*='background']", has_text="The Amazon rainforest covers")
        mark.first.wait_for(timeout=10_000)
        link = page.get_by_role("link", name="Open in Documents").first
        assert "chunk=amazon%231" in (link.get_attribute("href") or "")


def test_chat_history_is_kept_per_index(browser: Any, tmp_path: Path, demo_index: Path) -> None:
    question = "How big is the Amazon rainforest?"
    with running_app(tmp_path, "--index", str(demo_index), "--model", "fake") as url:
        page = open_page(browser, url)
        ask(page, question)
        past = page.get_by_test_id("stSidebar").get_by_role("button").filter(has_text=question)
        try:
            past.first.wait_for(timeout=60_000)  # saved: listed under "Past chats"
        except Exception:
            page.screenshot(path=str(tmp_path / "history.png"), full_page=True)
            raise
    other = tmp_path / "other-index"
    with running_app(tmp_path, "--index", str(other), "--model", "fake") as url:
        page = open_page(browser, url)
        page.get_by_role("button", name="New chat").wait_for(timeout=60_000)
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.get_by_role("button").filter(has_text=question).count() == 0
    chats = sorted(p.name for p in (tmp_path / "app" / "chats").glob("*.sqlite"))
    assert [c.split("-")[0] for c in chats] == ["demo", "other"], chats


def test_a_bad_model_choice_keeps_the_page_usable(
    browser: Any, tmp_path: Path, demo_index: Path
) -> None:
    with running_app(tmp_path, "--index", str(demo_index), "--model", "nonsense:model") as url:
        page = open_page(browser, url)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Cannot use the model nonsense:model").wait_for(timeout=60_000)
        assert sidebar.get_by_test_id("stAlertContentError").count() == 1
        sidebar.get_by_text("Ask the documents").wait_for(timeout=10_000)  # the controls stay
        sidebar.get_by_text("Top-k").wait_for(timeout=10_000)
        ask(page, "How big is the Amazon rainforest?")
        page.get_by_test_id("stChatMessage").get_by_text(
            "How big is the Amazon rainforest?"
        ).wait_for(timeout=60_000)
        page.get_by_text("Could not answer").first.wait_for(timeout=60_000)
