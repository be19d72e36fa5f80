"""Calling a model through an :class:`~agentkit.llms.cache.LLMCache`: one function per
request method (plain, batch, stream, async), used by ``model.with_cache`` and, for the
global cache (:func:`~agentkit.llms.cache.set_llm_cache`), wrapped around the request methods
of every model class. A hit is marked ``metadata["cache"] == "hit"``; a streamed hit is
replayed as word chunks. A call that raises, or a stream left early, stores nothing."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from agentkit.core.streams import join_chunks
from agentkit.llms.cache import LLMCache, cache_request, get_llm_cache
from agentkit.llms.messages import ChatResult, Message
from agentkit.llms.params import GenerationParams

CACHED_METHODS = ("generate", "generate_together", "stream_chunks", "agenerate", "astream_chunks")
_WORDS = re.compile(r"\s*\S+\s*|\s+")


def _hit(result: ChatResult) -> ChatResult:
    return ChatResult(
        result.text,
        list(result.tool_calls),
        result.usage,
        result.finish_reason,
        {**result.metadata, "cache": "hit"},
    )


def replay(result: ChatResult) -> Iterator[Message]:
    """A cached reply as stream chunks: its words, then a last chunk with tool calls,
    usage and finish reason (joined, they equal ``result.message``)."""
    pieces = _WORDS.findall(result.text)
    for piece in pieces[:-1]:
        yield Message("assistant", piece)
    last = pieces[-1] if pieces else ""
    meta = {**result.metadata, "cache": "hit", "finish_reason": result.finish_reason}
    yield Message("assistant", last, list(result.tool_calls), usage=result.usage, metadata=meta)


def joined_result(chunks: Sequence[Message]) -> ChatResult:
    """The :class:`ChatResult` of a finished stream."""
    message = join_chunks(list(chunks)) if chunks else Message("assistant", "")
    meta = dict(message.metadata)
    reason = str(meta.pop("finish_reason", "stop"))
    return ChatResult(
        message.content, list(message.tool_calls), message.usage or _usage(), reason, meta
    )


def _usage() -> Any:
    from agentkit.llms.messages import Usage

    return Usage()


def _lookup(
    cache: LLMCache, model: Any, messages: Any, params: Any
) -> tuple[Any, ChatResult | None]:
    """The cache request for a call and what the cache holds for it (``None``: a miss)."""
    request = cache_request(model, messages, params)
    return request, cache.lookup(request)


def generate(
    cache: LLMCache, model: Any, call: Callable[..., ChatResult], messages: Any, params: Any
) -> ChatResult:
    request, found = _lookup(cache, model, messages, params)
    if found is not None:
        return _hit(found)
    result = call(messages, params)
    cache.update(request, result)
    return result


def generate_together(
    cache: LLMCache,
    model: Any,
    call: Callable[..., list[ChatResult]],
    batch: Sequence[Any],
    params: Any,
) -> list[ChatResult]:
    requests = [cache_request(model, messages, params) for messages in batch]
    out: list[ChatResult | None] = []
    for request in requests:
        found = cache.lookup(request)
        out.append(None if found is None else _hit(found))
    todo = [i for i, r in enumerate(out) if r is None]
    if todo:
        fresh = call([batch[i] for i in todo], params)
        for i, result in zip(todo, fresh, strict=True):
            cache.update(requests[i], result)
            out[i] = result
    return [r for r in out if r is not None]


def stream_chunks(
    cache: LLMCache, model: Any, call: Callable[..., Iterator[Message]], messages: Any, params: Any
) -> Iterator[Message]:
    request, found = _lookup(cache, model, messages, params)
    if found is not None:
        yield from replay(found)
        return
    chunks = []
    for chunk in call(messages, params):
        chunks.append(chunk)
        yield chunk
    cache.update(request, joined_result(chunks))


async def agenerate(
    cache: LLMCache, model: Any, call: Callable[..., Any], messages: Any, params: Any
) -> ChatResult:
    request, found = _lookup(cache, model, messages, params)
    if found is not None:
        return _hit(found)
    result: ChatResult = await call(messages, params)
    cache.update(request, result)
    return result


async def astream_chunks(
    cache: LLMCache,
    model: Any,
    call: Callable[..., AsyncIterator[Message]],
    messages: Any,
    params: Any,
) -> AsyncIterator[Message]:
    request, found = _lookup(cache, model, messages, params)
    if found is not None:
        for chunk in replay(found):
            yield chunk
        return
    chunks = []
    async for chunk in call(messages, params):
        chunks.append(chunk)
        yield chunk
    cache.update(request, joined_result(chunks))


_HOOKS: dict[str, Callable[..., Any]] = {
    "generate": generate,
    "generate_together": generate_together,
    "stream_chunks": stream_chunks,
    "agenerate": agenerate,
    "astream_chunks": astream_chunks,
}


Route = Callable[[Any], "tuple[LLMCache | None, Any, Callable[..., Any]]"]
"""``route(self)`` for a model ``self``: the cache to consult (``None``: call straight
through), the model whose identity keys the cache, and the request method to call."""


def through_cache(name: str, route: Route) -> Callable[..., Any]:
    """The request method ``name`` (one of :data:`CACHED_METHODS`) answering from the cache
    that ``route`` picks on each call."""
    hook = _HOOKS[name]
    if name == "astream_chunks":

        async def agen(self: Any, messages: Any, params: GenerationParams | None = None) -> Any:
            cache, model, call = route(self)
            source = (
                call(messages, params)
                if cache is None
                else hook(cache, model, call, messages, params)
            )
            async for chunk in source:
                yield chunk

        return agen
    if name == "agenerate":

        async def coro(self: Any, messages: Any, params: GenerationParams | None = None) -> Any:
            cache, model, call = route(self)
            if cache is None:
                return await call(messages, params)
            return await hook(cache, model, call, messages, params)

        return coro

    def plain(self: Any, messages: Any, params: GenerationParams | None = None) -> Any:
        cache, model, call = route(self)
        if cache is None:
            return call(messages, params)
        return hook(cache, model, call, messages, params)

    return plain


def through_global_cache(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` (the request method ``name`` of a model class) consulting the global cache
    when one is set; unchanged behaviour when none is."""

    def route(self: Any) -> tuple[LLMCache | None, Any, Callable[..., Any]]:
        return get_llm_cache(), self, fn.__get__(self)

    routed = through_cache(name, route)
    if name in ("generate", "generate_together"):
        wrapper = functools.wraps(fn)(_unless_cached(fn, routed))
    else:
        wrapper = functools.wraps(fn)(routed)
    wrapper.__agentkit_cached__ = True  # type: ignore[attr-defined]
    return wrapper


