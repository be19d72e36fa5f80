"""Tracing and timeouts apply to every Runnable subclass, without a decorator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from agentkit.core import InMemoryTracer, Lambda, RunConfig, Runnable, RunTimeoutError, traced
from agentkit.core.config import ConfigLike


class Sleeper(Runnable[float, str]):
    """A user's node: no decorator anywhere."""

    def invoke(self, input: float, config: ConfigLike = None) -> str:
        time.sleep(input)
        return "woke"


class AsyncSleeper(Runnable[float, str]):
    def invoke(self, input: float, config: ConfigLike = None) -> str:
        return "sync"

    async def ainvoke(self, input: float, config: ConfigLike = None) -> str:
        await asyncio.sleep(input)
        return "woke"


class Words(Runnable[str, str]):
    """Streams words; its stream calls its own invoke for nothing but a check."""

    def invoke(self, input: str, config: ConfigLike = None) -> str:
        return input

    def stream(self, input: str, config: ConfigLike = None) -> Iterator[str]:
        whole = self.invoke(input, config)  # a self-call: no second span
        yield from whole.split()

    async def astream(self, input: str, config: ConfigLike = None) -> AsyncIterator[str]:
        for word in input.split():
            yield word


def tracer_config() -> tuple[InMemoryTracer, RunConfig]:
    tracer = InMemoryTracer()
    return tracer, RunConfig(tracers=(tracer,))


def test_a_user_subclass_makes_spans_for_every_entry_point() -> None:
    tracer, config = tracer_config()
    assert Sleeper().invoke(0, config) == "woke"
    assert asyncio.run(AsyncSleeper().ainvoke(0, config)) == "woke"
    assert list(Words().stream("a b", config)) == ["a", "b"]

    async def astream() -> list[str]:
        return [w async for w in Words().astream("c d", config)]

    assert asyncio.run(astream()) == ["c", "d"]
    assert [(s.name, s.kind, s.output) for s in tracer.spans] == [
        ("Sleeper", "node", "woke"),
        ("AsyncSleeper", "node", "woke"),
        ("Words", "node", "ab"),
        ("Words", "node", "cd"),
    ]


def test_spans_of_a_user_node_nest_inside_a_chain() -> None:
    tracer, config = tracer_config()
    chain = Lambda(lambda x: x) | Sleeper()
    chain.invoke(0, config)
    (root,) = tracer.roots()
    assert [s.name for s in tracer.children(root)] == ["<lambda>", "Sleeper"]


def test_timeout_applies_to_a_user_subclass() -> None:
    with pytest.raises(RunTimeoutError, match=r"Sleeper did not finish within 0\.1 s"):
        Sleeper().with_config(timeout=0.1).invoke(0.5)


def test_timeout_applies_to_a_user_async_subclass() -> None:
    node = AsyncSleeper().with_config(timeout=0.1)
    with pytest.raises(RunTimeoutError, match="AsyncSleeper did not finish"):
        asyncio.run(node.ainvoke(0.5))


def test_timeout_inside_a_chain_names_the_slow_node() -> None:
    chain = Lambda(lambda x: x) | Sleeper().with_config(timeout=0.1)
    with pytest.raises(RunTimeoutError, match="Sleeper"):
        chain.invoke(0.5)


def test_the_method_receives_a_run_config_whatever_it_was_given() -> None:
    seen: list[Any] = []

    class Spy(Runnable[str, str]):
        def invoke(self, input: str, config: ConfigLike = None) -> str:
            seen.append(config)
            return input

    Spy().invoke("a")
    Spy().invoke("a", {"tags": ["x"]})
    assert all(isinstance(c, RunConfig) for c in seen)
    assert seen[1].tags == ("x",)


def test_a_leftover_decorator_does_not_trace_twice() -> None:
    class Old(Runnable[str, str]):
        @traced
        def invoke(self, input: str, config: ConfigLike = None) -> str:
            return input

    tracer, config = tracer_config()
    Old().invoke("a", config)
    assert len(tracer.spans) == 1


def test_with_config_makes_no_span_of_its_own() -> None:
    tracer, config = tracer_config()
    Sleeper().with_config(tags=["t"]).invoke(0, config)
    assert [(s.name, s.tags) for s in tracer.spans] == [("Sleeper", ("t",))]


def test_auto_trace_false_opts_a_class_out() -> None:
    class Invisible(Runnable[str, str]):
        auto_trace = False

        def invoke(self, input: str, config: ConfigLike = None) -> str:
            return Sleeper().invoke(0, config)

    tracer, config = tracer_config()
    Invisible().invoke("a", config)
    assert [s.name for s in tracer.spans] == ["Sleeper"]


def test_a_failing_user_node_records_the_error() -> None:
    class Broken(Runnable[str, str]):
        def invoke(self, input: str, config: ConfigLike = None) -> str:
            raise KeyError(input)

    tracer, config = tracer_config()
    with pytest.raises(KeyError):
        Broken().invoke("\x00' OR 1=1 --", config)
    (span,) = tracer.spans
    assert span.error is not None and span.error.startswith("KeyError:")
