"""Fake chat models shipped in the library, for tests, demos and benchmarks.

- :class:`FakeListModel` cycles through canned replies (strings or :class:`ChatResult`).
- :class:`FunctionModel` lets a Python function play the model.

Both record their calls, count whitespace tokens as usage, honour ``stop`` and
``max_new_tokens``, stream token by token, and can simulate latency (a delay before the first
token and one per token) with ``time.sleep`` or ``asyncio.sleep``, so async calls overlap.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from agentkit.core import spec
from agentkit.core.errors import SpecError, UsageError
from agentkit.llms.base import BaseChatModel, ParamsLike
from agentkit.llms.messages import ChatResult, Message, Usage
from agentkit.llms.params import GenerationParams

_TOKEN = re.compile(r"\s*\S+|\s+")
Response = str | ChatResult


def split_tokens(text: str) -> list[str]:
    """Whitespace tokens that keep their whitespace: ``"".join(split_tokens(t)) == t``."""
    return _TOKEN.findall(text)


def apply_limits(text: str, params: GenerationParams) -> tuple[str, str | None]:
    """Cut ``text`` at the first stop string and to ``max_new_tokens`` whitespace tokens.
    Returns the text and ``"stop"``/``"length"`` when it was cut, else ``None``."""
    reason = None
    if params.stop:
        cuts = [i for i in (text.find(s) for s in params.stop) if i >= 0]
        if cuts:
            text, reason = text[: min(cuts)], "stop"
    limit = params.max_new_tokens
    if limit is not None and len(text.split()) > limit:
        text, reason = "".join(split_tokens(text)[:limit]), "length"
    return text, reason


def _cut(pieces: Iterable[str], length: int) -> list[str]:
    """The leading pieces that make up the first ``length`` characters."""
    out: list[str] = []
    used = 0
    for piece in pieces:
        if used >= length:
            break
        if piece:
            out.append(piece[: length - used])
            used += len(out[-1])
    return out


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UsageError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return float(value)


class _FakeState:
    """Shared by a fake and its ``bind`` copies: the call log and the reply counter."""

    __slots__ = ("calls", "count", "lock")

    def __init__(self) -> None:
        self.calls: list[list[Message]] = []
        self.count = 0
        self.lock = threading.Lock()


class FakeModel(BaseChatModel):
    """Base of the fakes: subclasses implement :meth:`respond`."""

    is_fake: ClassVar[bool] = True

    def __init__(
        self, latency: float = 0.0, token_latency: float = 0.0, params: ParamsLike = None
    ) -> None:
        super().__init__(params)
        self.latency = _seconds("latency", latency)
        self.token_latency = _seconds("token_latency", token_latency)
        self._state = _FakeState()

    @abstractmethod
    def respond(self, messages: list[Message], params: GenerationParams, index: int) -> Response:
        """The raw reply to the ``index``-th call (before stop/length limits)."""

    def respond_stream(
        self, messages: list[Message], params: GenerationParams, index: int
    ) -> tuple[ChatResult, list[str]]:
        """The raw reply and its stream pieces (whitespace tokens by default)."""
        raw = _as_result(self.respond(messages, params, index))
        return raw, split_tokens(raw.text)

    @property
    def calls(self) -> list[list[Message]]:
        """The message lists this model (and its bound copies) received, in call order."""
        return self._state.calls

    def _next(self, messages: Sequence[Message]) -> tuple[list[Message], int]:
        recorded = list(messages)
        state = self._state
        with state.lock:
            index = state.count
            state.count += 1
            state.calls.append(recorded)
        return recorded, index

    def _plan(
        self, messages: Sequence[Message], params: GenerationParams | None, stream: bool
    ) -> tuple[ChatResult, list[str]]:
        """The final result of one call and, when streaming, its chunk texts."""
        p = self.resolve_params(params)
        recorded, index = self._next(messages)
        if stream:
            raw, pieces = self.respond_stream(recorded, p, index)
        else:
            reply = self.respond(recorded, p, index)
            if type(reply) is str:  # the common case, without an intermediate ChatResult
                text, cut = apply_limits(reply, p)
                return ChatResult(text, [], _word_usage(recorded, text), cut or "stop", {}), []
            raw, pieces = _as_result(reply), []
        text, cut = apply_limits(raw.text, p)
        usage = raw.usage
        if cut is not None or not usage.total_tokens:
            usage = _word_usage(recorded, text)
        result = ChatResult(
            text, list(raw.tool_calls), usage, cut or raw.finish_reason, dict(raw.metadata)
        )
        return result, _cut(pieces, len(text)) if stream else pieces

    def _schedule(self, chunks: int) -> list[float]:
        """Seconds to wait before each chunk: the latency, then ``token_latency`` per token."""
        return [self.latency + self.token_latency] + [self.token_latency] * (max(chunks, 1) - 1)

    def _delay(self, result: ChatResult) -> float:
        if not (self.latency or self.token_latency):
            return 0.0
        return sum(self._schedule(result.usage.completion_tokens))

    def _steps(self, result: ChatResult, pieces: list[str]) -> Iterator[tuple[float, Message]]:
        """(delay, chunk) steps of a stream; the last chunk carries usage and tool calls."""
        pieces = pieces or [""]
        last = len(pieces) - 1
        for i, (delay, piece) in enumerate(zip(self._schedule(len(pieces)), pieces, strict=True)):
            if i < last:
                yield delay, Message("assistant", piece)
            else:
                final = result.message
                final.content = piece
                yield delay, final

    # --- drivers: the same plan, slept through with time.sleep or asyncio.sleep ------

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        result, _ = self._plan(messages, params, stream=False)
        delay = self._delay(result)
        if delay:
            time.sleep(delay)
        return result

    async def agenerate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        result, _ = self._plan(messages, params, stream=False)
        delay = self._delay(result)
        if delay:
            await asyncio.sleep(delay)
        return result

    def generate_together(
        self, batch: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[ChatResult]:
        """Answers in input order; simulates one batched call (waits for the slowest)."""
        results = [self._plan(messages, params, stream=False)[0] for messages in batch]
        delay = max((self._delay(r) for r in results), default=0.0)
        if delay:
            time.sleep(delay)
        return results

    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        for delay, chunk in self._steps(*self._plan(messages, params, stream=True)):
            if delay:
                time.sleep(delay)
            yield chunk

    async def astream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[Message]:
        for delay, chunk in self._steps(*self._plan(messages, params, stream=True)):
            if delay:
                await asyncio.sleep(delay)
            yield chunk

    def _spec_fields(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.latency:
            data["latency"] = self.latency
        if self.token_latency:
            data["token_latency"] = self.token_latency
        if self.params.to_dict():
            data["params"] = self.params.to_dict()
        return data


def _word_usage(messages: Sequence[Message], text: str) -> Usage:
    """A fake's usage: whitespace words of the prompt and of the reply."""
    return Usage(sum(len(m.content.split()) for m in messages), len(text.split()))


