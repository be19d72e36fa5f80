"""Stream helpers: joining chunks, and bridging a blocking iterator onto the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any


def join_chunks(chunks: Iterable[Any]) -> Any:
    """Join stream chunks with ``+`` (strings, message chunks, lists); dicts merge."""
    result: Any = _NOTHING
    for chunk in chunks:
        if result is _NOTHING:
            result = chunk
        elif isinstance(result, dict) and isinstance(chunk, dict):
            result = {**result, **chunk}
        else:
            result = result + chunk
    if result is _NOTHING:
        raise ValueError("cannot join an empty stream")
    return result


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


__all__ = ["iterate_in_thread", "join_chunks"]
