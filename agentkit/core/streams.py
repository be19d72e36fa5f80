"""Stream helpers: joining chunks, and bridging a blocking iterator onto the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any


def join_chunks(chunks: Iterable[Any]) -> Any:
    """Join stream chunks with ``+`` (strings, message chunks, lists). Dicts merge key by
    key: a key in both joins its values when they are text, lists, dicts or message
    chunks (``{"answer": "Hel"}`` then ``{"answer": "lo"}`` is ``{"answer": "Hello"}``);
    other values (numbers, objects) are replaced by the later one."""
    result: Any = _NOTHING
    for chunk in chunks:
        if result is _NOTHING:
            result = chunk
        elif isinstance(result, dict) and isinstance(chunk, dict):
            result = _merge(result, chunk)
        else:
            result = result + chunk
    if result is _NOTHING:
        raise ValueError("cannot join an empty stream")
    return result


def _merge(left: dict[Any, Any], right: dict[Any, Any]) -> dict[Any, Any]:
    merged = dict(left)
    for key, value in right.items():
        old = merged.get(key, _NOTHING)
        merged[key] = _joined_value(old, value) if old is not _NOTHING else value
    return merged


def _joined_value(old: Any, new: Any) -> Any:
    if isinstance(old, dict) and isinstance(new, dict):
        return _merge(old, new)
    joinable = isinstance(old, str | list) or all(
        hasattr(old, a) for a in ("role", "content", "__add__")
    )  # text, lists and message chunks (core does not import llms)
    return old + new if joinable and type(old) is type(new) else new


_NOTHING: Any = object()


def _joined_or_list(chunks: list[Any]) -> Any:
    """The span output of a stream: the joined chunks, or the list when they do not join."""
    try:
        return join_chunks(chunks) if chunks else None
    except Exception:
        return chunks


async def iterate_in_thread(make: Callable[[], Iterator[Any]]) -> AsyncIterator[Any]:
    """Consume a blocking iterator in a worker thread, yielding its items on the event loop."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in make():
                if stop.is_set():
                    return
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
            loop.call_soon_threadsafe(queue.put_nowait, ("done", None))
        except BaseException as exc:  # handed to the consumer
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    worker = loop.run_in_executor(None, pump)
    try:
        while True:
            tag, value = await queue.get()
            if tag == "item":
                yield value
            elif tag == "error":
                raise value
            else:
                break
    finally:
        stop.set()
        await asyncio.shield(worker)


async def transform_in_thread(
    transform: Callable[[Iterator[Any]], Iterator[Any]], chunks: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """Run a sync ``transform`` (chunks in, chunks out) in a worker thread, feeding it the
    async ``chunks`` one by one as it asks for them; yield its output on the event loop."""
    import asyncio

    loop = asyncio.get_running_loop()
    source = chunks.__aiter__()

    async def following() -> tuple[bool, Any]:
        try:
            return True, await source.__anext__()
        except StopAsyncIteration:
            return False, None

    def pulled() -> Iterator[Any]:  # runs in the worker thread
        while True:
            more, item = asyncio.run_coroutine_threadsafe(following(), loop).result()
            if not more:
                return
            yield item

    async for out in iterate_in_thread(lambda: transform(pulled())):
        yield out


__all__ = ["iterate_in_thread", "join_chunks", "transform_in_thread"]
