"""The chat-model contract and :class:`BaseChatModel`, the Runnable every model builds on.

A backend implements ONE method, :meth:`BaseChatModel.generate`. Everything else has a
default built on it and is overridden where the backend can do better:

- ``stream_chunks`` (token streaming, as assistant :class:`Message` chunks; the last may carry
  usage, tool calls and ``finish_reason``) or, simpler, ``generate_stream`` (text deltas);
- ``generate_together`` (true batched generation; the default runs calls on a thread pool),
  which ``generate_batch`` calls ``batch_size`` (or ``max_concurrency``) conversations at a time;
- ``agenerate`` / ``astream_chunks`` / ``agenerate_stream`` (native async).

As a Runnable, a model takes a string, a message list or ``{"messages": [...]}`` and returns
an assistant :class:`Message` carrying ``usage`` (which tracing spans record).

Unless a class sets ``is_fake = True``, its request methods check the global switch of
:mod:`agentkit.llms.switch` first, so a real model called in unit tests fails loudly.
"""

from __future__ import annotations

import asyncio
import copy
import functools
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from agentkit.core.config import ConfigLike, RunConfig, ensure_config
from agentkit.core.errors import UsageError
from agentkit.core.runnable import Runnable, iterate_in_thread
from agentkit.core.streams import join_chunks
from agentkit.core.tracing import end_span, start_span
from agentkit.llms import cache_hooks
from agentkit.llms.messages import ChatResult, Message, to_messages
from agentkit.llms.params import NO_PARAMS, GenerationParams
from agentkit.llms.switch import check_model_requests

if TYPE_CHECKING:
    import os

    from typing_extensions import Self

    from agentkit.llms.cache import LLMCache
    from agentkit.llms.cached_model import CachedModel
    from agentkit.llms.structured import OutputSchema, Strategy, StructuredOutput

ParamsLike = GenerationParams | Mapping[str, Any] | None
DEFAULT_THREADS = 16  # threads of the default generate_together (one request each)

_REQUEST_METHODS = (
    "generate",
    "generate_stream",
    "stream_chunks",
    "generate_batch",
    "generate_together",
    "agenerate",
    "agenerate_stream",
    "astream_chunks",
)


