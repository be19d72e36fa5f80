"""Rendering conversations with a model's chat template (or one the user supplies)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentkit.core.errors import UsageError

PLAIN_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)
"""A minimal chat template for models that ship none (``chat_template=PLAIN_CHAT_TEMPLATE``).
Like every generation prompt it ends without a trailing space: the reply's first token
carries its own leading space, as in the training text."""


PASS_ONE = (
    "pass one, e.g. HFChatModel(model, chat_template=agentkit.llms.hf.PLAIN_CHAT_TEMPLATE) or "
    "chat_template=\"{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}"
    '{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"'
)


def check_chat_template(
    tokenizer: Any, chat_template: str | None, model_id: str, fix: str = PASS_ONE
) -> None:
    """Raise when neither the tokenizer nor the caller supplies a chat template; the error
    ends with ``fix``, what the caller should do."""
    if chat_template is None and not getattr(tokenizer, "chat_template", None):
        raise UsageError(f"model {model_id!r} has no chat template; {fix}")


def render_prompt(
    tokenizer: Any, chat: Sequence[dict[str, str]], chat_template: str | None, model_id: str
) -> str:
    """The prompt text for ``chat`` with the generation prompt appended. A template that
    rejects system messages gets the system text folded into the first user turn."""
    try:
        return _apply(tokenizer, chat, chat_template)
    except Exception as e:  # jinja2 errors, e.g. "System role not supported"
        if len(chat) > 1 and chat[0]["role"] == "system" and chat[1]["role"] == "user":
            content = f"{chat[0]['content']}\n\n{chat[1]['content']}"
            try:
                return _apply(
                    tokenizer, [{"role": "user", "content": content}, *chat[2:]], chat_template
                )
            except Exception:
                pass
        raise UsageError(
            f"the chat template of {model_id!r} failed on these messages ({e}); pass a "
            "chat_template that fits them"
        ) from e


def _apply(tokenizer: Any, chat: Sequence[dict[str, str]], chat_template: str | None) -> str:
    rendered = tokenizer.apply_chat_template(
        list(chat), tokenize=False, add_generation_prompt=True, chat_template=chat_template
    )
    return str(rendered)