def _as_result(response: Any) -> ChatResult:
    """A reply as a ChatResult: a str is its text; anything else must be a ChatResult."""
    result = ChatResult(response) if isinstance(response, str) else response
    if not isinstance(result, ChatResult):
        raise UsageError(
            f"a fake model reply must be a str or a ChatResult, got {type(response).__name__} "
            f"{response!r}"
        )
    return result


class FakeListModel(FakeModel):
    """Answers with ``responses`` in order, starting over after the last one.

    Example: ``FakeListModel(["Paris", "Rome"]).invoke("Capital of France?").content``
    is ``"Paris"``.
    """

    def __init__(
        self,
        responses: Sequence[Response | Mapping[str, Any]],
        latency: float = 0.0,
        token_latency: float = 0.0,
        params: ParamsLike = None,
    ) -> None:
        super().__init__(latency, token_latency, params)
        if isinstance(responses, str) or not isinstance(responses, Sequence) or not responses:
            raise UsageError(
                "FakeListModel needs a non-empty list of responses (strings or ChatResults), "
                f"got {responses!r}; e.g. FakeListModel(['first reply', 'second reply'])"
            )
        self.responses: list[Response] = [
            ChatResult.from_dict(r) if isinstance(r, Mapping) else r for r in responses
        ]
        for r in self.responses:
            _as_result(r)  # raises for anything but str / ChatResult

    def respond(self, messages: list[Message], params: GenerationParams, index: int) -> Response:
        return self.responses[index % len(self.responses)]

    def to_dict(self) -> dict[str, Any]:
        responses = [r if isinstance(r, str) else r.to_dict() for r in self.responses]
        return {"type": "fake_list_model", "responses": responses, **self._spec_fields()}


class FunctionModel(FakeModel):
    """A Python function plays the model: ``fn(messages, params) -> str | ChatResult``.

    ``stream_fn(messages, params) -> Iterable[str]``, when given, supplies the stream chunks;
    otherwise the reply of ``fn`` streams token by token.
    """

    def __init__(
        self,
        fn: Callable[[list[Message], GenerationParams], Response],
        latency: float = 0.0,
        token_latency: float = 0.0,
        stream_fn: Callable[[list[Message], GenerationParams], Iterable[str]] | None = None,
        params: ParamsLike = None,
    ) -> None:
        super().__init__(latency, token_latency, params)
        for label, f in (("fn", fn), ("stream_fn", stream_fn)):
            if f is not None and (not callable(f) or inspect.iscoroutinefunction(f)):
                raise UsageError(
                    f"FunctionModel {label} must be a plain (sync) function taking "
                    f"(messages, params), got {f!r}"
                )
        self.fn = fn
        self.stream_fn = stream_fn

    @property
    def name(self) -> str:
        return f"FunctionModel({getattr(self.fn, '__name__', 'fn')})"

    def respond(self, messages: list[Message], params: GenerationParams, index: int) -> Response:
        return self.fn(messages, params)

    def respond_stream(
        self, messages: list[Message], params: GenerationParams, index: int
    ) -> tuple[ChatResult, list[str]]:
        if self.stream_fn is None:
            return super().respond_stream(messages, params, index)
        pieces = [str(piece) for piece in self.stream_fn(messages, params)]
        return ChatResult("".join(pieces)), pieces

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "function_model", "fn": spec.function_ref(self.fn)}
        if self.stream_fn is not None:
            data["stream_fn"] = spec.function_ref(self.stream_fn)
        return {**data, **self._spec_fields()}


def _fake_fields(ctx: spec.SpecContext) -> dict[str, Any]:
    return {
        "latency": ctx.get("latency", float, 0.0),
        "token_latency": ctx.get("token_latency", float, 0.0),
        "params": ctx.get("params", dict, None),
    }


def _build_fake_list(ctx: spec.SpecContext) -> FakeListModel:
    responses = ctx.get("responses", list)
    for i, item in enumerate(responses):
        if not isinstance(item, str | dict):
            raise SpecError(
                f"{ctx.path}.responses[{i}]",
                f"expected a string or a ChatResult dict, got {type(item).__name__} {item!r}",
            )
    return FakeListModel(responses, **_fake_fields(ctx))


def _build_function_model(ctx: spec.SpecContext) -> FunctionModel:
    stream_fn = ctx.function("stream_fn") if "stream_fn" in ctx.data else None
    return FunctionModel(ctx.function("fn"), stream_fn=stream_fn, **_fake_fields(ctx))


spec.add_builder("fake_list_model", _build_fake_list)
spec.add_builder("function_model", _build_function_model)
