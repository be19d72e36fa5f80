"""What the server serves: a chat model, a chain, an agent or an embedder, under a name.

A :class:`Target` implements ONE method, :meth:`Target.stream` (an OpenAI chat request in,
:class:`Piece` objects out: text deltas, tool calls, the finish reason, usage and agentkit
events). :meth:`Target.complete` joins the stream; models and chains override it with their
one-shot path. Every call runs the served graph itself (``ainvoke``/``astream``) under the
request's :class:`~agentkit.core.config.RunConfig`, so the configured tracers see it.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from agentkit.core.config import RunConfig
from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, ToolCall, Usage
from agentkit.core.runnable import Runnable
from agentkit.core.tracing import Span
from agentkit.serve.errors import bad_request
from agentkit.serve.protocol import ChatRequest


@dataclass(slots=True)
class Piece:
    """One step of a streamed answer; empty fields mean "nothing of that kind"."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    event: dict[str, Any] | None = None


@dataclass(slots=True)
class Reply:
    """A whole answer."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: Usage | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class UsageCollector:
    """A tracer summing the token usage of the model calls of one request."""

    __slots__ = ("usage",)

    def __init__(self) -> None:
        self.usage = Usage()

    def on_end(self, span: Span) -> None:
        if span.usage and span.kind == "model":
            self.usage = self.usage + Usage.from_dict(span.usage)


@dataclass(frozen=True, slots=True)
class InputMapping:
    """How a chat request becomes a chain's input (the ``serve:`` block of a spec).

    ``input``: the key the last user message goes to (``None``: the chain's only input key,
    else the text itself); ``history``: the key that gets the earlier messages (left out
    when ``None``); ``output``: the key of a dict output that is the answer (``None``: the
    first of ``answer``, ``output``, ``response``, ``text``, ``result``).

    A chain or agent with its own memory keeps each client's conversation server-side: the
    request's ``user`` is the run's ``session_id``, so such a client sends only the new
    message and ``history`` needs no mapping.
    """

    input: str | None = None
    history: str | None = None
    output: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> InputMapping:
        unknown = sorted(set(data) - {"input", "history", "output"})
        if unknown:
            raise UsageError(
                f"{where}: unknown field {unknown[0]!r} in the serve block; allowed: input, "
                "history, output"
            )
        for key, value in data.items():
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{where}: serve.{key} must be a key name (a string)")
        return cls(data.get("input"), data.get("history"), data.get("output"))


_ANSWER_KEYS = ("answer", "output", "response", "text", "result")


def split_turn(messages: list[Message]) -> tuple[str, list[Message]]:
    """The last user message's text and the messages before it."""
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return messages[i].content, messages[:i]
    raise bad_request("the messages need at least one user message", "messages")


def jsonable(value: Any) -> Any:
    """Plain JSON data for an event (components' ``to_dict``, else ``str``)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    return jsonable(to_dict()) if callable(to_dict) else str(value)


class Target(ABC):
    """A served component under ``name``."""

    kind: ClassVar[str]

    def __init__(self, name: str, component: Any) -> None:
        self.name = name
        self.component = component

    @abstractmethod
    def stream(self, request: ChatRequest, config: RunConfig) -> AsyncIterator[Piece]:
        """The answer to ``request`` piece by piece."""

    def check(self, request: ChatRequest) -> None:
        """Refuse request fields this kind of target cannot honour (models take them all)."""
        if request.tools or request.response_format is not None:
            field = "tools" if request.tools else "response_format"
            raise bad_request(
                f"{self.name!r} is a {self.kind}: '{field}' is supported for served models only",
                field,
            )

    async def complete(self, request: ChatRequest, config: RunConfig) -> Reply:
        """The whole answer (by default the joined stream)."""
        texts: list[str] = []
        calls: list[ToolCall] = []
        events: list[dict[str, Any]] = []
        reply = Reply("")
        async for piece in self.stream(request, config):
            texts.append(piece.text)
            calls.extend(piece.tool_calls)
            if piece.event is not None:
                events.append(piece.event)
            reply.usage = piece.usage or reply.usage
            reply.finish_reason = piece.finish_reason or reply.finish_reason
        reply.text, reply.tool_calls = "".join(texts), calls
        if events:
            reply.extra["events"] = events
        return reply


class ModelTarget(Target):
    """A chat model: messages, generation params and tools pass straight through."""

    kind = "model"

    def check(self, request: ChatRequest) -> None:
        pass

    def bound(self, request: ChatRequest) -> Any:
        model = self.component
        try:
            if request.params:
                model = model.bind(**request.params)
            extra: dict[str, Any] = {}
            if request.tools:
                extra["tools"] = request.tools
                if request.tool_choice is not None:
                    extra["tool_choice"] = request.tool_choice
            if request.response_format is not None:
                extra["response_format"] = request.response_format
            if extra:
                try:
                    model = model.bind(**extra)
                except UsageError:
                    if not getattr(model, "is_fake", False):
                        raise  # fakes script their replies: they run without the schemas
        except UsageError as exc:
            raise bad_request(f"model {self.name!r}: {exc}") from exc
        return model

    async def complete(self, request: ChatRequest, config: RunConfig) -> Reply:
        message = await self.bound(request).ainvoke(request.messages, config)
        return Reply(
            message.content,
            list(message.tool_calls),
            finish_reason(message),
            message.usage,
        )

    async def stream(self, request: ChatRequest, config: RunConfig) -> AsyncIterator[Piece]:
        async for chunk in self.bound(request).astream(request.messages, config):
            reason = chunk.metadata.get("finish_reason") if chunk.metadata else None
            if reason is not None:
                reason = finish_reason(chunk)
            yield Piece(chunk.content, list(chunk.tool_calls), reason, chunk.usage)


def finish_reason(message: Message) -> str:
    """The model's finish reason; ``tool_calls`` when the reply calls tools and stopped."""
    reason = str(message.metadata.get("finish_reason") or "stop")
    return "tool_calls" if message.tool_calls and reason == "stop" else reason


