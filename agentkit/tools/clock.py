"""The ``today`` and ``now`` tools: the current date or date and time, in a time zone.

Both read :func:`current_time` (replace it in tests for a fixed clock). Time zones are IANA
names (``"Europe/Paris"``, ``"UTC"``) resolved with :mod:`zoneinfo`; without one, the
machine's local time zone is used.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from agentkit.tools.base import ToolInputError
from agentkit.tools.function import FunctionTool
from agentkit.tools.registry import register_tool

ZONE_HINT = "Use an IANA time zone name such as 'UTC', 'Europe/Paris' or 'America/New_York'"


def current_time() -> datetime:
    """The current time, time-zone aware (UTC)."""
    return datetime.now(timezone.utc)


def _zone(name: str | None) -> tzinfo | None:
    if name is None or not name.strip():
        return None
    name = name.strip()
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolInputError(
            f"unknown time zone {name!r} (if it is a real zone, install the 'tzdata' package)",
            name,
            ZONE_HINT,
        ) from None


def _local(zone_name: str | None) -> datetime:
    moment = current_time()
    zone = _zone(zone_name)
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def today(timezone: str | None = None) -> str:
    """Today's date, as YYYY-MM-DD with the weekday.

    Args:
        timezone: an IANA time zone name such as "Europe/Paris"; default: local time.
    """
    moment = _local(timezone)
    return f"{moment:%Y-%m-%d} ({moment:%A})"


def now(timezone: str | None = None) -> str:
    """The current date and time, as ISO 8601 with the UTC offset and the weekday.

    Args:
        timezone: an IANA time zone name such as "Europe/Paris"; default: local time.
    """
    moment = _local(timezone).replace(microsecond=0)
    return f"{moment.isoformat()} ({moment:%A}, {moment.tzname()})"


today_tool = FunctionTool(today, name="today")
now_tool = FunctionTool(now, name="now")
today_tool.idempotent = now_tool.idempotent = True  # read-only
register_tool("today", today_tool)
register_tool("now", now_tool)
