"""The shared ChatModel conformance suite, run for the fakes and a scripted non-fake model."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pytest

from agentkit.llms import (
    BaseChatModel,
    ChatResult,
    FakeListModel,
    FunctionModel,
    GenerationParams,
    Message,
    Usage,
)
from agentkit.llms.fake import apply_limits
from agentkit.llms.switch import model_requests
from agentkit.testing import ChatModelConformance


class TestFakeListModel(ChatModelConformance):
    def make_model(self, responses: list[str]) -> BaseChatModel:
        return FakeListModel(responses)


class TestFakeListModelWithLatency(ChatModelConformance):
    def make_model(self, responses: list[str]) -> BaseChatModel:
        return FakeListModel(responses, latency=0.001, token_latency=0.0002)


class TestFunctionModel(ChatModelConformance):
    def make_model(self, responses: list[str]) -> BaseChatModel:
        counter = itertools.count()
        return FunctionModel(lambda messages, params: responses[next(counter) % len(responses)])


class ScriptedBackend(BaseChatModel):
    """A non-fake model built only on ``generate`` (every other method is a default)."""

    def __init__(self, responses: list[str]) -> None:
        super().__init__()
        self.responses = responses
        self.counter = itertools.count()

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        raw = self.responses[next(self.counter) % len(self.responses)]
        text, cut = apply_limits(raw, self.resolve_params(params))
        prompt = sum(len(m.content.split()) for m in messages)
        return ChatResult(text, usage=Usage(prompt, len(text.split())), finish_reason=cut or "stop")


class TestDefaultsOfBaseChatModel(ChatModelConformance):
    streams_tokens = False

    @pytest.fixture(autouse=True)
    def _allow_requests(self) -> Iterator[None]:
        with model_requests(True):
            yield

    def make_model(self, responses: list[str]) -> BaseChatModel:
        return ScriptedBackend(responses)
