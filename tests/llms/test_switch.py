"""The global switch that forbids real model requests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from agentkit.core.errors import ModelRequestsForbiddenError
from agentkit.llms import (
    BaseChatModel,
    ChatResult,
    FakeListModel,
    GenerationParams,
    Message,
    allow_model_requests,
    model_requests,
    model_requests_allowed,
    user,
)


class RealModel(BaseChatModel):
    """Stands in for a real backend: not fake, so the switch applies."""

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        return ChatResult(f"echo: {messages[-1].content}")


class RealBatcher(RealModel):
    """A real backend that batches natively."""

    def generate_together(
        self, batch: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[ChatResult]:
        return [ChatResult("batched") for _ in batch]


def test_native_batching_is_checked_too() -> None:
    with pytest.raises(ModelRequestsForbiddenError, match="RealBatcher"):
        RealBatcher().generate_batch([[user("a")]])
    with model_requests(True):
        assert RealBatcher().batch(["a", "b"])[1].content == "batched"


def _astream(model: BaseChatModel) -> list[Message]:
    async def collect() -> list[Message]:
        return [c async for c in model.astream("hi")]

    return asyncio.run(collect())


CALLS: dict[str, Callable[[BaseChatModel], Any]] = {
    "invoke": lambda m: m.invoke("hi"),
    "generate": lambda m: m.generate([user("hi")]),
    "stream": lambda m: list(m.stream("hi")),
    "generate_stream": lambda m: list(m.generate_stream([user("hi")])),
    "batch": lambda m: m.batch(["a", "b"]),
    "generate_batch": lambda m: m.generate_batch([[user("a")], [user("b")]]),
    "ainvoke": lambda m: asyncio.run(m.ainvoke("hi")),
    "abatch": lambda m: asyncio.run(m.abatch(["a", "b"])),
    "astream": _astream,
}


def test_tests_run_with_requests_forbidden() -> None:
    assert model_requests_allowed() is False


@pytest.mark.parametrize("entry", sorted(CALLS))
def test_real_model_fails_loudly_while_forbidden(entry: str) -> None:
    with pytest.raises(ModelRequestsForbiddenError) as info:
        CALLS[entry](RealModel())
    message = str(info.value)
    assert "RealModel" in message
    assert "agentkit.llms.fake" in message and "allow_model_requests(True)" in message


@pytest.mark.parametrize("entry", sorted(CALLS))
def test_real_model_runs_when_allowed(entry: str) -> None:
    with model_requests(True):
        assert CALLS[entry](RealModel())
    assert model_requests_allowed() is False


def test_fake_models_always_run() -> None:
    assert FakeListModel(["ok"]).invoke("hi").content == "ok"


def test_allow_model_requests_toggles_the_switch() -> None:
    try:
        allow_model_requests(True)
        assert model_requests_allowed()
        assert RealModel().invoke("x").content == "echo: x"
    finally:
        allow_model_requests(False)
    assert not model_requests_allowed()


def test_context_manager_restores_after_errors() -> None:
    with pytest.raises(RuntimeError), model_requests(True):
        raise RuntimeError("boom")
    assert model_requests_allowed() is False


def test_fake_subclass_of_a_real_model_is_not_guarded() -> None:
    class ScriptedReal(RealModel):
        is_fake = True

    assert ScriptedReal().invoke("x").content == "echo: x"
