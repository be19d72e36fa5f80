"""Flows: one generator drives both invoke and ainvoke; errors reach the flow's except."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from agentkit.core import Call, Flow, Gather, InMemoryTracer, Lambda, RunConfig, Sleep
from agentkit.core.flow import FlowGen


def fail(x: Any) -> Any:
    raise ValueError(f"bad {x}")


def inc(x: int) -> int:
    return x + 1


class Recover(Flow[int, dict[str, Any]]):
    """Calls, gathers, sleeps, and catches a failing call: the same code in both modes."""

    def flow(self, input: int, config: RunConfig) -> FlowGen:
        first = yield Call(Lambda(inc), input, config)
        many = yield Gather([Call(Lambda(inc), i, config) for i in range(first, first + 3)], 2)
        try:
            yield Call(Lambda(fail), input, config)
            caught = None
        except ValueError as exc:
            caught = str(exc)
        yield Sleep(0)
        return {"first": first, "many": many, "caught": caught}


EXPECTED = {"first": 2, "many": [3, 4, 5], "caught": "bad 1"}


def test_flow_runs_sync_and_async_with_the_same_result() -> None:
    assert Recover().invoke(1) == EXPECTED
    assert asyncio.run(Recover().ainvoke(1)) == EXPECTED


def test_uncaught_error_in_a_flow_propagates() -> None:
    class Boom(Flow[int, int]):
        def flow(self, input: int, config: RunConfig) -> FlowGen:
            return (yield Call(Lambda(fail), input, config))

    with pytest.raises(ValueError, match="bad 3"):
        Boom().invoke(3)
    with pytest.raises(ValueError, match="bad 4"):
        asyncio.run(Boom().ainvoke(4))


def test_gather_error_is_thrown_into_the_flow() -> None:
    class G(Flow[int, str]):
        def flow(self, input: int, config: RunConfig) -> FlowGen:
            try:
                yield Gather([Call(Lambda(inc), 1, config), Call(Lambda(fail), 2, config)])
            except ValueError as exc:
                return f"caught {exc}"
            return "no error"

    assert G().invoke(0) == "caught bad 2"
    assert asyncio.run(G().ainvoke(0)) == "caught bad 2"


def test_gather_single_call_and_limit_one_run_inline() -> None:
    class G(Flow[int, list[int]]):
        def __init__(self, limit: int | None) -> None:
            self.limit = limit

        def flow(self, input: int, config: RunConfig) -> FlowGen:
            calls = [Call(Lambda(inc), i, config) for i in range(input)]
            return (yield Gather(calls, self.limit))

    assert G(None).invoke(1) == [1]
    assert G(1).invoke(3) == [1, 2, 3]
    assert asyncio.run(G(1).ainvoke(3)) == [1, 2, 3]
    assert asyncio.run(G(2).ainvoke(5)) == [1, 2, 3, 4, 5]


def test_sleep_uses_time_and_asyncio_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[tuple[str, float]] = []
    monkeypatch.setattr(time, "sleep", lambda s: slept.append(("sync", s)))

    async def fake_sleep(seconds: float) -> None:
        slept.append(("async", seconds))

    class S(Flow[int, int]):
        def flow(self, input: int, config: RunConfig) -> FlowGen:
            yield Sleep(0.5)
            return input

    assert S().invoke(1) == 1
    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    assert asyncio.run(S().ainvoke(2)) == 2
    assert slept == [("sync", 0.5), ("async", 0.5)]


def test_flow_nodes_make_parent_child_spans() -> None:
    tracer = InMemoryTracer()
    Recover().invoke(1, RunConfig(tracers=(tracer,)))
    (root,) = tracer.roots()
    assert root.name == "Recover"
    kids = tracer.children(root)
    assert [k.name for k in kids].count("inc") == 4
    assert any(k.name == "fail" and k.error == "ValueError: bad 1" for k in kids)
    assert root.error is None
