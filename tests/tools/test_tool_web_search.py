"""The web_search tool with recorded ddgs results (the network is never used)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.tools import ToolExecutionError, WebSearchTool, run_tool_safely, web_search

ddgs = pytest.importorskip("ddgs")
from ddgs.exceptions import DDGSException, TimeoutException  # noqa: E402

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "ddgs_results.json").read_text())


class RecordedDDGS:
    """Stands in for ``ddgs.DDGS``; replays the recorded results and logs the calls."""

    calls: list[dict[str, Any]] = []
    error: Exception | None = None

    def __init__(self, timeout: int | None = 5) -> None:
        self.timeout = timeout

    def text(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        RecordedDDGS.calls.append({"query": query, "timeout": self.timeout, **kwargs})
        if RecordedDDGS.error is not None:
            raise RecordedDDGS.error
        return RECORDED["results"][: kwargs.get("max_results", 10)]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> type[RecordedDDGS]:
    RecordedDDGS.calls, RecordedDDGS.error = [], None
    monkeypatch.setattr(ddgs, "DDGS", RecordedDDGS)
    return RecordedDDGS


def test_results_have_title_url_and_snippet(recorded: type[RecordedDDGS]) -> None:
    text = web_search.invoke(RECORDED["query"])
    blocks = text.split("\n\n")
    assert len(blocks) == 3
    assert blocks[0] == (
        "[1] asyncio — Asynchronous I/O — Python 3.12 documentation\n"
        "URL: https://docs.python.org/3/library/asyncio.html\n"
        "asyncio is a library to write concurrent code using the async/await syntax. asyncio "
        "is used as a foundation for multiple Python asynchronous frameworks."
    )
    assert "Tasks.   Coroutines" not in blocks[2]  # whitespace in snippets is collapsed
    assert recorded.calls == [
        {
            "query": "python asyncio tutorial",
            "timeout": 10,
            "region": "us-en",
            "safesearch": "moderate",
            "max_results": 5,
        }
    ]


def test_options_reach_the_search(recorded: type[RecordedDDGS]) -> None:
    tool = WebSearchTool(max_results=2, region="uk-en", safesearch="off", timeout=3)
    assert tool.invoke({"query": "asyncio"}).count("URL: ") == 2
    call = recorded.calls[0]
    assert (call["timeout"], call["region"], call["safesearch"]) == (3, "uk-en", "off")
    assert tool.to_dict() == {
        "type": "tool",
        "name": "web_search",
        "max_results": 2,
        "region": "uk-en",
        "safesearch": "off",
        "timeout": 3.0,
    }


def test_no_results_is_an_answer_not_an_error(recorded: type[RecordedDDGS]) -> None:
    recorded.error = DDGSException("No results found.")
    assert web_search.invoke("zzqqxx") == "No web results for 'zzqqxx'. Try other words."


def test_timeouts_are_reported(recorded: type[RecordedDDGS]) -> None:
    recorded.error = TimeoutException("request timed out")
    with pytest.raises(ToolExecutionError, match=r"did not answer within 10\.0 s"):
        web_search.invoke("asyncio")


def test_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real ddgs code runs; its HTTP client's connections fail."""
    import ddgs.http_client

    class Unreachable:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def headers_update(self, *args: Any, **kwargs: Any) -> None:
            pass

        def request(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("Network is unreachable")

    monkeypatch.setattr(ddgs.http_client.primp, "Client", Unreachable)
    with pytest.raises(ToolExecutionError, match=r"Web search is unreachable \(offline\?\)"):
        web_search.invoke("asyncio")
    outcome = run_tool_safely(web_search, {"query": "asyncio"})
    assert "unreachable (offline?)" in outcome.observation and outcome.error is not None
