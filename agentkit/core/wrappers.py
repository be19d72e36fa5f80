"""Wrappers that change how one node runs: retries, fallbacks, and a bound run config."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from collections.abc import Sequence as Seq
from typing import TYPE_CHECKING, Any

from agentkit.core.config import ConfigLike, RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.flow import Flow, FlowGen, Sleep, Stream
from agentkit.core.runnable import Runnable

if TYPE_CHECKING:
    from agentkit.core.graph import Graph


class Retry(Flow[Any, Any]):
    """Runs ``inner``, again on the given errors (``Runnable.with_retry``). Streams pass
    through; a stream is retried only before its first chunk (a failure after chunks
    reached the caller is raised, so output is never duplicated)."""

    kind = "retry"

    def __init__(
        self,
        inner: Runnable[Any, Any],
        attempts: int = 3,
        backoff: float = 0.0,
        on: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        if attempts < 1:
            raise UsageError(f"attempts must be at least 1, got {attempts}")
        if backoff < 0:
            raise UsageError(f"backoff must be >= 0 seconds, got {backoff}")
        self.inner, self.attempts, self.backoff, self.on = inner, attempts, backoff, on

    @property
    def name(self) -> str:
        return f"Retry({self.inner.name})"

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        for attempt in range(self.attempts):
            try:
                return (yield Stream(self.inner, input, config))
            except self.on:
                if attempt == self.attempts - 1:
                    raise
            if self.backoff:
                yield Sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def graph(self) -> Graph:
        return self.inner.graph()

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump, exception_names

        return {
            "type": "retry",
            "inner": dump(self.inner),
            "attempts": self.attempts,
            "backoff": self.backoff,
            "on": exception_names(self.on),
        }


class Fallbacks(Flow[Any, Any]):
    """Runs ``inner``, else each fallback in turn on the given errors
    (``Runnable.with_fallbacks``). Streams pass through; a stream falls back only before
    its first chunk."""

    kind = "fallbacks"

    def __init__(
        self,
        inner: Runnable[Any, Any],
        fallbacks: Seq[Runnable[Any, Any]],
        on: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        if not fallbacks:
            raise UsageError("with_fallbacks needs at least one fallback")
        self.inner, self.fallbacks, self.on = inner, list(fallbacks), on

    @property
    def name(self) -> str:
        return f"Fallbacks({self.inner.name})"

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        first: BaseException | None = None
        for candidate in [self.inner, *self.fallbacks]:
            try:
                return (yield Stream(candidate, input, config))
            except self.on as exc:
                first = first or exc
        assert first is not None
        raise first

    def graph(self) -> Graph:
        from agentkit.core.graph import Graph

        return Graph.fan_out(self, [r.graph() for r in [self.inner, *self.fallbacks]], join=False)

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump, exception_names

        return {
            "type": "fallbacks",
            "inner": dump(self.inner),
            "fallbacks": [dump(f) for f in self.fallbacks],
            "on": exception_names(self.on),
        }


class Configured(Runnable[Any, Any]):
    """Runs ``inner`` with run-config fields merged in (see ``Runnable.with_config``).
    Transparent: it makes no span of its own, and streams pass through."""

    kind = "configured"
    auto_trace = False

    def __init__(self, inner: Runnable[Any, Any], patch: Mapping[str, Any]) -> None:
        RunConfig().merge(**patch)  # validates field names and values now, not at run time
        self.inner, self.patch = inner, dict(patch)

    @property
    def name(self) -> str:
        return self.inner.name

    def _config(self, config: ConfigLike) -> RunConfig:
        from agentkit.core.config import ensure_config

        return ensure_config(config).merge(**self.patch)

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        return self.inner.invoke(input, self._config(config))

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Any:
        return await self.inner.ainvoke(input, self._config(config))

    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[Any]:
        return self.inner.stream(input, self._config(config))

    def transform(self, chunks: Any, config: ConfigLike = None) -> Iterator[Any]:
        return self.inner.transform(chunks, self._config(config))

    def astream(self, input: Any, config: ConfigLike = None) -> AsyncIterator[Any]:
        return self.inner.astream(input, self._config(config))

    def atransform(self, chunks: Any, config: ConfigLike = None) -> AsyncIterator[Any]:
        return self.inner.atransform(chunks, self._config(config))

    def graph(self) -> Graph:
        return self.inner.graph()

    def to_dict(self) -> dict[str, Any]:
        from agentkit.core.spec import dump

        if any(k in self.patch for k in ("tracers", "callbacks")):
            raise UsageError(
                "a config with tracers cannot be serialised; attach tracers at run time"
            )
        return {"type": "configured", "inner": dump(self.inner), "config": self.patch}


def _register_builders() -> None:
    from agentkit.core.spec import add_builder

    add_builder(
        "retry",
        lambda c: Retry(
            c.runnable("inner"),
            attempts=c.get("attempts", int, 3, minimum=1),
            backoff=c.get("backoff", float, 0.0, minimum=0),
            on=c.exceptions("on"),
        ),
    )
    add_builder(
        "fallbacks",
        lambda c: Fallbacks(c.runnable("inner"), c.runnables("fallbacks"), on=c.exceptions("on")),
    )
    add_builder("configured", lambda c: Configured(c.runnable("inner"), c.get("config", dict)))


_register_builders()

__all__ = ["Configured", "Fallbacks", "Retry"]
