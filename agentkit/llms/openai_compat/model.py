""":class:`OpenAICompatModel`: any server speaking the OpenAI chat-completions protocol
(OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio, ...), over httpx.

Tools and the response format are bound like generation params::

    model = OpenAICompatModel.ollama("llama3.2").bind(tools=[weather_schema], temperature=0)
    model.invoke("Weather in Paris?").tool_calls
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import aclosing, closing
from typing import TYPE_CHECKING, Any

from agentkit.core import spec
from agentkit.core.errors import UsageError
from agentkit.llms.base import BaseChatModel, ParamsLike
from agentkit.llms.messages import ChatResult, Message
from agentkit.llms.openai_compat.sse import DONE, SSEParser, StreamState
from agentkit.llms.openai_compat.transport import SECRET_HEADER_WORDS, Endpoint, Transport
from agentkit.llms.openai_compat.wire import (
    build_body,
    parse_completion,
    response_format_to_wire,
    tool_choice_to_wire,
    tool_to_wire,
)
from agentkit.llms.params import GenerationParams

if TYPE_CHECKING:
    from agentkit.llms.structured import OutputSchema, Strategy

OPENAI_URL = "https://api.openai.com/v1"
OLLAMA_URL = "http://localhost:11434/v1"


def _env(name: str) -> str | None:
    """``AGENTKIT_<name>`` when set, else ``<name>``."""
    return os.environ.get(f"AGENTKIT_{name}") or os.environ.get(name) or None


class OpenAICompatModel(BaseChatModel):
    """A model behind an OpenAI-compatible ``/v1/chat/completions`` endpoint.

    Args:
        model: the model name the server knows (``"llama3.2"``, ``"gpt-4o-mini"``).
        base_url: the ``/v1`` URL; default ``AGENTKIT_OPENAI_BASE_URL``, ``OPENAI_BASE_URL``,
            then OpenAI's.
        api_key: default ``AGENTKIT_OPENAI_API_KEY``, then ``OPENAI_API_KEY``; none is sent
            when unset (local servers need none). Never written to specs.
        timeout: seconds allowed to connect and between bytes of the reply.
        max_retries, backoff: retries of 408/429/5xx and connection errors, waiting
            ``backoff * 2**attempt`` s (or the server's ``Retry-After``).
        params: default generation params.
        extra_headers: sent with every request.
        response_format: ``"json"``, a JSON schema dict or a pydantic model class
            (structured output, where the server supports it).
        tools, tool_choice: JSON schemas of the tools the model may call, and
            ``"auto"``/``"none"``/``"required"`` or a tool name.

    Errors: a timeout raises :class:`RunTimeoutError` (naming the URL and the timeout); HTTP
    401/403/404/400 raise :class:`UsageError` saying what to check; 429/5xx and connection
    errors that outlast the retries raise :class:`ModelServerError` / :class:`RunError`; a
    malformed stream chunk or reply raises :class:`ModelOutputError` (never skipped silently).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        params: ParamsLike = None,
        extra_headers: Mapping[str, str] | None = None,
        response_format: Any = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: Any = None,
    ) -> None:
        super().__init__(params)
        if not isinstance(model, str) or not model:
            raise UsageError(f"OpenAICompatModel needs a model name, got {model!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise UsageError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise UsageError(f"backoff must be a number of seconds >= 0, got {backoff!r}")
        self.model = model
        self.base_url = (base_url or _env("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise UsageError(
                f"base_url must be an http(s) URL such as {OLLAMA_URL}, got {self.base_url!r}"
            )
        self.extra_headers = dict(extra_headers or {})
        self.response_format = response_format_to_wire(response_format)
        self.tools = [tool_to_wire(t) for t in tools or ()]
        self.tool_choice = tool_choice_to_wire(tool_choice)
        headers = {"User-Agent": "agentkit", **self.extra_headers}
        key = api_key or _env("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/chat/completions"
        endpoint = Endpoint(url, headers, float(timeout), max_retries, float(backoff))
        self._transport = Transport(endpoint)

    # --- presets ----------------------------------------------------------------------

    @classmethod
    def ollama(cls, model: str, base_url: str = OLLAMA_URL, **kwargs: Any) -> OpenAICompatModel:
        """A model served by Ollama (``ollama pull <model>`` first)."""
        return cls(model, base_url, **kwargs)

    @classmethod
    def vllm(cls, url: str, model: str, **kwargs: Any) -> OpenAICompatModel:
        """A model served by ``vllm serve <model>``; ``url`` with or without ``/v1``."""
        return cls(model, _v1(url), **kwargs)

    @classmethod
    def llamacpp(
        cls, url: str = "http://localhost:8080", model: str = "default", **kwargs: Any
    ) -> OpenAICompatModel:
        """The model of a llama.cpp ``llama-server`` (which ignores the model name)."""
        return cls(model, _v1(url), **kwargs)

    @classmethod
    def openai(cls, model: str = "gpt-4o-mini", **kwargs: Any) -> OpenAICompatModel:
        """An OpenAI model; needs an API key (``api_key=`` or ``OPENAI_API_KEY``)."""
        if not (kwargs.get("api_key") or _env("OPENAI_API_KEY")):
            raise UsageError(
                "OpenAICompatModel.openai needs an API key: set the OPENAI_API_KEY environment "
                "variable (or AGENTKIT_OPENAI_API_KEY) or pass api_key=...; for a local model "
                "use OpenAICompatModel.ollama(...) or agentkit.llms.load('auto')"
            )
        kwargs.setdefault("base_url", OPENAI_URL)
        return cls(model, **kwargs)

    # --- requests ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"OpenAICompatModel({self.model})"

    @property
    def timeout(self) -> float:
        return self._transport.timeout

    def _body(
        self, messages: Sequence[Message], params: GenerationParams | None, stream: bool
    ) -> dict[str, Any]:
        return build_body(
            self.model,
            messages,
            self.resolve_params(params),
            stream=stream,
            tools=self.tools,
            tool_choice=self.tool_choice,
            response_format=self.response_format,
        )

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        return parse_completion(self._transport.post(self._body(messages, params, False)))

    async def agenerate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        body = self._body(messages, params, False)
        return parse_completion(await self._transport.apost(body))

    def stream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> Iterator[Message]:
        parser, state = SSEParser(), StreamState()
        with closing(self._transport.stream_lines(self._body(messages, params, True))) as lines:
            for line in lines:
                done, chunk = _feed(parser, state, parser.feed(line))
                if chunk is not None:
                    yield chunk
                if done:
                    break
            else:  # the stream ended without [DONE]: its last event may lack a blank line
                _, chunk = _feed(parser, state, parser.flush())
                if chunk is not None:
                    yield chunk
                state.check_ended(self._transport.url)
        yield state.final()

    async def astream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[Message]:
        parser, state = SSEParser(), StreamState()
        body = self._body(messages, params, True)
        async with aclosing(self._transport.astream_lines(body)) as lines:
            async for line in lines:
                done, chunk = _feed(parser, state, parser.feed(line))
                if chunk is not None:
                    yield chunk
                if done:
                    break
            else:
                _, chunk = _feed(parser, state, parser.flush())
                if chunk is not None:
                    yield chunk
                state.check_ended(self._transport.url)
        yield state.final()

    def close(self) -> None:
        """Close the HTTP connections (a later call opens new ones)."""
        self._transport.close()

    async def aclose(self) -> None:
        await self._transport.aclose()

    def structured_strategy(self, schema: OutputSchema, method: str) -> Strategy:
        """``response_format`` with the JSON schema (``method="auto"``/``"json_schema"``),
        a forced call of a tool named after the schema (``"tools"``), or the prompt."""
        from agentkit.llms.structured import Strategy

        if method == "prompt":
            return Strategy(self)
        if method == "tools":
            tool = {"name": schema.name, "parameters": schema.json_schema}
            bound = self.bind(tools=[tool], tool_choice=schema.name)
            return Strategy(bound, constrained=True, instruct=False, from_tool_call=True)
        wire = {
            "type": "json_schema",
            "json_schema": {"name": schema.name, "schema": schema.json_schema},
        }
        return Strategy(self.bind(response_format=wire), constrained=True, instruct=False)

    # --- bind, spec -------------------------------------------------------------------

    bind_fields = {  # ``bind`` accepts generation params plus these
        "tools": lambda model, tools: [tool_to_wire(t) for t in tools or ()],
        "tool_choice": lambda model, choice: tool_choice_to_wire(choice),
        "response_format": lambda model, fmt: response_format_to_wire(fmt),
    }

    def to_dict(self) -> dict[str, Any]:
        endpoint = self._transport.endpoint
        data: dict[str, Any] = {
            "type": "openai_compat_model",
            "model": self.model,
            "base_url": self.base_url,
            "timeout": endpoint.timeout,
            "max_retries": endpoint.max_retries,
            "backoff": endpoint.backoff,
        }
        headers = {
            k: v
            for k, v in self.extra_headers.items()
            if not any(word in k.lower() for word in SECRET_HEADER_WORDS)
        }
        optional = {
            "params": self.params.to_dict(),
            "extra_headers": headers,
            "response_format": self.response_format,
            "tools": self.tools,
            "tool_choice": self.tool_choice,
        }
        data.update({k: v for k, v in optional.items() if v})
        return data


def _feed(parser: SSEParser, state: StreamState, payload: str | None) -> tuple[bool, Any]:
    """(whether the stream is done, the text chunk of ``payload`` or ``None``)."""
    if payload is None:
        return False, None
    if payload == DONE:
        return True, None
    return False, state.feed(payload)


def _v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def _build(ctx: spec.SpecContext) -> OpenAICompatModel:
    return OpenAICompatModel(
        ctx.get("model", str),
        ctx.get("base_url", str, None),
        timeout=ctx.get("timeout", (int, float), 60.0),
        max_retries=ctx.get("max_retries", int, 3),
        backoff=ctx.get("backoff", (int, float), 0.5),
        params=ctx.get("params", dict, None),
        extra_headers=ctx.get("extra_headers", dict, None),
        response_format=ctx.get("response_format", (str, dict), None),
        tools=ctx.get("tools", list, None),
        tool_choice=ctx.get("tool_choice", (str, dict), None),
    )


spec.add_builder("openai_compat_model", _build)
