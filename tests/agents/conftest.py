"""Fixtures of the agent tests: a fixed clock and a recorded Wikipedia."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)

EIFFEL_EXTRACT = (
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the "
    "tower from 1887 to 1889. It is 330 metres (1,083 ft) tall."
)

# the MediaWiki API's answers to the three requests the wikipedia package makes
RECORDED_WIKIPEDIA = {
    "search": {"query": {"search": [{"title": "Eiffel Tower"}]}},
    "info|pageprops": {
        "query": {
            "pages": {
                "9232": {
                    "pageid": 9232,
                    "title": "Eiffel Tower",
                    "fullurl": "https://en.wikipedia.org/wiki/Eiffel_Tower",
                }
            }
        }
    },
    "extracts": {"query": {"pages": {"9232": {"extract": EIFFEL_EXTRACT}}}},
}


class _Response:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def json(self) -> dict[str, Any]:
        return self.payload


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The date tools see 2026-11-23 12:00 UTC."""
    from agentkit.tools import clock

    monkeypatch.setattr(clock, "current_time", lambda: FIXED_NOW)
    return FIXED_NOW


@pytest.fixture
def recorded_wikipedia(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``requests.get`` answers Wikipedia API calls from a recording; returns the requests."""
    import requests

    seen: list[dict[str, Any]] = []

    def fake_get(url: str, params: Any = None, **kwargs: Any) -> _Response:
        assert "wikipedia.org" in url
        seen.append(dict(params or {}))
        key = "search" if params.get("list") == "search" else params["prop"]
        return _Response(RECORDED_WIKIPEDIA[key])

    monkeypatch.setattr(requests, "get", fake_get)
    return seen
