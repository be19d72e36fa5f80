"""Memories that show the stored history itself: all of it, the last k turns, or the most
recent messages that fit in a token budget."""

from __future__ import annotations

from typing import Any

from agentkit.core.errors import SpecError, UsageError
from agentkit.core.messages import Message
from agentkit.core.spec import SpecContext, add_builder
from agentkit.memory.base import BaseMemory, base_kwargs, split_turns
from agentkit.memory.store import HistoryStore
from agentkit.memory.tokens import token_counter


class BufferMemory(BaseMemory):
    """Every message of the session."""

    type_name = "buffer_memory"

    def load(self, session: str) -> list[Message]:
        return self.store.messages(session)


class WindowMemory(BaseMemory):
    """The last ``k`` turns (a turn is a user message and what followed it)."""

    type_name = "window_memory"

    def __init__(self, k: int = 5, store: HistoryStore | None = None, **options: Any) -> None:
        super().__init__(store, **options)
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise UsageError(f"WindowMemory k (turns to keep) must be an integer >= 0, got {k!r}")
        self.k = k

    def load(self, session: str) -> list[Message]:
        if self.k == 0:
            return []
        turns = split_turns(self.store.messages(session))
        return [m for turn in turns[-self.k :] for m in turn]

    def to_dict(self) -> dict[str, Any]:
        return {**self.base_fields(), "k": self.k}


def positive_tokens(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def tokenizer_spec(tokenizer: Any) -> dict[str, Any]:
    """The ``tokenizer`` spec field: absent, or the spec of a serialisable tokenizer."""
    if tokenizer is None:
        return {}
    if getattr(tokenizer, "to_dict", None) is None:
        raise SpecError(
            "$.tokenizer",
            f"the tokenizer {type(tokenizer).__name__} cannot be serialised; pass a chat "
            "model that has to_dict() (it is saved as the tokenizer), or rebuild the memory "
            "in code",
        )
    return {"tokenizer": tokenizer.to_dict()}


class TokenBufferMemory(BaseMemory):
    """The most recent messages whose contents fit in ``max_tokens``.

    Tokens are counted with ``tokenizer`` (see :func:`~agentkit.memory.tokens.token_counter`:
    a chat model, a Hugging Face tokenizer, or a function), else estimated as
    ``ceil(chars / 4)``. Older messages are dropped whole; a tool result whose call was
    dropped is dropped too.
    """

    type_name = "token_buffer_memory"

    def __init__(
        self,
        max_tokens: int = 2000,
        tokenizer: Any = None,
        store: HistoryStore | None = None,
        **options: Any,
    ) -> None:
        if "llm" in options:  # LangChain counts tokens with the model; agentkit, a tokenizer
            raise UsageError(
                "TokenBufferMemory counts tokens with tokenizer= (a tokenizer or a function "
                "text -> token count), not llm=; e.g. TokenBufferMemory(max_tokens=2000, "
                "tokenizer=model.tokenizer)"
            )
        if "max_token_limit" in options:  # LangChain's name for max_tokens
            max_tokens = options.pop("max_token_limit")
        super().__init__(store, **options)
        self.max_tokens = positive_tokens("TokenBufferMemory max_tokens", max_tokens)
        self.tokenizer = tokenizer
        self.count = token_counter(tokenizer)

    def load(self, session: str) -> list[Message]:
        messages = self.store.messages(session)
        sizes = [self.count(m.content) for m in messages]
        total, start = sum(sizes), 0
        while start < len(messages) and total > self.max_tokens:
            total -= sizes[start]
            start += 1
        while start < len(messages) and messages[start].role == "tool":
            start += 1
        return messages[start:]

    def to_dict(self) -> dict[str, Any]:
        data = {**self.base_fields(), "max_tokens": self.max_tokens}
        return {**data, **tokenizer_spec(self.tokenizer)}


def _window(ctx: SpecContext) -> WindowMemory:
    return WindowMemory(ctx.get("k", int, 5), **base_kwargs(ctx))


def _token_buffer(ctx: SpecContext) -> TokenBufferMemory:
    return TokenBufferMemory(
        ctx.get("max_tokens", int, 2000), ctx.component("tokenizer", None), **base_kwargs(ctx)
    )


add_builder("buffer_memory", lambda ctx: BufferMemory(**base_kwargs(ctx)))
add_builder("window_memory", _window)
add_builder("token_buffer_memory", _token_buffer)
