"""The shared conformance suite for chat models.

Every chat model (the fakes, and real backends) passes the same tests: generate, stream
equals generate, batch equals single calls, stop strings, max_new_tokens, usage counts,
params validation, the model-requests switch, and the async entry points.

Subclass :class:`ChatModelConformance` in a test module (pytest collects it when the
subclass name starts with ``Test``) and implement :meth:`make_model`. A *scripted* model
answers its n-th call with ``responses[n]``; models that cannot be scripted (a tiny real LM)
set ``scripted = False`` and must be deterministic (greedy), because the suite compares
replies of fresh models to the same prompt.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from agentkit.core.errors import ModelRequestsForbiddenError, UsageError
from agentkit.core.messages import ChatResult, Message, user
from agentkit.llms.base import BaseChatModel
from agentkit.llms.params import GenerationParams
from agentkit.llms.switch import model_requests


def join_text(chunks: list[Message]) -> str:
    return "".join(chunk.content for chunk in chunks)


class ChatModelConformance(ABC):
    """Base class of a pytest suite; subclasses provide :meth:`make_model`."""

    scripted: ClassVar[bool] = True
    streams_tokens: ClassVar[bool] = True
    replies: ClassVar[list[str]] = [
        "The capital of France is Paris. It lies on the Seine, in the north.",
        "Two plus two makes four, as every pupil learns early on.",
        "Rivers flow to the sea; the sea returns to the clouds as rain.",
    ]
    prompts: ClassVar[list[str]] = [
        "What is the capital of France?",
        "What is two plus two?",
        "Where do rivers go?",
    ]

    @abstractmethod
    def make_model(self, responses: list[str]) -> BaseChatModel:
        """A fresh model; when ``scripted``, its n-th call answers ``responses[n]``."""

    # --- helpers ----------------------------------------------------------------------

    def fresh(self) -> BaseChatModel:
        return self.make_model(list(self.replies))

    def reference(self, prompt: str, **params: Any) -> ChatResult:
        """The reply of a fresh model to ``prompt`` (the first reply when scripted)."""
        return self.fresh().generate([user(prompt)], GenerationParams(**params))

    # --- generate ---------------------------------------------------------------------

    def test_generate_returns_chat_result(self) -> None:
        result = self.fresh().generate([user(self.prompts[0])])
        assert isinstance(result, ChatResult)
        assert isinstance(result.text, str) and result.text
        assert result.finish_reason in ("stop", "length", "tool_calls")
        if self.scripted:
            assert result.text == self.replies[0]

    def test_invoke_returns_assistant_message_with_usage(self) -> None:
        model = self.fresh()
        message = model.invoke(self.prompts[0])
        assert isinstance(message, Message)
        assert message.role == "assistant"
        assert message.content == self.reference(self.prompts[0]).text
        assert message.usage is not None and message.usage.total_tokens > 0
        assert "finish_reason" in message.metadata

    def test_invoke_accepts_message_forms(self) -> None:
        prompt = self.prompts[0]
        expected = self.reference(prompt).text
        forms: list[Any] = [
            prompt,
            [user(prompt)],
            [("human", prompt)],
            {"messages": [{"role": "user", "content": prompt}]},
        ]
        for form in forms:
            assert self.fresh().invoke(form).content == expected

    def test_scripted_models_answer_in_order(self) -> None:
        if not self.scripted:
            return
        model = self.fresh()
        texts = [model.invoke(p).content for p in self.prompts]
        assert texts == self.replies[: len(self.prompts)]

    def test_usage_counts(self) -> None:
        result = self.reference(self.prompts[0])
        usage = result.usage
        assert usage.prompt_tokens > 0
        assert usage.completion_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        assert usage.as_dict()["total_tokens"] == usage.total_tokens

    # --- streaming --------------------------------------------------------------------

    def test_stream_equals_generate(self) -> None:
        expected = self.reference(self.prompts[0])
        chunks = list(self.fresh().stream(self.prompts[0]))
        assert chunks and all(isinstance(c, Message) and c.role == "assistant" for c in chunks)
        assert join_text(chunks) == expected.text
        if self.streams_tokens and len(expected.text.split()) > 1:
            assert len(chunks) > 1
        joined = chunks[0]
        for chunk in chunks[1:]:
            joined = joined + chunk
        assert joined.content == expected.text
        assert joined.usage is not None and joined.usage.completion_tokens > 0

    def test_generate_stream_yields_text(self) -> None:
        expected = self.reference(self.prompts[0]).text
        deltas = list(self.fresh().generate_stream([user(self.prompts[0])]))
        assert all(isinstance(d, str) for d in deltas)
        assert "".join(deltas) == expected

    # --- batching ---------------------------------------------------------------------

    def test_generate_batch_equals_single_calls(self) -> None:
        singles_model = self.fresh()
        singles = [singles_model.generate([user(p)]).text for p in self.prompts]
        batch = self.fresh().generate_batch([[user(p)] for p in self.prompts])
        assert [r.text for r in batch] == singles

    def test_runnable_batch_equals_invoke(self) -> None:
        singles_model = self.fresh()
        singles = [singles_model.invoke(p).content for p in self.prompts]
        outputs = self.fresh().batch(self.prompts)
        assert [m.content for m in outputs] == singles
        assert all(m.usage is not None for m in outputs)

    # --- params -----------------------------------------------------------------------

    def test_stop_strings_cut_the_reply(self) -> None:
        full = self.reference(self.prompts[0]).text
        words = full.split()
        assert len(words) >= 3, "the suite needs a reply of at least three words"
        stop = words[len(words) // 2]
        expected = full[: full.find(stop)]
        result = self.fresh().generate([user(self.prompts[0])], GenerationParams(stop=(stop,)))
        assert result.text == expected
        assert result.finish_reason == "stop"
        bound = self.fresh().bind(stop=[stop])
        assert bound.invoke(self.prompts[0]).content == expected
        assert join_text(list(self.fresh().bind(stop=[stop]).stream(self.prompts[0]))) == expected

    def test_max_new_tokens_limits_the_reply(self) -> None:
        full = self.reference(self.prompts[0])
        result = self.reference(self.prompts[0], max_new_tokens=2)
        assert result.usage.completion_tokens <= 2
        assert result.finish_reason == "length"
        assert full.text.startswith(result.text.rstrip())

    def test_bind_returns_copy_with_merged_params(self) -> None:
        model = self.fresh()
        before = model.params
        bound = model.bind(temperature=0.0, max_new_tokens=50)
        assert bound is not model and type(bound) is type(model)
        assert bound.params.temperature == 0.0 and bound.params.max_new_tokens == 50
        assert model.params == before
        rebound = bound.bind(max_new_tokens=7)
        assert rebound.params.temperature == 0.0 and rebound.params.max_new_tokens == 7

    def test_invalid_params_raise_usage_errors(self) -> None:
        model = self.fresh()
        cases: list[tuple[dict[str, Any], str]] = [
            ({"temperature": -0.5}, "temperature must be >= 0"),
            ({"top_p": 1.5}, "0 < top_p <= 1"),
            ({"top_k": -1}, "top_k"),
            ({"max_new_tokens": 0}, "max_new_tokens must be an integer >= 1"),
            ({"stop": [""]}, "non-empty strings"),
            ({"temprature": 0.1}, "allowed: temperature"),
        ]
        for params, fragment in cases:
            try:
                model.bind(**params)
            except UsageError as exc:
                assert fragment in str(exc), (params, str(exc))
            else:
                raise AssertionError(f"bind({params}) did not raise UsageError")

    # --- the model-requests switch ---------------------------------------------------

    def test_request_switch(self) -> None:
        model = self.fresh()
        with model_requests(False):
            if model.is_fake:
                assert model.invoke(self.prompts[0]).content
            else:
                try:
                    model.invoke(self.prompts[0])
                except ModelRequestsForbiddenError as exc:
                    assert "allow_model_requests(True)" in str(exc)
                else:
                    raise AssertionError("a real model ran while requests were forbidden")

    # --- async ------------------------------------------------------------------------

    def test_ainvoke_equals_invoke(self) -> None:
        expected = self.reference(self.prompts[0]).text
        message = asyncio.run(self.fresh().ainvoke(self.prompts[0]))
        assert message.role == "assistant" and message.content == expected
        assert message.usage is not None and message.usage.total_tokens > 0

    def test_abatch_equals_batch(self) -> None:
        expected = [m.content for m in self.fresh().batch(self.prompts)]
        outputs = asyncio.run(self.fresh().abatch(self.prompts, max_concurrency=4))
        assert [m.content for m in outputs] == expected

    def test_astream_equals_generate(self) -> None:
        expected = self.reference(self.prompts[0]).text

        async def collect() -> list[Message]:
            return [chunk async for chunk in self.fresh().astream(self.prompts[0])]

        chunks = asyncio.run(collect())
        assert all(c.role == "assistant" for c in chunks)
        assert join_text(chunks) == expected
        if self.streams_tokens and len(expected.split()) > 1:
            assert len(chunks) > 1
