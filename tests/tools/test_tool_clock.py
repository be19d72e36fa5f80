"""The today and now tools, with a fixed clock."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agentkit.tools import ToolInputError, get_tool, now, today
from agentkit.tools import clock as clock_module

FIXED = datetime(2024, 2, 29, 23, 30, 15, 123456, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock_module, "current_time", lambda: FIXED)


def test_today_in_a_time_zone() -> None:
    assert today.invoke({"timezone": "UTC"}) == "2024-02-29 (Thursday)"
    assert today.invoke("Europe/Paris") == "2024-03-01 (Friday)"  # already tomorrow there
    assert today.invoke({"timezone": "America/New_York"}) == "2024-02-29 (Thursday)"


def test_now_is_iso_with_offset_and_zone() -> None:
    assert now.invoke("UTC") == "2024-02-29T23:30:15+00:00 (Thursday, UTC)"
    assert now.invoke({"timezone": "Asia/Tokyo"}) == "2024-03-01T08:30:15+09:00 (Friday, JST)"


def test_without_a_zone_local_time_is_used() -> None:
    local = FIXED.astimezone()
    assert today.invoke({}) == f"{local:%Y-%m-%d} ({local:%A})"
    assert today.invoke("None") == today.invoke("") == today.invoke({})
    assert now.invoke("").startswith(local.replace(microsecond=0).isoformat())


def test_unknown_zones_are_input_errors() -> None:
    with pytest.raises(ToolInputError, match=r"unknown time zone 'Mars/Olympus'.*IANA"):
        today.invoke("Mars/Olympus")


def test_registered_by_name() -> None:
    assert get_tool("today") is today and get_tool("now") is now
    assert today.args_schema["properties"]["timezone"]["description"].startswith("an IANA")
    assert "timezone" not in today.args_schema.get("required", [])
