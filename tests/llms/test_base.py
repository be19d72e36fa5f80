"""BaseChatModel defaults: streaming hooks, batching, async, bind, the ChatModel protocol."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Sequence

import pytest

from agentkit.core.errors import UsageError
from agentkit.llms import (
    BaseChatModel,
    ChatModel,
    ChatResult,
    FakeListModel,
    GenerationParams,
    Message,
    Usage,
    user,
)


class Echo(BaseChatModel):
    is_fake = True

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        text = messages[-1].content
        if text == "boom":
            raise RuntimeError("model exploded")
        return ChatResult(f"echo {text}", usage=Usage(1, 2))


class Deltas(Echo):
    def generate_stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[str]:
        yield from ["echo", " ", messages[-1].content]


class Chunks(Echo):
    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        yield Message("assistant", "ec")
        yield Message("assistant", "ho", usage=Usage(1, 1))


class AsyncDeltas(Echo):
    async def agenerate_stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[str]:
        for piece in ["a", "sync"]:
            await asyncio.sleep(0)
            yield piece


def _astream(model: BaseChatModel, text: str) -> list[Message]:
    async def collect() -> list[Message]:
        return [chunk async for chunk in model.astream(text)]

    return asyncio.run(collect())


def test_defaults_stream_one_chunk_built_on_generate() -> None:
    chunks = list(Echo().stream("hi"))
    assert len(chunks) == 1
    assert chunks[0].content == "echo hi" and chunks[0].usage == Usage(1, 2)
    assert list(Echo().generate_stream([user("hi")])) == ["echo hi"]
    assert [c.content for c in _astream(Echo(), "hi")] == ["echo hi"]


def test_generate_stream_override_drives_stream_and_astream() -> None:
    assert [c.content for c in Deltas().stream("hi")] == ["echo", " ", "hi"]
    assert [c.content for c in _astream(Deltas(), "hi")] == ["echo", " ", "hi"]


def test_stream_chunks_override_drives_generate_stream() -> None:
    assert list(Chunks().generate_stream([user("x")])) == ["ec", "ho"]
    assert [c.content for c in _astream(Chunks(), "x")] == ["ec", "ho"]


def test_agenerate_stream_override_drives_astream() -> None:
    assert [c.content for c in _astream(AsyncDeltas(), "x")] == ["a", "sync"]

    async def deltas() -> list[str]:
        return [d async for d in Echo().agenerate_stream([user("x")])]

    assert asyncio.run(deltas()) == ["echo x"]


def test_default_generate_batch_runs_concurrently_in_order() -> None:
    barrier = threading.Barrier(3, timeout=20)

    class Meeting(Echo):
        def generate(
            self, messages: Sequence[Message], params: GenerationParams | None = None
        ) -> ChatResult:
            barrier.wait()  # deadlocks (then times out) unless three calls overlap
            return super().generate(messages, params)

    results = Meeting().generate_batch([[user("a")], [user("b")], [user("c")]])
    assert [r.text for r in results] == ["echo a", "echo b", "echo c"]


class Grouped(Echo):
    """Batches natively: records the conversations of each batched call."""

    batch_size = 3

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[list[str]] = []

    def generate_together(
        self, batch: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[ChatResult]:
        self.groups.append([messages[-1].content for messages in batch])
        return [ChatResult(f"together {messages[-1].content}") for messages in batch]


def test_generate_batch_sends_batch_size_or_max_concurrency_at_a_time() -> None:
    chats = [[user(str(i))] for i in range(7)]
    model = Grouped()
    results = model.generate_batch(chats)
    assert [r.text for r in results] == [f"together {i}" for i in range(7)]
    assert model.groups == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
    model.groups.clear()
    model.generate_batch(chats, max_concurrency=4)
    assert model.groups == [["0", "1", "2", "3"], ["4", "5", "6"]]
    model.groups.clear()
    assert model.generate_batch([]) == [] and model.groups == []
    outputs = model.batch(["a", "b"])  # the Runnable batch goes through it too
    assert [o.content for o in outputs] == ["together a", "together b"]
    assert model.groups == [["a", "b"]]


def test_batch_return_exceptions_keeps_positions() -> None:
    outputs = Echo().batch(["a", "boom", 42, "b"], return_exceptions=True)
    assert outputs[0].content == "echo a" and outputs[3].content == "echo b"
    assert isinstance(outputs[1], RuntimeError)
    assert isinstance(outputs[2], UsageError)
    with pytest.raises(RuntimeError, match="model exploded"):
        Echo().batch(["a", "boom"])
    assert Echo().batch([]) == []


def test_ainvoke_default_runs_generate() -> None:
    message = asyncio.run(Echo().ainvoke([("user", "x")]))
    assert message.content == "echo x" and message.metadata["finish_reason"] == "stop"


def test_bind_merges_params_into_a_copy() -> None:
    model = Echo(params={"temperature": 0.3})
    bound = model.bind(max_new_tokens=5)
    assert isinstance(bound, Echo)
    assert bound.params == GenerationParams(temperature=0.3, max_new_tokens=5)
    assert model.params == GenerationParams(temperature=0.3)
    assert "max_new_tokens" in repr(bound)
    with pytest.raises(UsageError, match="allowed: temperature, top_p"):
        model.bind(beam_width=3)


def test_resolve_params_merges_call_params() -> None:
    model = Echo(params=GenerationParams(temperature=0.3, seed=1))
    assert model.resolve_params(None) is model.params
    assert model.resolve_params(GenerationParams(seed=2)) == GenerationParams(0.3, seed=2)


def test_params_argument_must_be_params_or_dict() -> None:
    with pytest.raises(UsageError, match="params must be a GenerationParams or a dict"):
        Echo(params=[("temperature", 1)])  # type: ignore[arg-type]


def test_chat_model_protocol() -> None:
    class Plain:
        def generate(
            self, messages: Sequence[Message], params: GenerationParams | None = None
        ) -> ChatResult:
            return ChatResult("x")

    assert isinstance(FakeListModel(["x"]), ChatModel)
    assert isinstance(Plain(), ChatModel)
    assert not isinstance(object(), ChatModel)
    assert Echo().kind == "model"
