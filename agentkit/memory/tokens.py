"""Token counting for the token-limited memories.

:func:`token_counter` accepts, in this order: an object with ``count_tokens(text)`` (a
chat model that knows its tokenizer), an object with ``encode(text)`` (a Hugging Face
tokenizer, tiktoken), an object with a ``tokenizer`` attribute holding one of those (a
local chat model), or a function ``text -> int``. Without one (or for a chat model that
has no tokenizer, such as a remote API model), :func:`approx_tokens` is used:
``ceil(len(text) / 4)``, the usual rule of thumb for English text with BPE tokenizers
(about four characters per token).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message
from agentkit.core.runnable import Runnable

Counter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """``ceil(len(text) / 4)``: about four characters per token."""
    return math.ceil(len(text) / 4)


def token_counter(tokenizer: Any = None) -> Counter:
    """A ``text -> token count`` function for ``tokenizer`` (see the module doc)."""
    if tokenizer is None:
        return approx_tokens
    count = getattr(tokenizer, "count_tokens", None)
    if callable(count):
        return lambda text: int(count(text))
    encode = getattr(tokenizer, "encode", None)
    if callable(encode):
        return _encode_counter(encode)
    inner = getattr(tokenizer, "tokenizer", None)
    if inner is not None and inner is not tokenizer:
        return token_counter(inner)
    if callable(tokenizer):
        return lambda text: int(tokenizer(text))
    if isinstance(tokenizer, Runnable):  # a chat model without a tokenizer: estimate
        return approx_tokens
    raise UsageError(
        f"cannot count tokens with {type(tokenizer).__name__}; pass an object with "
        "count_tokens(text) or encode(text) (a Hugging Face tokenizer), a chat model with a "
        "tokenizer attribute, a function text -> int, or None for the ceil(chars/4) estimate"
    )


def _encode_counter(encode: Callable[..., Any]) -> Counter:
    """Count with ``encode``, leaving out special tokens where the tokenizer allows it."""
    plain = False

    def count(text: str) -> int:
        nonlocal plain
        if not plain:
            try:
                return len(encode(text, add_special_tokens=False))
            except TypeError:  # tiktoken and others take no such keyword
                plain = True
        return len(encode(text))

    return count


def message_tokens(messages: Sequence[Message], count: Counter) -> int:
    """Tokens of the messages' contents."""
    return sum(count(m.content) for m in messages)