class ChainTarget(Target):
    """A chain or any runnable: the chat turn is mapped to its input by an
    :class:`InputMapping`; text, message and dict outputs become the answer."""

    kind = "chain"

    def __init__(self, name: str, component: Any, mapping: InputMapping | None = None) -> None:
        super().__init__(name, component)
        self.mapping = mapping or InputMapping()
        keys = getattr(component, "input_keys", None)
        self.input_key = self.mapping.input or (keys[0] if keys else None)

    def chain_input(self, request: ChatRequest) -> Any:
        text, before = split_turn(request.messages)
        if self.input_key is None:
            return text
        value: dict[str, Any] = {self.input_key: text}
        if self.mapping.history:
            value[self.mapping.history] = before
        return value

    def answer_key(self, output: Mapping[str, Any]) -> str | None:
        """The key of a dict output (or chunk) that holds the answer, if any."""
        keys = [self.mapping.output] if self.mapping.output else _ANSWER_KEYS
        return next((key for key in keys if key in output), None)

    def answer_text(self, output: Any) -> str | None:
        """The answer in an output (``None`` when a dict chunk carries no answer)."""
        if isinstance(output, str):
            return output
        if isinstance(output, Message):
            return output.content
        if isinstance(output, Mapping):
            key = self.answer_key(output)
            return None if key is None else self.answer_text(output[key]) or ""
        return str(output)

    def extras(self, output: Any) -> dict[str, Any]:
        """The other keys of a dict output (sources, ...), as JSON data; the chain's own
        input keys, which chains echo, are left out."""
        if not isinstance(output, Mapping):
            return {}
        skip = {self.answer_key(output), self.input_key, self.mapping.history}
        return {str(k): jsonable(v) for k, v in output.items() if k not in skip}

    async def complete(self, request: ChatRequest, config: RunConfig) -> Reply:
        collector = UsageCollector()
        output = await self.component.ainvoke(
            self.chain_input(request), config.merge(tracers=(collector,))
        )
        text = self.answer_text(output)
        return Reply(text or "", [], "stop", collector.usage, self.extras(output))

    async def stream(self, request: ChatRequest, config: RunConfig) -> AsyncIterator[Piece]:
        collector = UsageCollector()
        cfg = config.merge(tracers=(collector,))
        async for chunk in self.component.astream(self.chain_input(request), cfg):
            text = self.answer_text(chunk)
            if text:
                yield Piece(text)
            rest = self.extras(chunk)
            if rest:
                yield Piece(event={"type": "output", "data": rest})
        yield Piece(finish_reason="stop", usage=collector.usage)


class AgentTarget(Target):
    """An agent: the last user message is its ``input``, earlier messages its
    ``history``. It runs on the core's typed event stream (``astream_events``): each
    :class:`~agentkit.core.events.AgentStep` goes out as an ``agent_step`` event as it
    happens, then the answer as tokens (the model's own tokens are its scratchpad)."""

    kind = "agent"

    async def stream(self, request: ChatRequest, config: RunConfig) -> AsyncIterator[Piece]:
        from agentkit.llms.fake import split_tokens

        text, before = split_turn(request.messages)
        value: dict[str, Any] = {"input": text}
        if before:
            value["history"] = before
        collector = UsageCollector()
        cfg = config.merge(tracers=(collector,))
        if self.component.checkpointer is not None and not cfg.get("thread_id"):
            cfg = cfg.merge(configurable={"thread_id": f"serve-{uuid.uuid4().hex}"})
        result: Mapping[str, Any] = {}
        async for event in self.component.astream_events(value, cfg):
            if event.type == "agent_step":
                yield Piece(event={"type": "agent_step", "step": jsonable(event.step)})
            elif event.type == "output":
                result = event.output
        for token in split_tokens(str(result.get("output") or "")):
            yield Piece(token)
        reason = "length" if result.get("stopped_reason") else "stop"
        if result.get("interrupt") is not None:  # a durable run paused: show the pending call
            yield Piece(event={"type": "interrupt", **jsonable(result["interrupt"])})
            reason = "interrupted"
        yield Piece(finish_reason=reason, usage=collector.usage)


class EmbedderTarget(Target):
    """An embedder, served on ``/v1/embeddings`` only."""

    kind = "embedder"

    async def stream(self, request: ChatRequest, config: RunConfig) -> AsyncIterator[Piece]:
        raise bad_request(f"{self.name!r} is an embedder: use POST /v1/embeddings", "model")
        yield Piece()  # pragma: no cover  (makes this an async generator)

    async def embed(self, texts: list[str]) -> Any:
        return await asyncio.to_thread(self.component.embed_batch, texts)


def make_target(name: str, component: Any, mapping: InputMapping | None = None) -> Target:
    """The target kind for ``component``: model, agent, embedder or chain."""
    from agentkit.agents.executor import Agent
    from agentkit.llms.base import BaseChatModel

    if isinstance(component, BaseChatModel):
        return ModelTarget(name, component)
    if isinstance(component, Agent):
        return AgentTarget(name, component)
    if isinstance(component, Runnable):
        return ChainTarget(name, component, mapping)
    if callable(getattr(component, "embed_batch", None)):
        return EmbedderTarget(name, component)
    raise UsageError(
        f"{name!r} is a {type(component).__name__}; agentkit serve serves chat models, "
        "chains and other runnables, agents, and embedders (objects with embed_batch)"
    )
