"""batch / abatch: order, bounded concurrency, exceptions."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from agentkit.core import InMemoryTracer, Lambda, RunConfig, Runnable, traced


class InFlight(Runnable[int, int]):
    """Records the largest number of concurrent runs. Sync runs meet at a barrier of
    ``width`` so the test proves that ``width`` runs really overlap (no timing)."""

    def __init__(self, width: int) -> None:
        self.barrier = threading.Barrier(width, timeout=20)
        self.lock = threading.Lock()
        self.now = self.max = 0

    def _enter(self) -> None:
        with self.lock:
            self.now += 1
            self.max = max(self.max, self.now)

    def _leave(self) -> None:
        with self.lock:
            self.now -= 1

    @traced
    def invoke(self, input: int, config: Any = None) -> int:
        self._enter()
        try:
            self.barrier.wait()
            return input * 10
        finally:
            self._leave()

    @traced
    async def ainvoke(self, input: int, config: Any = None) -> int:
        self._enter()
        try:
            await asyncio.sleep(0.001)
            return input * 10
        finally:
            self._leave()


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd {x}")
    return x


def test_batch_preserves_order() -> None:
    node = Lambda(lambda x: x * x)
    assert node.batch(list(range(20))) == [x * x for x in range(20)]
    assert node.batch([]) == []
    assert node.batch([3]) == [9]


def test_batch_respects_max_concurrency() -> None:
    node = InFlight(width=3)
    assert node.batch(list(range(12)), max_concurrency=3) == [x * 10 for x in range(12)]
    assert node.max == 3


def test_batch_max_concurrency_from_config() -> None:
    node = InFlight(width=2)
    assert node.batch(list(range(6)), RunConfig(max_concurrency=2)) == [x * 10 for x in range(6)]
    assert node.max == 2


def test_batch_max_concurrency_one_runs_sequentially() -> None:
    node = InFlight(width=1)
    node.batch(list(range(4)), max_concurrency=1)
    assert node.max == 1


def test_batch_raises_or_returns_exceptions() -> None:
    node = Lambda(fail_on_odd)
    with pytest.raises(ValueError, match="odd 1"):
        node.batch([0, 1, 2])
    out = node.batch([0, 1, 2, 3], return_exceptions=True)
    assert out[0] == 0 and out[2] == 2
    assert isinstance(out[1], ValueError) and str(out[3]) == "odd 3"
    single = node.batch([1], return_exceptions=True)
    assert isinstance(single[0], ValueError)


def test_abatch_preserves_order_and_bounds_concurrency() -> None:
    node = InFlight(width=1)
    out = asyncio.run(node.abatch(list(range(12)), max_concurrency=3))
    assert out == [x * 10 for x in range(12)]
    assert node.max == 3


def test_abatch_unbounded_runs_all_at_once() -> None:
    node = InFlight(width=1)
    asyncio.run(node.abatch(list(range(8))))
    assert node.max == 8


def test_abatch_max_concurrency_from_config() -> None:
    node = InFlight(width=1)
    asyncio.run(node.abatch(list(range(8)), {"max_concurrency": 2}))
    assert node.max == 2


def test_abatch_return_exceptions() -> None:
    node = Lambda(fail_on_odd)
    out = asyncio.run(node.abatch([0, 1, 2], return_exceptions=True))
    assert out[0] == 0 and out[2] == 2 and isinstance(out[1], ValueError)
    with pytest.raises(ValueError, match="odd 1"):
        asyncio.run(node.abatch([0, 1, 2]))


def test_abatch_of_a_sync_only_runnable_uses_threads() -> None:
    class Sync(Runnable[int, int]):
        def invoke(self, input: int, config: Any = None) -> int:
            return input + 1

    assert asyncio.run(Sync().abatch([1, 2, 3], max_concurrency=2)) == [2, 3, 4]


def test_batch_traces_one_root_per_input() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(lambda x: x + 1, name="a") | Lambda(lambda x: x * 2, name="b")
    assert chain.batch([1, 2, 3], RunConfig(tracers=(tracer,))) == [4, 6, 8]
    roots = tracer.roots()
    assert len(roots) == 3
    for root in roots:
        assert [k.name for k in tracer.children(root)] == ["a", "b"]


def test_a_misspelt_batch_option_is_rejected_not_ignored() -> None:
    node = Lambda(lambda x: x)
    with pytest.raises(TypeError, match="argument 'max_concurency'; it takes max_concurrency"):
        node.batch([1, 2], max_concurency=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="it takes max_concurrency, return_exceptions"):
        asyncio.run(node.abatch([1], retries=3))  # type: ignore[call-arg]
