"""The wikipedia tool against recorded MediaWiki responses (the network is never used)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from agentkit.tools import ToolExecutionError, WikipediaTool, run_tool_safely, wikipedia

pytest.importorskip("wikipedia")

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "wikipedia_responses.json").read_text())


class FakeResponse:
    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def json(self) -> Any:
        if isinstance(self.payload, Exception):
            raise self.payload
        return self.payload


class RecordedWikipedia:
    """Stands in for ``requests.get``: answers from the recorded responses, logs requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(
        self, url: str, params: dict[str, Any], headers: Any = None, timeout: Any = None
    ) -> FakeResponse:
        self.requests.append({"url": url, "params": dict(params), "timeout": timeout})
        for entry in RECORDED["responses"]:
            if all(str(params.get(k)) == str(v) for k, v in entry["match"].items()):
                return FakeResponse(entry["response"])
        raise AssertionError(f"no recorded response for {params}")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> RecordedWikipedia:
    fake = RecordedWikipedia()
    monkeypatch.setattr(requests, "get", fake)
    return fake


def test_search_returns_titles_urls_and_summaries(recorded: RecordedWikipedia) -> None:
    text = wikipedia.invoke("Alan Turing")
    pages = text.split("\n\n")
    assert pages[0].startswith(
        "Page: Alan Turing\nURL: https://en.wikipedia.org/wiki/Alan_Turing\nSummary: Alan "
        "Mathison Turing (23 June 1912"
    )
    assert "father of theoretical computer science" in pages[0]
    assert pages[1].startswith(
        "Page: Turing Award\nURL: https://en.wikipedia.org/wiki/Turing_Award"
    )
    assert len(recorded.requests) == 5  # one search, then info + extract per page
    assert all(r["timeout"] == 10.0 for r in recorded.requests)
    assert all(r["url"] == "https://en.wikipedia.org/w/api.php" for r in recorded.requests)


def test_options_set_language_page_count_summary_length_and_timeout(
    recorded: RecordedWikipedia,
) -> None:
    tool = WikipediaTool(lang="de", top_k=1, max_chars=40, timeout=3)
    text = tool.invoke({"query": "Alan Turing"})
    assert "Turing Award" not in text
    summary = text.split("Summary: ")[1]
    assert summary.endswith("...") and len(summary) <= 43
    assert {r["url"] for r in recorded.requests} == {"https://de.wikipedia.org/w/api.php"}
    assert {r["timeout"] for r in recorded.requests} == {3.0}
    assert recorded.requests[0]["params"]["srlimit"] == 1


def test_disambiguation_pages_list_the_options(recorded: RecordedWikipedia) -> None:
    text = wikipedia.invoke("Mercury")
    assert text.startswith("Page: Mercury\nSummary: 'Mercury' may refer to: Mercury (planet)")
    assert "Mercury (element)" in text and "Mercury (mythology)" in text


def test_no_match_says_so(recorded: RecordedWikipedia) -> None:
    assert wikipedia.invoke("Zzyzxqq Nonexistent").startswith(
        "No Wikipedia page matches 'Zzyzxqq Nonexistent'"
    )


def test_offline_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.ConnectionError("Failed to resolve 'en.wikipedia.org'")

    monkeypatch.setattr(requests, "get", offline)
    with pytest.raises(ToolExecutionError, match=r"Wikipedia is unreachable \(offline\?\)"):
        wikipedia.invoke("Alan Turing")
    outcome = run_tool_safely(wikipedia, "Alan Turing")
    assert "Wikipedia is unreachable (offline?)" in outcome.observation
    assert outcome.error is not None


def test_plain_connection_errors_and_timeouts_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("Network is unreachable")

    monkeypatch.setattr(requests, "get", refused)
    with pytest.raises(ToolExecutionError, match="unreachable"):
        wikipedia.invoke("Alan Turing")

    def slow(*args: Any, **kwargs: Any) -> Any:
        raise requests.exceptions.ReadTimeout("read timed out")

    monkeypatch.setattr(requests, "get", slow)
    with pytest.raises(ToolExecutionError, match=r"did not answer within 10.0 s"):
        wikipedia.invoke("Alan Turing")


def test_a_garbled_response_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        requests, "get", lambda *a, **k: FakeResponse(ValueError("Expecting value"))
    )
    with pytest.raises(ToolExecutionError, match="unexpected response"):
        wikipedia.invoke("Alan Turing")
