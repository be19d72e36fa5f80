""":class:`AgentkitChatModel`: any agentkit chat model as a LangChain ``BaseChatModel``.

``to_langchain(model)`` builds one. It streams (the agentkit model's chunks become
``AIMessageChunk``\\ s, the last carrying usage and tool calls), runs natively async, binds
tools (``bind_tools`` with ``tool_choice``: the schemas are bound to the agentkit model with
``bind(tools=..., tool_choice=...)``), and so supports ``with_structured_output`` and
LangChain's ``create_agent``. Standard params map to agentkit's: ``max_tokens`` to
``max_new_tokens``, ``temperature``, ``stop``. Only text content is supported.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel as LCBaseChatModel
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable as LCRunnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, SecretStr

from agentkit.core.errors import UsageError
from agentkit.core.messages import ChatResult as AKResult
from agentkit.core.messages import Message
from agentkit.interop.langchain.messages import from_lc_messages, lc_tool_calls, usage_metadata
from agentkit.llms.params import GenerationParams

_TEMPLATE_MESSAGE = AIMessage("")
_TEMPLATE_GENERATION = ChatGeneration(message=_TEMPLATE_MESSAGE)
_TEMPLATE_RESULT = ChatResult(generations=[_TEMPLATE_GENERATION])
_IGNORED = {"ls_structured_output_format", "model", "parallel_tool_calls", "strict"}


class AgentkitChatModel(LCBaseChatModel):
    """A LangChain chat model running an agentkit chat model (``agentkit_model``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    agentkit_model: Any = Field(description="the agentkit chat model that answers")
    model_name: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    timeout: float | None = None
    max_retries: int | None = None
    streaming: bool = False
    api_key: SecretStr | None = None  # accepted for LangChain's standard params; unused

    def model_post_init(self, context: Any) -> None:
        generate = getattr(self.agentkit_model, "generate", None)
        if not callable(generate) or not callable(getattr(self.agentkit_model, "bind", None)):
            raise UsageError(
                f"AgentkitChatModel needs an agentkit chat model (with generate and bind), "
                f"got {type(self.agentkit_model).__name__}"
            )
        if self.model_name is None:
            self.model_name = str(getattr(self.agentkit_model, "name", "agentkit"))

    @property
    def _llm_type(self) -> str:
        return "agentkit"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "agentkit"
        params["ls_model_name"] = str(kwargs.get("model") or self.model_name)
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        if stop or self.stop:
            params["ls_stop"] = list(stop or self.stop or ())
        return params

    # --- the call ------------------------------------------------------------------

    def _base_params(self) -> GenerationParams:
        """The agentkit model's params with this adapter's standard params over them (read
        each call: LangChain users may change ``temperature`` on the instance)."""
        params = self.agentkit_model.params
        if self.temperature is not None or self.max_tokens is not None or self.stop:
            fields = {
                "temperature": self.temperature,
                "max_new_tokens": self.max_tokens,
                "stop": self.stop or None,
            }
            params = params.merge(fields)
        return params

    def _prepare(
        self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[Any, list[Message], GenerationParams]:
        model, params = self.agentkit_model, self._base_params()
        tools, choice = kwargs.pop("tools", None), kwargs.pop("tool_choice", None)
        extra = {k: v for k, v in kwargs.items() if k not in _IGNORED}
        if stop:
            extra["stop"] = list(stop)
        if "max_tokens" in extra:
            extra["max_new_tokens"] = extra.pop("max_tokens")
        if extra:
            params = params.merge(extra)
        if tools:
            model = bind_tool_schemas(model, tools, choice)
        return model, from_lc_messages(messages), params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, msgs, params = self._prepare(messages, stop, kwargs)
        return self._result(model.generate(msgs, params))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        model, msgs, params = self._prepare(messages, stop, kwargs)
        return self._result(await model.agenerate(msgs, params))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        model, msgs, params = self._prepare(messages, stop, kwargs)
        held = _HeldBack(self._chunk)
        for chunk in model.stream_chunks(msgs, params):
            for out in held.swap(chunk):
                if run_manager and out.text:
                    run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
        yield held.last()

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        model, msgs, params = self._prepare(messages, stop, kwargs)
        held = _HeldBack(self._chunk)
        async for chunk in model.astream_chunks(msgs, params):
            for out in held.swap(chunk):
                if run_manager and out.text:
                    await run_manager.on_llm_new_token(out.text, chunk=out)
                yield out
        yield held.last()

    def _chunk(self, chunk: Message, *, last: bool) -> ChatGenerationChunk:
        calls = [
            {
                "name": c.name,
                "args": c.raw_arguments
                if c.arguments_error is not None
                else json.dumps(c.arguments, ensure_ascii=False),
                "id": c.id,
                "index": i,
                "type": "tool_call_chunk",
            }
            for i, c in enumerate(chunk.tool_calls)
        ]
        meta: dict[str, Any] = {}
        if last:
            meta = {"model_name": self.model_name, "model_provider": "agentkit"}
            if "finish_reason" in chunk.metadata:
                meta["finish_reason"] = chunk.metadata["finish_reason"]
        message = AIMessageChunk(
            content=chunk.content,
            tool_call_chunks=calls,  # type: ignore[arg-type]
            usage_metadata=usage_metadata(chunk.usage),  # type: ignore[arg-type]
            response_metadata=meta,
            chunk_position="last" if last else None,
        )
        return ChatGenerationChunk(message=message)

    def _result(self, result: AKResult) -> ChatResult:
        fields: dict[str, Any] = {
            "content": result.text,
            "usage_metadata": usage_metadata(result.usage),
            "response_metadata": {
                "model_name": self.model_name,
                "model_provider": "agentkit",
                "finish_reason": result.finish_reason,
            },
        }
        if result.tool_calls:  # validated by the constructor
            fields["tool_calls"], fields["invalid_tool_calls"] = lc_tool_calls(result.tool_calls)
            message = AIMessage(**fields)
        else:  # copies of validated templates: fresh mutable fields, no re-validation
            fields.update(additional_kwargs={}, tool_calls=[], invalid_tool_calls=[])
            message = _TEMPLATE_MESSAGE.model_copy(update=fields)
        generation = _TEMPLATE_GENERATION.model_copy(
            update={"message": message, "text": result.text}
        )
        return _TEMPLATE_RESULT.model_copy(update={"generations": [generation]})

    # --- tools -----------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> LCRunnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models, TypedDicts or schemas)
        as OpenAI-style schemas; ``tool_choice`` is ``"auto"``, ``"any"``/``"required"``,
        ``"none"``, a tool name, or ``True`` (the only tool)."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is True:
            tool_choice = "any"
        elif tool_choice is False:
            tool_choice = None
        return super().bind(tools=schemas, tool_choice=tool_choice, **kwargs)


class _HeldBack:
    """Each agentkit chunk of a stream held back until the next one comes (for the sync and
    the async stream alike), so that the last one is sent marked as last."""

    def __init__(self, convert: Callable[..., ChatGenerationChunk]) -> None:
        self.convert = convert  # (chunk, *, last) -> the LangChain chunk
        self.pending: Message | None = None

    def swap(self, chunk: Message) -> list[ChatGenerationChunk]:
        """Hold ``chunk``; returns the chunk held before it (converted), if any."""
        released, self.pending = self.pending, chunk
        return [] if released is None else [self.convert(released, last=False)]

    def last(self) -> ChatGenerationChunk:
        return self.convert(self.pending or Message("assistant"), last=True)


def bind_tool_schemas(model: Any, schemas: list[dict[str, Any]], choice: Any) -> Any:
    """The agentkit model with tool schemas (and ``tool_choice``, where it takes one)."""
    if isinstance(choice, dict):
        choice = (choice.get("function") or {}).get("name") or choice.get("name") or "any"
    if choice in ("any", "required"):
        choice = "required"
    try:
        if choice is None:
            return model.bind(tools=schemas)
        return model.bind(tools=schemas, tool_choice=choice)
    except UsageError as exc:
        if choice is None or "tool_choice" not in str(exc):
            raise UsageError(
                f"{getattr(model, 'name', model)} does not take tools ({exc}); use a model with "
                "tool calls (OpenAI-compatible, Hugging Face, or agentkit.testing."
                "ScriptedChatModel)"
            ) from exc
    return model.bind(tools=schemas)
