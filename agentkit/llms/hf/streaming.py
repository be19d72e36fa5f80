"""Token streaming: ``generate`` runs in a worker thread and feeds a transformers
``TextIteratorStreamer``; the caller iterates text pieces. Cancelling (the consumer leaves
early) sets an event that a stopping criterion checks after every token."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from agentkit.llms.hf.generation import DECODE, Row, cut_at_stop
from agentkit.llms.hf.tool_prompting import ToolCallFilter
from agentkit.llms.messages import Message, ToolCall


class ThreadedGeneration:
    """Runs ``target(streamer, cancel_event)`` in a daemon thread; iterate it for the text
    pieces, then :meth:`result` gives the target's return value (or raises its error)."""

    def __init__(self, tokenizer: Any, target: Callable[[Any, threading.Event], Any]) -> None:
        from transformers import TextIteratorStreamer

        self.streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, **DECODE)
        self.cancel_event = threading.Event()
        self._target = target
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hf-generate", daemon=True)

    def _run(self) -> None:
        try:
            self._value = self._target(self.streamer, self.cancel_event)
        except BaseException as e:  # re-raised in the consumer's thread by result()
            self._error = e
            self.streamer.end()

    def __iter__(self) -> Iterator[str]:
        self._thread.start()
        for piece in self.streamer:
            if piece:
                yield piece

    def cancel(self) -> None:
        """Ask the generation to stop after its current token (does not wait)."""
        self.cancel_event.set()

    def result(self) -> Any:
        """Wait for the thread; its return value, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value


def stream_messages(
    job: ThreadedGeneration,
    stops: Sequence[str],
    tool_names: Sequence[str],
    metadata: dict[str, Any],
) -> Iterator[Message]:
    """Assistant chunks of ``job``'s reply, cut at the first stop string; with tools, call
    blocks are held back and parsed. The last chunk carries usage, tool calls and
    ``finish_reason``. Leaving early cancels the generation."""
    stop_filter = StopFilter(stops)
    tools = ToolCallFilter(tool_names) if tool_names else None
    try:
        for piece in job:
            out = stop_filter.feed(piece)
            out = tools.feed(out) if tools else out
            if out:
                yield Message("assistant", out)
        row: Row = job.result()
    finally:
        job.cancel()
    tail, calls = stop_filter.flush(), list[ToolCall]()
    if tools:
        tools.feed(tail)
        tail, calls = tools.finish()
    meta = {**metadata, "finish_reason": "tool_calls" if calls else row.finish_reason}
    yield Message("assistant", tail, calls, usage=row.usage, metadata=meta)


class StopFilter:
    """Streams text up to the first stop string, holding back a tail that might start one."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(stops)
        self.buffer = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.buffer += piece
        if not self.stops:
            out, self.buffer = self.buffer, ""
            return out
        text, cut = cut_at_stop(self.buffer, self.stops)
        if cut:
            self.stopped, self.buffer = True, ""
            return text
        hold = max((_overlap(self.buffer, s) for s in self.stops), default=0)
        out, self.buffer = (
            self.buffer[: len(self.buffer) - hold],
            self.buffer[len(self.buffer) - hold :],
        )
        return out

    def flush(self) -> str:
        out, self.buffer = ("" if self.stopped else self.buffer), ""
        return out


def _overlap(text: str, stop: str) -> int:
    """The length of the longest suffix of ``text`` that is a proper prefix of ``stop``."""
    for size in range(min(len(text), len(stop) - 1), 0, -1):
        if stop.startswith(text[-size:]):
            return size
    return 0
