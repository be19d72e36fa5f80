"""Any runnable both ways: a LangChain (LCEL) runnable as an agentkit node
(:class:`LangChainRunnable`) and an agentkit runnable as a LangChain one
(:class:`AgentkitRunnable`).

Values crossing the boundary are converted where both sides have a type for them:
messages, prompt values (as message lists) and documents; anything else passes unchanged.
Run-config fields that both share (tags, metadata, run name, concurrency) are carried over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.runnables import RunnableConfig

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.runnable import Runnable, traced
from agentkit.interop.langchain.messages import from_lc_value, to_lc_value


def lc_config(cfg: RunConfig) -> RunnableConfig | None:
    """The LangChain run config of an agentkit one (``None`` when nothing is set)."""
    if not (cfg.tags or cfg.metadata or cfg.run_name or cfg.max_concurrency):
        return None
    out: dict[str, Any] = {}
    if cfg.tags:
        out["tags"] = list(cfg.tags)
    if cfg.metadata:
        out["metadata"] = dict(cfg.metadata)
    if cfg.run_name:
        out["run_name"] = cfg.run_name
    if cfg.max_concurrency:
        out["max_concurrency"] = cfg.max_concurrency
    return out  # type: ignore[return-value]


class LangChainRunnable(Runnable[Any, Any]):
    """An agentkit node running a LangChain runnable (a chain, a prompt, a parser, ...)."""

    kind = "langchain"

    def __init__(self, runnable: Any) -> None:
        self.runnable = runnable

    @property
    def name(self) -> str:
        return f"LangChain({self.runnable.get_name()})"

    @traced
    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        cfg = lc_config(config)  # type: ignore[arg-type]
        return from_lc_value(self.runnable.invoke(to_lc_value(input), cfg))

    @traced
    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Any:
        cfg = lc_config(config)  # type: ignore[arg-type]
        return from_lc_value(await self.runnable.ainvoke(to_lc_value(input), cfg))

    @traced
    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[Any]:
        for chunk in self.runnable.stream(to_lc_value(input), lc_config(config)):  # type: ignore[arg-type]
            yield from_lc_value(chunk)

    @traced
    async def astream(self, input: Any, config: ConfigLike = None) -> AsyncIterator[Any]:
        async for chunk in self.runnable.astream(to_lc_value(input), lc_config(config)):  # type: ignore[arg-type]
            yield from_lc_value(chunk)


def ak_config(config: RunnableConfig | None) -> RunConfig:
    """The agentkit run config of a LangChain one (shared fields only)."""
    if not config:
        return ensure_config(None)
    fields: dict[str, Any] = {}
    if config.get("tags"):
        fields["tags"] = tuple(config["tags"])
    if config.get("metadata"):
        fields["metadata"] = dict(config["metadata"])
    if config.get("run_name"):
        fields["run_name"] = config["run_name"]
    if config.get("max_concurrency"):
        fields["max_concurrency"] = config["max_concurrency"]
    return RunConfig(**fields)


class AgentkitRunnable(LCRunnable[Any, Any]):
    """A LangChain runnable running an agentkit node (usable in LCEL: ``| parser``)."""

    def __init__(self, runnable: Runnable[Any, Any]) -> None:
        self.runnable = runnable
        self.name = runnable.name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return to_lc_value(self.runnable.invoke(from_lc_value(input), ak_config(config)))

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return to_lc_value(await self.runnable.ainvoke(from_lc_value(input), ak_config(config)))

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        for chunk in self.runnable.stream(from_lc_value(input), ak_config(config)):
            yield to_lc_value(chunk)

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in self.runnable.astream(from_lc_value(input), ak_config(config)):
            yield to_lc_value(chunk)
