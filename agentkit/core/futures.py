"""Settling an asyncio future from a callback: once, with a result or an exception."""

from __future__ import annotations

import asyncio
from typing import TypeVar

T = TypeVar("T")


def settle(future: asyncio.Future[T], value: T, error: BaseException | None) -> None:
    """Give ``future`` the result ``value``, or ``error`` when there is one; a future that
    is already done (cancelled by a caller who stopped waiting) is left as it is."""
    if future.done():
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
