"""Interop tests need the ``interop`` extra (LangChain, LlamaIndex, langchain-tests).

LangChain's standard suites include ``async def`` tests; they run here on a fresh event loop
each (``asyncio.run``), so the suite needs no asyncio plugin mode."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

pytest.importorskip("langchain_core", reason="the interop extra is not installed")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: Any) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True
