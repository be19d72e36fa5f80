"""Tokenising training records: conversations through the chat template with the loss on
the assistant turns only, plain text for continued pre-training, and truncation.

Each prompt piece is tokenised exactly as ``HFChatModel`` tokenises a prompt (the rendered
template, no extra special tokens), so the model learns to continue the very token sequence
it sees at inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.finetune.data import Example
from agentkit.finetune.templates import CHAT_FORMATS, Chat, to_chat

IGNORE = -100
TRUNCATION_SIDES = ("right", "left")


@dataclass
class Encoded:
    """Token ids and labels (``-100`` where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]

    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def check_chat_template(tokenizer: Any, chat_template: str | None, base: str) -> None:
    from agentkit.llms.hf import chat_template as templates

    fix = (
        "instruction data needs one: pass chat_template=... (e.g. "
        "agentkit.llms.hf.PLAIN_CHAT_TEMPLATE) and use the same template with the trained "
        "model: HFChatModel(..., chat_template=...)"
    )
    templates.check_chat_template(tokenizer, chat_template, base, fix)


def render(tokenizer: Any, chat: Chat, generation_prompt: bool, chat_template: str | None) -> str:
    try:
        text = tokenizer.apply_chat_template(
            chat,
            tokenize=False,
            add_generation_prompt=generation_prompt,
            chat_template=chat_template,
        )
    except Exception as e:  # jinja2 errors, e.g. roles the template rejects
        raise UsageError(
            f"the chat template failed on a training conversation ({e}); fix the record or "
            "pass a chat_template that accepts its roles"
        ) from e
    return str(text)


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []


def encode_chat(tokenizer: Any, chat: Chat, chat_template: str | None = None) -> Encoded:
    """Tokens of the whole conversation; labels on each assistant turn (its text and the
    template's end-of-turn tokens). The template must render every prefix of the
    conversation as a prefix of the whole."""
    full = render(tokenizer, chat, False, chat_template)
    ids: list[int] = []
    labels: list[int] = []
    done = 0
    for k, message in enumerate(chat):
        if message["role"] != "assistant":
            continue
        prompt = render(tokenizer, chat[:k], True, chat_template)
        upto = render(tokenizer, chat[: k + 1], False, chat_template)
        if not (upto.startswith(prompt) and full.startswith(upto) and len(prompt) >= done):
            raise UsageError(
                "the chat template does not render a conversation's turns as prefixes of the "
                "whole conversation, so assistant turns cannot be located; use "
                "format='text' with pre-rendered text or pass a simpler chat_template"
            )
        context, reply = (
            _ids(tokenizer, full[done : len(prompt)]),
            _ids(tokenizer, full[len(prompt) : len(upto)]),
        )
        ids += context + reply
        labels += [IGNORE] * len(context) + reply
        done = len(upto)
    tail = _ids(tokenizer, full[done:])
    return Encoded(ids + tail, labels + [IGNORE] * len(tail))


def encode_text(tokenizer: Any, text: str) -> Encoded:
    """Plain text (with the tokenizer's own special tokens) and an end-of-sequence token;
    the loss is on every token."""
    ids = list(tokenizer(text)["input_ids"])
    if tokenizer.eos_token_id is not None and (not ids or ids[-1] != tokenizer.eos_token_id):
        ids.append(tokenizer.eos_token_id)
    return Encoded(ids, list(ids))


def truncate(encoded: Encoded, max_length: int | None, side: str = "right") -> Encoded:
    """Keep the first (``side="right"`` cuts the end) or last (``"left"``) ``max_length``
    tokens."""
    if side not in TRUNCATION_SIDES:
        raise UsageError(f"truncation_side must be 'right' or 'left', got {side!r}")
    if max_length is None or len(encoded.input_ids) <= max_length:
        return encoded
    cut = slice(None, max_length) if side == "right" else slice(-max_length, None)
    return Encoded(encoded.input_ids[cut], encoded.labels[cut])


def encode_examples(
    tokenizer: Any,
    examples: Sequence[Example],
    format: str,
    *,
    max_length: int | None,
    truncation_side: str = "right",
    chat_template: str | None = None,
    system: str | None = None,
    completion_only_loss: bool = True,
) -> tuple[list[Encoded], int]:
    """Encode and truncate ``examples``; returns (encoded, number dropped because
    truncation left no trained token)."""
    out: list[Encoded] = []
    dropped = 0
    for example in examples:
        if format == "text":
            encoded = encode_text(tokenizer, example["text"])
        elif format in CHAT_FORMATS:
            encoded = encode_chat(tokenizer, to_chat(example.data, format, system), chat_template)
            if not completion_only_loss:
                encoded = Encoded(encoded.input_ids, list(encoded.input_ids))
        else:
            raise UsageError(
                f"format {format!r} cannot be used for supervised fine-tuning; use one of "
                f"{', '.join((*CHAT_FORMATS, 'text'))}"
            )
        encoded = truncate(encoded, max_length, truncation_side)
        if encoded.trained_tokens() == 0:
            dropped += 1
            continue
        out.append(encoded)
    return out, dropped
