"""LangChain models as agentkit chat models: :class:`LangChainChatModel` (a LangChain
``BaseChatModel``) and :class:`LangChainLLM` (a text-completion ``BaseLLM``).

Both stream, run natively async, report usage and honour ``stop``; ``temperature`` and
``max_new_tokens`` are passed on as ``temperature``/``max_tokens`` call arguments when set.
Tool schemas bound with ``bind(tools=...)`` or ``bind_tools`` go to the LangChain model's
``bind_tools``. LangChain's fake models (class names containing ``Fake``) count as fakes
for :func:`agentkit.llms.allow_model_requests`; every other one is a real model.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult, Message, ToolCall, Usage
from agentkit.interop.langchain.messages import (
    content_text,
    from_lc_message,
    to_lc_message,
)
from agentkit.interop.naming import LangChainNamed
from agentkit.llms.base import BaseChatModel, ParamsLike
from agentkit.llms.params import GenerationParams


def _call_kwargs(params: GenerationParams) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if params.stop:
        kwargs["stop"] = list(params.stop)
    if params.temperature is not None:
        kwargs["temperature"] = params.temperature
    if params.max_new_tokens is not None:
        kwargs["max_tokens"] = params.max_new_tokens
    return kwargs


class _LangChainModel(LangChainNamed, BaseChatModel):
    """Shared by the chat and LLM wrappers: the wrapped object and the fake flag."""

    def __init__(self, lc: Any, params: ParamsLike = None) -> None:
        super().__init__(params)
        self.lc = lc
        self.is_fake = "fake" in type(lc).__name__.lower()  # type: ignore[misc]


class LangChainChatModel(_LangChainModel):
    """An agentkit chat model running a LangChain chat model."""

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        p = self.resolve_params(params)
        return _result(self.lc.invoke(_lc_input(messages), **_call_kwargs(p)))

    async def agenerate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        p = self.resolve_params(params)
        return _result(await self.lc.ainvoke(_lc_input(messages), **_call_kwargs(p)))

    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        p = self.resolve_params(params)
        folded = _Folded()
        for chunk in self.lc.stream([to_lc_message(m) for m in messages], **_call_kwargs(p)):
            yield from folded.add(chunk)
        yield folded.last()

    async def astream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[Message]:
        p = self.resolve_params(params)
        folded = _Folded()
        async for chunk in self.lc.astream([to_lc_message(m) for m in messages], **_call_kwargs(p)):
            for piece in folded.add(chunk):
                yield piece
        yield folded.last()

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> LangChainChatModel:
        """A copy whose LangChain model has ``tools`` bound (its own ``bind_tools``); a
        LangChain fake without ``bind_tools`` is used as it is (its script has the calls)."""
        bound = copy.copy(self)
        try:
            bound.lc = self.lc.bind_tools(list(tools), **kwargs)
        except NotImplementedError as exc:
            if self.is_fake:
                return bound
            raise UsageError(
                f"{type(self.lc).__name__} has no bind_tools, so it cannot call tools; use "
                "create_react_agent, which works with any chat model"
            ) from exc
        return bound

    def _with_params(self, params: Mapping[str, Any]) -> LangChainChatModel:
        rest = {k: v for k, v in params.items() if k not in ("tools", "tool_choice")}
        bound = super()._with_params(rest)
        if params.get("tools"):
            choice = params.get("tool_choice")
            extra = {"tool_choice": choice} if choice is not None else {}
            bound = bound.bind_tools(params["tools"], **extra)
        return bound


def _lc_input(messages: Sequence[Message]) -> Any:
    """LangChain input of a conversation: one plain user message goes as its text (LangChain
    makes the same ``HumanMessage`` of it), anything else as LangChain messages."""
    if len(messages) == 1:
        only = messages[0]
        if only.role == "user" and only.name is None and isinstance(only.content, str):
            return only.content
    return [to_lc_message(m) for m in messages]


def _result(reply: Any) -> ChatResult:
    message = from_lc_message(reply)
    meta = dict(getattr(reply, "response_metadata", None) or {})
    finish = "tool_calls" if message.tool_calls else str(meta.get("finish_reason") or "stop")
    if finish not in ("stop", "length", "tool_calls"):
        finish = "stop"
    usage = message.usage or Usage()
    return ChatResult(message.content, message.tool_calls, usage, finish)


class _Folded:
    """A LangChain message stream folded into agentkit chunks, for the sync and the async
    stream alike: each text piece is held back until the next one comes, so that the
    closing chunk carries the last text with the whole reply's tool calls and usage."""

    def __init__(self) -> None:
        self.full: Any = None  # the LangChain chunks so far, added up
        self.pending = ""

    def add(self, chunk: Any) -> list[Message]:
        """Take in one LangChain chunk; returns the held-back piece it releases, if any."""
        self.full = chunk if self.full is None else self.full + chunk
        text = content_text(chunk.content)
        if not text:
            return []
        released, self.pending = self.pending, text
        return [Message("assistant", released)] if released else []

    def last(self) -> Message:
        """The closing chunk: the last text with the tool calls and usage of the reply."""
        if self.full is None:
            return Message("assistant", self.pending, metadata={"finish_reason": "stop"})
        message = from_lc_message(self.full)
        calls: list[ToolCall] = message.tool_calls
        meta = {"finish_reason": "tool_calls" if calls else "stop"}
        return Message("assistant", self.pending, calls, usage=message.usage, metadata=meta)


class LangChainLLM(_LangChainModel):
    """An agentkit chat model running a LangChain text-completion LLM: one user message
    is sent as it is; a conversation as ``Role: content`` lines ending with ``Assistant:``."""

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        p = self.resolve_params(params)
        prompt = _prompt(messages)
        text = str(self.lc.invoke(prompt, **_call_kwargs(p)))
        return ChatResult(text, usage=Usage(len(prompt.split()), len(text.split())))

    async def agenerate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        p = self.resolve_params(params)
        prompt = _prompt(messages)
        text = str(await self.lc.ainvoke(prompt, **_call_kwargs(p)))
        return ChatResult(text, usage=Usage(len(prompt.split()), len(text.split())))

    def generate_stream(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[str]:
        p = self.resolve_params(params)
        for piece in self.lc.stream(_prompt(messages), **_call_kwargs(p)):
            if piece:
                yield str(piece)


def _prompt(messages: Sequence[Message]) -> str:
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].content
    lines = [f"{m.role.capitalize()}: {m.content}" for m in messages]
    return "\n".join([*lines, "Assistant:"])