def _unless_cached(fn: Callable[..., Any], routed: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` itself while no global cache is set (the hot path of every chain: no route,
    no bound method), else ``routed``."""

    def unless_cached(self: Any, messages: Any, params: GenerationParams | None = None) -> Any:
        if get_llm_cache() is None:
            return fn(self, messages, params)
        return routed(self, messages, params)

    return unless_cached


def cached_method(name: str) -> Callable[..., Any]:
    """The request method ``name`` of a wrapper with ``model`` and ``cache`` attributes
    (:class:`~agentkit.llms.cached_model.CachedModel`): it answers from ``self.cache`` and
    sends misses to ``self.model``."""

    def route(self: Any) -> tuple[LLMCache | None, Any, Callable[..., Any]]:
        return self.cache, self.model, getattr(self.model, name)

    method = through_cache(name, route)
    method.__name__ = method.__qualname__ = name
    return method


def wrap_class(cls: type) -> None:
    """Route the request methods ``cls`` defines through the global cache (once)."""
    if not getattr(cls, "uses_global_cache", True):
        return
    for name in CACHED_METHODS:
        fn = cls.__dict__.get(name)
        if callable(fn) and not getattr(fn, "__agentkit_cached__", False):
            setattr(cls, name, through_global_cache(name, fn))
