"""Turning records into conversations: the Alpaca prompt templates and one chat per record.

Every instruction format becomes a chat (system?, user, assistant) rendered with the base
model's chat template, so a trained adapter answers the same messages an ``HFChatModel``
sends at inference. For Alpaca data the user turn is the Alpaca prompt; format your
questions with the same template at inference (``PromptTemplate(ALPACA_WITH_INPUT)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentkit.core.errors import UsageError

ALPACA_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further "
    "context. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
ALPACA_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately "
    "completes the request.\n\n### Instruction:\n{instruction}\n\n### Response:"
)
CHAT_FORMATS = ("qa", "alpaca", "prompt_completion", "messages")

Chat = list[dict[str, str]]


def alpaca_prompt(instruction: str, input: str = "") -> str:
    """The Alpaca prompt: the with-input template when ``input`` is non-blank."""
    if input.strip():
        return ALPACA_WITH_INPUT.format(instruction=instruction, input=input)
    return ALPACA_NO_INPUT.format(instruction=instruction)


def to_chat(record: Mapping[str, Any], format: str, system: str | None = None) -> Chat:
    """The conversation to train on for a record of an instruction format. ``system`` is a
    default system prompt (a record's own ``system`` field wins)."""
    if format == "messages":
        chat = [{"role": m["role"], "content": m["content"]} for m in record["messages"]]
        if system and chat[0]["role"] != "system":
            chat.insert(0, {"role": "system", "content": system})
        return chat
    if format == "qa":
        prompt, reply = record["question"], record["answer"]
    elif format == "alpaca":
        prompt = alpaca_prompt(record["instruction"], record.get("input") or "")
        reply = record["output"]
    elif format == "prompt_completion":
        prompt, reply = record["prompt"], record["completion"]
    else:
        raise UsageError(
            f"format {format!r} is not an instruction format ({', '.join(CHAT_FORMATS)})"
        )
    head = record.get("system") or system
    chat = [{"role": "system", "content": head}] if head else []
    return [*chat, {"role": "user", "content": prompt}, {"role": "assistant", "content": reply}]


def preference_prompt(record: Mapping[str, Any], system: str | None = None) -> Chat:
    """The prompt of a preference pair as a conversation ending with a user turn."""
    prompt = record["prompt"]
    chat = (
        [{"role": m["role"], "content": m["content"]} for m in prompt]
        if isinstance(prompt, list)
        else [{"role": "user", "content": prompt}]
    )
    if system and chat[0]["role"] != "system":
        chat.insert(0, {"role": "system", "content": system})
    return chat
