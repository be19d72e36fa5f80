""":class:`StructuredOutput`: a model that answers with validated objects.

``model.with_structured_output(Person)`` asks the backend for the best way to get ``Person``
JSON (:meth:`BaseChatModel.structured_strategy`): OpenAI-compatible servers take a
``response_format`` JSON schema (or a forced tool call), Hugging Face models decode under a
grammar (llguidance), any other model is asked in the prompt. Every reply is validated;
one that fails goes back to the model with the validation error, up to ``max_retries``
times, then :class:`ModelOutputError` is raised.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentkit.core.config import ConfigLike, RunConfig
from agentkit.core.errors import ModelOutputError, UsageError
from agentkit.core.runnable import Runnable
from agentkit.llms.messages import ChatResult, Message, to_messages
from agentkit.llms.structured.schema import OutputSchema

if TYPE_CHECKING:
    from agentkit.llms.base import BaseChatModel

METHODS = ("auto", "json_schema", "tools", "prompt")


@dataclass(frozen=True)
class Strategy:
    """How one backend produces structured replies.

    Attributes:
        model: the (bound) model to call.
        constrained: the backend enforces the schema (a grammar, a server-side schema).
        instruct: add the schema to the conversation as a system instruction.
        from_tool_call: the reply is the arguments of the first tool call.
    """

    model: BaseChatModel
    constrained: bool = False
    instruct: bool = True
    from_tool_call: bool = False


class StructuredOutput(Runnable[Any, Any]):
    """Answers a string, message list or ``{"messages": [...]}`` with an object of
    ``schema``: a pydantic instance for a pydantic class, a dict for a JSON schema.

    Args:
        model: any chat model.
        schema: a pydantic model class or a JSON schema dict.
        method: ``"auto"`` (the backend's best), ``"json_schema"`` (server schema or
            grammar), ``"tools"`` (a forced tool call) or ``"prompt"`` (instruction only).
        max_retries: how many times a reply that fails validation is sent back with the
            error (0: never).
        instruct: add the schema to the conversation as a system instruction; default: the
            backend's choice (yes, except where the server receives the schema itself).
    """

    kind = "model"

    def __init__(
        self,
        model: BaseChatModel,
        schema: Any,
        *,
        method: str = "auto",
        max_retries: int = 2,
        instruct: bool | None = None,
    ) -> None:
        if method not in METHODS:
            raise UsageError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.model = model
        self.schema = OutputSchema(schema)
        self.method = method
        self.max_retries = max_retries
        self.strategy = model.structured_strategy(self.schema, method)
        self.instruct = self.strategy.instruct if instruct is None else bool(instruct)

    @property
    def name(self) -> str:
        return f"StructuredOutput({self.model.name}, {self.schema.name})"

    def invoke(self, input: Any, config: ConfigLike = None) -> Any:
        out = self._answer([to_messages(input)])[0]
        if isinstance(out, Exception):
            raise out
        return out

    def _batch_natively(
        self, inputs: Sequence[Any], cfg: RunConfig, limit: int | None, return_exceptions: bool
    ) -> list[Any] | None:
        """``batch`` sends all inputs in one ``generate_batch`` call per attempt (true
        batching on HF); with a timeout, tracers or events, one by one."""
        if cfg.timeout is not None or cfg.tracers or cfg.events is not None:
            return None
        outputs = self._answer([to_messages(item) for item in inputs], limit)
        if not return_exceptions:
            for out in outputs:
                if isinstance(out, Exception):
                    raise out
        return outputs

    def _answer(
        self, conversations: list[list[Message]], max_concurrency: int | None = None
    ) -> list[Any]:
        model = self.strategy.model
        convs = [self._prepare(c) for c in conversations]
        outputs: list[Any] = [None] * len(convs)
        pending = list(range(len(convs)))
        for _ in range(self.max_retries + 1):
            if not pending:
                break
            batch = [convs[i] for i in pending]
            if len(batch) == 1:
                results = [model.generate(batch[0], model.params)]
            else:
                results = model.generate_batch(batch, model.params, max_concurrency=max_concurrency)
            retry = []
            for i, result in zip(pending, results, strict=True):
                text = self._reply(result)
                try:
                    outputs[i] = self.schema.validate(text)
                except ModelOutputError as e:
                    outputs[i] = e
                    convs[i] = [*convs[i], Message("assistant", text), Message("user", _ask(e))]
                    retry.append(i)
            pending = retry
        attempts = self.max_retries + 1
        for i in pending:
            last: ModelOutputError = outputs[i]
            outputs[i] = ModelOutputError(
                f"{attempts} attempt(s) gave no reply matching schema {self.schema.name}; "
                f"the last failed with: {_bare(last)}",
                last.text,
                "Raise max_retries, give the model more max_new_tokens, or install "
                "agentkit[structured] for constrained decoding on local models",
            )
        return outputs

    def _prepare(self, messages: list[Message]) -> list[Message]:
        if not self.instruct:
            return messages
        text = self.schema.instruction()
        if messages and messages[0].role == "system":
            return [Message("system", f"{messages[0].content}\n\n{text}"), *messages[1:]]
        return [Message("system", text), *messages]

    def _reply(self, result: ChatResult) -> str:
        if self.strategy.from_tool_call and result.tool_calls:
            call = result.tool_calls[0]
            return call.raw_arguments or json.dumps(call.arguments)
        return result.text


def _bare(error: ModelOutputError) -> str:
    """The error's message without the model output and hint it appends."""
    return str(error).split(". Model output was: ")[0]


def _ask(error: ModelOutputError) -> str:
    return f"{error.feedback()}\n{error.hint}".strip()