@runtime_checkable
class ChatModel(Protocol):
    """Anything that answers a list of messages with a :class:`ChatResult`."""

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult: ...


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Check the model-requests switch before ``fn`` (sync, async or generator) runs."""

    @functools.wraps(fn)
    def guarded(self: BaseChatModel, *args: Any, **kwargs: Any) -> Any:
        if not self.is_fake:
            check_model_requests(self.name)
        return fn(self, *args, **kwargs)

    guarded.__agentkit_guarded__ = True  # type: ignore[attr-defined]
    return guarded


class BaseChatModel(Runnable[Any, Message]):
    """Base class of chat models. Subclasses implement :meth:`generate`."""

    kind = "model"
    is_fake: ClassVar[bool] = False
    batch_size: ClassVar[int | None] = None
    """How many conversations :meth:`generate_batch` hands :meth:`generate_together` at a
    time when not given ``max_concurrency`` (``None``: all of them)."""
    bind_fields: ClassVar[Mapping[str, Callable[[Any, Any], Any]]] = {}
    """``bind`` keys that set an attribute of the model rather than a generation param:
    name -> ``convert(bound_copy, value)``, the attribute's new value."""

    def __init__(self, params: ParamsLike = None) -> None:
        self.params = as_params(params)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cache_hooks.wrap_class(cls)  # the global LLM cache (set_llm_cache), when one is set
        if cls.is_fake:
            return
        for name in _REQUEST_METHODS:
            fn = cls.__dict__.get(name)
            if callable(fn) and not getattr(fn, "__agentkit_guarded__", False):
                setattr(cls, name, _guarded(fn))

    # --- the contract ----------------------------------------------------------------

    @abstractmethod
    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        """Answer ``messages``. ``params`` are merged over ``self.params``
        (use :meth:`resolve_params`)."""

    def resolve_params(self, params: ParamsLike = None) -> GenerationParams:
        """The params of one call: ``params`` merged over the params bound to the model."""
        if params is None or params is self.params:
            return self.params
        return self.params.merge(params)

    # --- conveniences built on generate ---------------------------------------------

    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        """Assistant message chunks; joined with ``+`` they equal ``generate(...).message``
        for backends that know usage while streaming."""
        if _overrides(self, "generate_stream"):
            for delta in self.generate_stream(messages, params):
                yield Message("assistant", delta)
        else:
            yield self.generate(messages, params).message

    def generate_stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[str]:
        """Text deltas of the reply (by default one chunk, the whole text)."""
        if _overrides(self, "stream_chunks"):
            for chunk in self.stream_chunks(messages, params):
                if chunk.content:
                    yield chunk.content
        else:
            yield self.generate(messages, params).text

    def generate_batch(
        self,
        batch: Sequence[Sequence[Message]],
        params: GenerationParams | None = None,
        *,
        max_concurrency: int | None = None,
    ) -> list[ChatResult]:
        """Answer many conversations, results in input order: ``max_concurrency`` of them
        (default :attr:`batch_size`; ``None``: all) at a time, with :meth:`generate_together`."""
        size = max_concurrency or self.batch_size or max(len(batch), 1)
        results: list[ChatResult] = []
        for start in range(0, len(batch), size):
            results += self.generate_together(batch[start : start + size], params)
        return results

    def generate_together(
        self, batch: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[ChatResult]:
        """Answer conversations at once, results in input order. Backends that can batch
        override this (one batched call); the default runs ``generate`` on a thread pool of
        at most :data:`DEFAULT_THREADS`."""
        if len(batch) <= 1:
            return [self.generate(messages, params) for messages in batch]
        with ThreadPoolExecutor(max_workers=min(DEFAULT_THREADS, len(batch))) as pool:
            return list(pool.map(lambda messages: self.generate(messages, params), batch))

    async def agenerate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        """Async :meth:`generate`; by default ``generate`` in a worker thread."""
        return await asyncio.to_thread(self.generate, messages, params)

    async def astream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[Message]:
        """Async :meth:`stream_chunks`; bridges the sync stream through a thread unless
        ``agenerate_stream`` is overridden."""
        if _overrides(self, "agenerate_stream"):
            async for delta in self.agenerate_stream(messages, params):
                yield Message("assistant", delta)
        elif _overrides(self, "stream_chunks") or _overrides(self, "generate_stream"):
            async for chunk in iterate_in_thread(lambda: self.stream_chunks(messages, params)):
                yield chunk
        else:
            yield (await self.agenerate(messages, params)).message

    async def agenerate_stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[str]:
        """Async text deltas of the reply."""
        async for chunk in self.astream_chunks(messages, params):
            if chunk.content:
                yield chunk.content

    # --- the Runnable side ------------------------------------------------------------

    def invoke(self, input: Any, config: ConfigLike = None) -> Message:
        """Answer a string, message list or ``{"messages": [...]}`` with an assistant message.
        In a run with events (``stream_events``) the model streams and reports each token."""
        cfg = ensure_config(config)
        if cfg.events is None:
            return self.generate(to_messages(input), self.params).message
        chunks = list(self.stream(input, cfg))
        return join_chunks(chunks) if chunks else Message("assistant", "")

    async def ainvoke(self, input: Any, config: ConfigLike = None) -> Message:
        cfg = ensure_config(config)
        if cfg.events is None:
            return (await self.agenerate(to_messages(input), self.params)).message
        chunks = [chunk async for chunk in self.astream(input, cfg)]
        return join_chunks(chunks) if chunks else Message("assistant", "")

    def stream(self, input: Any, config: ConfigLike = None) -> Iterator[Message]:
        """Assistant message chunks as they are generated; join them with ``+``."""
        cfg = ensure_config(config)
        for chunk in self.stream_chunks(to_messages(input), self.params):
            if cfg.events is not None:
                cfg.events.token(cfg.parent_run_id, self.name, chunk)
            yield chunk

    async def astream(self, input: Any, config: ConfigLike = None) -> AsyncIterator[Message]:
        cfg = ensure_config(config)
        async for chunk in self.astream_chunks(to_messages(input), self.params):
            if cfg.events is not None:
                cfg.events.token(cfg.parent_run_id, self.name, chunk)
            yield chunk

    def _batch_natively(
        self, inputs: Sequence[Any], cfg: RunConfig, limit: int | None, return_exceptions: bool
    ) -> list[Any] | None:
        """``batch`` answers many inputs with one :meth:`generate_batch` call (one span per
        input); with a timeout, one by one."""
        if cfg.timeout is not None or not inputs:
            return None
        limit = limit or cfg.max_concurrency
        outputs: list[Any] = [None] * len(inputs)
        todo: list[int] = []
        batch: list[list[Message]] = []
        for i, item in enumerate(inputs):
            try:
                batch.append(to_messages(item))
                todo.append(i)
            except Exception as exc:
                if not return_exceptions:
                    raise
                outputs[i] = exc
        spans = []
        if cfg.tracers:
            spans = [start_span(self.name, self.kind, inputs[i], cfg) for i in todo]
        try:
            results: list[Any] = self.generate_batch(batch, self.params, max_concurrency=limit)
        except Exception as exc:
            if not return_exceptions:
                for span in spans:
                    end_span(span, cfg, error=exc)
                raise
            results = [_try(self.generate, messages, self.params) for messages in batch]
        for span_index, (i, result) in enumerate(zip(todo, results, strict=True)):
            out = result if isinstance(result, Exception) else result.message
            if spans:
                span = spans[span_index]
                if isinstance(out, Exception):
                    end_span(span, cfg, error=out)
                else:
                    end_span(span, cfg, out)
            outputs[i] = out
        return outputs

    def with_structured_output(
        self,
        schema: Any,
        *,
        method: str = "auto",
        max_retries: int = 2,
        instruct: bool | None = None,
    ) -> StructuredOutput:
        """A runnable answering with validated ``schema`` objects (a pydantic instance for a
        pydantic class, a dict for a JSON schema); see :mod:`agentkit.llms.structured`."""
        from agentkit.llms.structured import StructuredOutput

        return StructuredOutput(
            self, schema, method=method, max_retries=max_retries, instruct=instruct
        )

    def structured_strategy(self, schema: OutputSchema, method: str) -> Strategy:
        """How this backend produces ``schema`` replies; backends that can constrain their
        output override it. The default asks in the prompt (and validates, and retries)."""
        from agentkit.llms.structured import Strategy

        if method in ("json_schema", "tools"):
            raise UsageError(
                f"{self.name} cannot constrain its output with method={method!r}; use "
                "method='auto' or 'prompt' (the schema is asked for in the prompt and each "
                "reply validated)"
            )
        return Strategy(self)

    def with_cache(self, cache: LLMCache | str | os.PathLike[str]) -> CachedModel:
        """This model answering from ``cache`` (a SQLite file path, an ``SQLiteCache`` or a
        ``SemanticCache``) when it has the reply, and filling it when not."""
        from agentkit.llms.cached_model import CachedModel

        return CachedModel(self, cache)

    def bind(self, **params: Any) -> Self:
        """``model.bind(temperature=0, stop=["\\n"])``: a copy with generation params merged
        (validated once, here)."""
        return self._with_params(params)

    def _with_params(self, params: Mapping[str, Any]) -> Self:
        fields = self.bind_fields
        bound = copy.copy(self)
        bound.params = self.params.merge({k: v for k, v in params.items() if k not in fields})
        for key, convert in fields.items():
            if key in params:
                setattr(bound, key, convert(bound, params[key]))
        return bound

    def __repr__(self) -> str:
        bound = self.params.to_dict()
        return f"<{self.name}{' ' + repr(bound) if bound else ''}>"


def as_params(params: ParamsLike) -> GenerationParams:
    """A :class:`GenerationParams` from params, a dict of them, or ``None``."""
    if params is None:
        return NO_PARAMS
    if isinstance(params, GenerationParams):
        return params
    if isinstance(params, Mapping):
        return NO_PARAMS.merge(params)
    raise UsageError(
        f"params must be a GenerationParams or a dict, got {type(params).__name__}; "
        "e.g. params={'temperature': 0, 'max_new_tokens': 64}"
    )


def _overrides(model: BaseChatModel, name: str) -> bool:
    method = getattr(type(model), name)
    return getattr(method, "__wrapped__", method) is not getattr(BaseChatModel, name)


def _try(fn: Callable[..., ChatResult], *args: Any) -> ChatResult | Exception:
    try:
        return fn(*args)
    except Exception as exc:
        return exc
