"""Components the served-app tests serve in a subprocess
(``agentkit serve NAME=served_components:attr``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from agentkit.agents.tool_calling import ToolCallingAgent
from agentkit.core.messages import ChatResult, Message, ToolCall
from agentkit.llms.base import BaseChatModel
from agentkit.llms.fake import FakeListModel, FunctionModel
from agentkit.llms.params import GenerationParams
from agentkit.retrievers.embeddings.hashing import HashingEmbedder
from agentkit.tools import calculator


def _echo(messages: list[Message], params: GenerationParams) -> str | ChatResult:
    """Echo the conversation; ask for the weather tool when the user says 'weather'."""
    last = messages[-1]
    if last.role == "tool":
        return f"The weather is {last.content}"
    if "weather" in last.content:
        return ChatResult("", [ToolCall("call_w", "get_weather", {"city": "Oslo"})])
    roles = ",".join(m.role for m in messages)
    return f"echo [{roles}] {last.content}"


class CrashingModel(BaseChatModel):
    """Streams two pieces, then fails."""

    is_fake: ClassVar[bool] = True

    def generate(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> ChatResult:
        raise RuntimeError("the model crashed before answering")

    async def astream_chunks(
        self, messages: Sequence[Message], params: GenerationParams | None = None
    ) -> AsyncIterator[Message]:
        yield Message("assistant", "partial ")
        yield Message("assistant", "answer ")
        raise RuntimeError("the model crashed mid-stream")


def _never(messages: list[Message], params: GenerationParams) -> str:
    raise RuntimeError("the model is down")


echo = FunctionModel(_echo)
failing = CrashingModel()
down = FunctionModel(_never)
slow = FakeListModel(["slow answer"], latency=4.0)
agent = ToolCallingAgent(
    FakeListModel(
        [ChatResult("", [ToolCall("c1", "calculator", {"expression": "6*7"})]), "It is 42"]
    ),
    [calculator],
)
emb = HashingEmbedder(dimension=16)
