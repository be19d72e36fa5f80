"""Streaming passes through a sequence chunk by chunk (sync and async)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncIterator, Generator, Iterable, Iterator
from typing import Any

import pytest

from agentkit.core import InMemoryTracer, Lambda, Passthrough, RunConfig, Runnable, traced
from agentkit.core.flow import Call, Emit, Flow, FlowGen, Gather, Stream
from agentkit.core.runnable import join_chunks


class Producer(Runnable[str, str]):
    """Streams the words of its input, logging each one as it is produced."""

    kind = "model"

    def __init__(self, log: list[str], gate: threading.Event | None = None) -> None:
        self.log, self.gate = log, gate
        self.gate_seen: bool | None = None

    @traced
    def invoke(self, input: str, config: Any = None) -> str:
        return "".join(self.stream(input, config))

    @traced
    def stream(self, input: str, config: Any = None) -> Iterator[str]:
        for i, word in enumerate(input.split()):
            self.log.append(f"produce {word}")
            yield word
            if i == 0 and self.gate is not None:
                self.gate_seen = self.gate.wait(20)
        self.log.append("producer done")


class Upper(Runnable[str, str]):
    """A parser-like node that transforms chunk by chunk."""

    @traced
    def invoke(self, input: str, config: Any = None) -> str:
        return input.upper()

    def transform(self, chunks: Iterable[Any], config: Any = None) -> Iterator[str]:
        for chunk in chunks:
            yield chunk.upper()


def prepare(text: str) -> str:
    return text.strip()


def test_stream_reaches_the_consumer_as_it_is_produced() -> None:
    log: list[str] = []
    chain = Lambda(prepare) | Producer(log) | Upper() | Passthrough()
    for chunk in chain.stream("  a b c "):
        log.append(f"consume {chunk}")
    assert log == [
        "produce a",
        "consume A",
        "produce b",
        "consume B",
        "produce c",
        "consume C",
        "producer done",
    ]


def test_invoke_of_the_same_chain_gives_the_joined_output() -> None:
    chain = Lambda(prepare) | Producer([]) | Upper()
    assert chain.invoke("a b") == "AB"


def test_non_streaming_step_after_a_stream_joins_the_chunks() -> None:
    chain = Lambda(prepare) | Producer([]) | Lambda(len)
    assert list(chain.stream("ab cd e")) == [5]


def test_default_stream_yields_the_whole_output_once() -> None:
    assert list(Lambda(prepare).stream(" x ")) == ["x"]
    assert list(Passthrough().transform(iter(["a", "b"]))) == ["a", "b"]


def test_configured_node_streams_through() -> None:
    log: list[str] = []
    chain = Lambda(prepare) | Producer(log).with_config(tags=["x"]) | Upper()
    assert list(chain.stream("a b")) == ["A", "B"]


def test_astream_passes_chunks_before_the_producer_finishes() -> None:
    gate = threading.Event()
    producer = Producer([], gate)
    chain = Lambda(prepare) | producer | Upper()

    async def consume() -> list[str]:
        seen = []
        async for chunk in chain.astream("a b c"):
            seen.append(chunk)
            gate.set()  # the producer waits for this after its first chunk
        return seen

    assert asyncio.run(consume()) == ["A", "B", "C"]
    assert producer.gate_seen is True


def test_astream_of_a_non_streaming_node_yields_once() -> None:
    async def consume() -> list[Any]:
        return [c async for c in Lambda(prepare).astream(" y ")]

    assert asyncio.run(consume()) == ["y"]


def test_native_async_stream_is_traced() -> None:
    class Ticker(Runnable[int, int]):
        def invoke(self, input: int, config: Any = None) -> int:
            return sum(range(input))

        @traced
        async def astream(self, input: int, config: Any = None) -> AsyncIterator[int]:
            for i in range(input):
                await asyncio.sleep(0)
                yield i

    tracer = InMemoryTracer()

    async def consume() -> list[int]:
        return [c async for c in Ticker().astream(4, RunConfig(tracers=(tracer,)))]

    assert asyncio.run(consume()) == [0, 1, 2, 3]
    (span,) = tracer.spans
    assert span.output == "6" and span.error is None


def test_stream_spans_record_the_joined_output() -> None:
    tracer = InMemoryTracer()
    chain = Lambda(prepare) | Producer([]) | Upper()
    assert list(chain.stream("a b", RunConfig(tracers=(tracer,)))) == ["A", "B"]
    (root,) = tracer.roots()
    assert root.name == "Sequence" and root.output == "AB"
    producer_span = next(s for s in tracer.spans if s.name == "Producer")
    assert producer_span.parent_id == root.id and producer_span.output == "ab"


def test_stopping_a_stream_early_closes_spans_without_error() -> None:
    tracer = InMemoryTracer()
    log: list[str] = []
    chain = Lambda(prepare) | Producer(log) | Upper()
    stream = chain.stream("a b c", RunConfig(tracers=(tracer,)))
    assert isinstance(stream, Generator)
    assert next(stream) == "A"
    stream.close()
    assert "producer done" not in log
    root = next(s for s in tracer.spans if s.name == "Sequence")
    assert root.error is None and root.output == "A"


def test_stream_error_is_recorded_and_raised() -> None:
    def boom(text: str) -> str:
        raise RuntimeError("no stream")

    tracer = InMemoryTracer()
    chain = Lambda(boom) | Producer([])
    with pytest.raises(RuntimeError, match="no stream"):
        list(chain.stream("a", RunConfig(tracers=(tracer,))))
    errors = {s.name: s.error for s in tracer.spans}
    assert errors["boom"] == "RuntimeError: no stream"
    assert errors["Sequence"] == "RuntimeError: no stream"


def test_join_chunks() -> None:
    assert join_chunks(["a", "b"]) == "ab"
    assert join_chunks([[1], [2]]) == [1, 2]
    assert join_chunks([{"a": 1}, {"b": 2}]) == {"a": 1, "b": 2}
    with pytest.raises(ValueError, match="empty stream"):
        join_chunks([])


def test_join_chunks_concatenates_streamed_dict_values() -> None:
    from agentkit.llms.messages import Message

    chunks = [
        {"answer": "Hel", "sources": ["a"], "meta": {"t": "x"}, "score": 1},
        {"answer": "lo", "sources": ["b"], "meta": {"t": "y", "n": 1}, "score": 2},
        {"reply": Message("assistant", "Hi")},
        {"reply": Message("assistant", " there"), "answer": None},
    ]
    joined = join_chunks(chunks)
    assert joined["sources"] == ["a", "b"] and joined["score"] == 2
    assert joined["meta"] == {"t": "xy", "n": 1}
    assert joined["reply"].content == "Hi there" and joined["answer"] is None
    assert join_chunks([{"answer": "Hel"}, {"answer": "lo"}]) == {"answer": "Hello"}


def test_a_sequence_ending_in_a_dict_stream_joins_it_for_the_next_step() -> None:
    """A step that cannot stream gets the joined input: the text of every chunk."""

    class Answers(Runnable[str, dict[str, str]]):
        def invoke(self, input: str, config: Any = None) -> dict[str, str]:
            return {"answer": "Hello world"}

        def stream(self, input: str, config: Any = None) -> Iterator[dict[str, str]]:
            yield {"answer": "Hello "}
            yield {"answer": "world"}

    chain = Answers() | Lambda(lambda d: d["answer"].upper())
    assert list(chain.stream("q")) == ["HELLO WORLD"]


def test_a_sequence_streams_natively_async_without_the_sync_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``prompt | model | parser`` astream uses the model's async stream on the event loop;
    the sync ``stream_chunks`` (which would run in a thread) is never called."""
    from agentkit.llms import FakeListModel
    from agentkit.parsers import StrOutputParser
    from agentkit.prompts import PromptTemplate

    model = FakeListModel(["one two three"], token_latency=0.001)

    def no_sync_stream(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the sync stream was used")

    monkeypatch.setattr(model, "stream_chunks", no_sync_stream)
    chain = PromptTemplate.from_template("Say {n} words") | model | StrOutputParser()
    tracer = InMemoryTracer()

    async def collect() -> list[str]:
        return [c async for c in chain.astream({"n": 3}, RunConfig(tracers=[tracer]))]

    chunks = asyncio.run(collect())
    assert len(chunks) == 3 and "".join(chunks) == "one two three"
    names = [s.name for s in tracer.spans]
    assert {"Sequence", "PromptTemplate", "FakeListModel", "StrOutputParser"} <= set(names)
    assert all(s.error is None for s in tracer.spans)


def test_async_transform_of_a_sync_only_streaming_node_gets_chunks_one_by_one() -> None:
    class Doubler(Runnable[str, str]):
        def invoke(self, input: str, config: Any = None) -> str:
            return input * 2

        def transform(self, chunks: Iterable[Any], config: Any = None) -> Iterator[str]:
            for chunk in chunks:
                yield chunk * 2

    async def source() -> AsyncIterator[str]:
        for piece in ("a", "b", "c"):
            yield piece

    async def collect() -> list[str]:
        return [c async for c in Doubler().atransform(source())]

    assert asyncio.run(collect()) == ["aa", "bb", "cc"]
    chain = Producer([]) | Doubler()
    streamed = asyncio.run(_agen_list(chain.astream("to be or")))
    assert streamed == list(chain.stream("to be or")) == ["toto", "bebe", "oror"]


async def _agen_list(agen: AsyncIterator[Any]) -> list[Any]:
    return [c async for c in agen]


# --- streaming inside the flow model: wrappers, Emit/Stream ops, drivers, Gather -------


def model_chain(node: Runnable[Any, Any]) -> Runnable[Any, Any]:
    from agentkit.parsers import StrOutputParser

    return node | StrOutputParser()


def test_retry_fallbacks_and_with_config_pass_a_model_stream_through() -> None:
    from agentkit.llms.fake import FakeListModel

    reply = "one two three four"
    plain = list(model_chain(FakeListModel([reply])).stream("q"))
    assert len(plain) == 4
    wrapped = [
        FakeListModel([reply]).with_retry(),
        FakeListModel([reply]).with_fallbacks([FakeListModel(["other"])]),
        FakeListModel([reply]).with_config(tags=["t"]),
    ]
    for node in wrapped:
        chunks = list(model_chain(node).stream("q"))
        assert chunks == plain, node
        assert asyncio.run(_agen_list(model_chain(node).astream("q"))) == plain, node
        assert model_chain(node).invoke("q") == reply


class Flaky(Runnable[str, str]):
    """Streams its words; the first ``fail_before`` runs fail before any chunk, and runs
    listed in ``fail_after`` fail after the first chunk."""

    def __init__(self, fail_before: int = 0, fail_after: tuple[int, ...] = ()) -> None:
        self.runs = 0
        self.fail_before, self.fail_after = fail_before, fail_after

    def invoke(self, input: str, config: Any = None) -> str:
        return "".join(self.stream(input, config))

    def stream(self, input: str, config: Any = None) -> Iterator[str]:
        self.runs += 1
        if self.runs <= self.fail_before:
            raise ConnectionError("not yet")
        for i, word in enumerate(input.split()):
            if i == 1 and self.runs in self.fail_after:
                raise ConnectionError("cut mid-stream")
            yield word


def test_retry_streams_again_only_before_the_first_chunk() -> None:
    early = Flaky(fail_before=2)
    assert list(early.with_retry(attempts=3).stream("a b c")) == ["a", "b", "c"]
    assert early.runs == 3
    late = Flaky(fail_after=(1,))
    seen: list[str] = []
    with pytest.raises(ConnectionError, match="cut mid-stream"):
        for chunk in late.with_retry(attempts=3).stream("a b c"):
            seen.append(chunk)
    assert seen == ["a"] and late.runs == 1  # never retried: "a" is not sent twice
    again = Flaky(fail_after=(1,))
    assert again.with_retry(attempts=3).invoke("a b c") == "abc"  # invoke retries as before


def test_fallbacks_stream_the_fallback_only_before_the_first_chunk() -> None:
    backup = Flaky()
    assert list(Flaky(fail_before=1).with_fallbacks([backup]).stream("x y")) == ["x", "y"]
    cut = Flaky(fail_after=(1,))
    with pytest.raises(ConnectionError):
        list(cut.with_fallbacks([backup]).stream("x y"))
    assert backup.runs == 1  # only from the first test: not run after the cut


class Emitting(Flow[str, dict[str, Any]]):
    """Emits progress chunks, streams a node under a key, returns a dict."""

    def flow(self, input: str, config: RunConfig) -> FlowGen:
        yield Emit({"status": "started"})
        words = yield Stream(Flaky(), input, config, key="text")
        return {"text": words, "status": "started", "n": len(input.split())}


def test_emit_and_stream_ops_stream_and_join_to_the_invoke_output() -> None:
    node = Emitting()
    chunks = list(node.stream("a b"))
    assert chunks == [{"status": "started"}, {"text": "a"}, {"text": "b"}, {"n": 2}]
    assert join_chunks(chunks) == node.invoke("a b") == {"text": "ab", "status": "started", "n": 2}
    assert asyncio.run(_agen_list(node.astream("a b"))) == chunks
    assert asyncio.run(node.ainvoke("a b")) == node.invoke("a b")


def test_a_flow_that_streams_nothing_yields_its_output_once() -> None:
    class Plain(Flow[int, int]):
        def flow(self, input: int, config: RunConfig) -> FlowGen:
            return (yield Call(Lambda(lambda x: x + 1), input, config))

    assert list(Plain().stream(1)) == [2]
    assert asyncio.run(_agen_list(Plain().astream(1))) == [2]


class YieldsJunk(Flow[Any, Any]):
    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        try:
            yield input  # type: ignore[misc]
        except Exception:  # a flow that swallows errors must not swallow this one
            return "swallowed"
        return "unreachable"


@pytest.mark.parametrize("junk", ["a string", 42, None, ("tuple",), {"runnable": 1}])
def test_drivers_reject_a_non_op_with_a_usage_error_naming_it(junk: Any) -> None:
    from agentkit.core import UsageError

    node = YieldsJunk()
    pattern = re.escape(repr(junk)[:50])
    with pytest.raises(UsageError, match=pattern):
        node.invoke(junk)
    with pytest.raises(UsageError, match=pattern):
        asyncio.run(node.ainvoke(junk))
    with pytest.raises(UsageError, match=pattern):
        list(node.stream(junk))
    with pytest.raises(UsageError, match=pattern):
        asyncio.run(_agen_list(node.astream(junk)))


class StreamsJunk(Flow[Any, Any]):
    """Streams a nested flow that yields a non-op, catching every Exception."""

    def flow(self, input: Any, config: RunConfig) -> FlowGen:
        try:
            return (yield Stream(YieldsJunk(), input, config))
        except Exception:
            return "swallowed"


def test_a_nested_non_op_is_not_swallowed_by_the_outer_flow() -> None:
    from agentkit.core import UsageError

    node = StreamsJunk()
    with pytest.raises(UsageError, match="not an operation"):
        node.invoke(7)
    with pytest.raises(UsageError, match="not an operation"):
        asyncio.run(node.ainvoke(7))
    with pytest.raises(UsageError, match="not an operation"):
        list(node.stream(7))
    with pytest.raises(UsageError, match="not an operation"):
        asyncio.run(_agen_list(node.astream(7)))


def test_a_huge_non_op_is_named_briefly() -> None:
    from agentkit.core import UsageError

    with pytest.raises(UsageError) as info:
        YieldsJunk().invoke("x" * 100_000)
    assert len(str(info.value)) < 500 and "str" in str(info.value)


def test_async_gather_cancels_the_siblings_of_a_failure() -> None:
    state: dict[str, bool] = {"finally": False, "completed": False}

    async def fails(x: Any) -> Any:
        await asyncio.sleep(0)
        raise ValueError("branch failed")

    async def waits(x: Any) -> Any:
        try:
            await asyncio.sleep(30)
            state["completed"] = True
        finally:
            state["finally"] = True
        return x

    class Fan(Flow[Any, Any]):
        def flow(self, input: Any, config: RunConfig) -> FlowGen:
            return (
                yield Gather(
                    [Call(Lambda(waits), input, config), Call(Lambda(fails), input, config)]
                )
            )

    async def go() -> None:
        with pytest.raises(ValueError, match="branch failed"):  # the error, not a group
            await Fan().ainvoke(1)
        await asyncio.sleep(0)

    asyncio.run(go())
    assert state == {"finally": True, "completed": False}


def test_sync_gather_raises_the_branch_error_and_skips_unstarted_branches() -> None:
    ran: list[int] = []

    def work(x: int) -> int:
        if x == 0:
            raise ValueError("first branch failed")
        ran.append(x)
        return x

    class Fan(Flow[Any, Any]):
        def flow(self, input: Any, config: RunConfig) -> FlowGen:
            return (yield Gather([Call(Lambda(work), i, config) for i in range(3)], 1))

    with pytest.raises(ValueError, match="first branch failed"):
        Fan().invoke(None)
    assert ran == []  # max_concurrency=1: the branches after the failure never start


def test_an_empty_gather_gives_an_empty_list_in_every_mode() -> None:
    class Nothing(Flow[Any, Any]):
        def flow(self, input: Any, config: RunConfig) -> FlowGen:
            return (yield Gather([]))

    assert Nothing().invoke(None) == []
    assert asyncio.run(Nothing().ainvoke(None)) == []
    assert list(Nothing().stream(None)) == [[]]
