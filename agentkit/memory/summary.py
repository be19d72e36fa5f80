"""Memories that fold old turns into a running summary written by a model.

:class:`SummaryBufferMemory` keeps recent turns verbatim and, when they exceed
``max_tokens``, folds the oldest turns into the summary. :class:`SummaryMemory` folds every
turn (a summary buffer of zero tokens). The store keeps every message; the summary and the
number of messages it covers are kept beside them with ``store.set_value`` (in SQLite, the
``session_values`` table), so they survive restarts. The prompt is the data file
``agentkit/memory/prompts/summary.txt`` (variables ``summary`` and ``new_lines``); pass
``prompt=`` to override it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message
from agentkit.core.runnable import Runnable
from agentkit.core.spec import SpecContext, add_builder, dump
from agentkit.memory.base import BaseMemory, base_kwargs, buffer_string, split_turns
from agentkit.memory.buffer import positive_tokens, tokenizer_spec
from agentkit.memory.store import HistoryStore
from agentkit.memory.tokens import token_counter

PROMPT_FILE = Path(__file__).parent / "prompts" / "summary.txt"
SUMMARY_PREFIX = "Summary of the earlier conversation:\n"
SUMMARY_ROLES = ("system", "user", "assistant")


def default_summary_prompt() -> Any:
    from agentkit.prompts import PromptTemplate

    return PromptTemplate.from_file(PROMPT_FILE)


class SummaryBufferMemory(BaseMemory):
    """Recent turns verbatim; older ones folded into a summary once the verbatim part
    exceeds ``max_tokens`` (counted as in :class:`~agentkit.memory.TokenBufferMemory`).

    ``load`` returns the summary as one message (role ``summary_role``, default
    ``"system"``; use ``"user"`` for chat templates that allow one system message only)
    followed by the recent messages. The summary is written by ``llm`` (any runnable that
    answers a prompt string with a message or a string) when a turn is saved.
    """

    type_name = "summary_buffer_memory"
    state_key = "summary_buffer"

    def __init__(
        self,
        llm: Runnable[Any, Any],
        max_tokens: int = 2000,
        store: HistoryStore | None = None,
        *,
        tokenizer: Any = None,
        prompt: Any = None,
        summary_role: str = "system",
        **options: Any,
    ) -> None:
        super().__init__(store, **options)
        if not isinstance(llm, Runnable):
            raise UsageError(
                f"{type(self).__name__} needs a model (a Runnable) to write the summary, got "
                f"{type(llm).__name__}"
            )
        if summary_role not in SUMMARY_ROLES:
            raise UsageError(f"summary_role must be one of {SUMMARY_ROLES}, got {summary_role!r}")
        self.llm = llm
        self.max_tokens = positive_tokens("max_tokens", max_tokens, minimum=0)
        self.tokenizer = tokenizer
        self.count = token_counter(tokenizer)
        self.custom_prompt = prompt is not None
        self.prompt = default_summary_prompt() if prompt is None else _as_prompt(prompt)
        self.summary_role = summary_role
        self._locks: dict[str, threading.Lock] = {}  # one per session: others never wait
        self._locks_guard = threading.Lock()

    def _lock(self, session: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(session, threading.Lock())

    def _state(self, session: str) -> tuple[str, int]:
        state = self.store.get_value(session, self.state_key) or {}
        return str(state.get("summary", "")), int(state.get("folded", 0))

    def summary(self, session: str) -> str:
        """The current summary of ``session`` ("" before the first fold)."""
        return self._state(session)[0]

    def load(self, session: str) -> list[Message]:
        summary, folded = self._state(session)
        recent = self.store.messages(session)[folded:]
        if not summary:
            return recent
        return [Message(self.summary_role, SUMMARY_PREFIX + summary), *recent]

    def save(self, session: str, turn: Sequence[Message]) -> None:
        """Append ``turn`` and fold the oldest turns into the summary while the rest is over
        ``max_tokens``. Saves of one session run one at a time; other sessions do not wait
        for its summarising call."""
        with self._lock(session):
            self.store.append(session, turn)
            summary, folded = self._state(session)
            messages = self.store.messages(session)
            turns = split_turns(messages[min(folded, len(messages)) :])
            sizes = [sum(self.count(m.content) for m in t) for t in turns]
            total, fold = sum(sizes), []
            while turns and (total > self.max_tokens or self.max_tokens == 0):
                total -= sizes.pop(0)
                fold.extend(turns.pop(0))
            if fold:
                summary = self.summarize(summary, fold)
                state = {"summary": summary, "folded": min(folded, len(messages)) + len(fold)}
                self.store.set_value(session, self.state_key, state)

    def summarize(self, summary: str, messages: Sequence[Message]) -> str:
        """Ask the model for ``summary`` extended with ``messages``."""
        text = self.prompt.format(
            summary=summary or "(none yet)",
            new_lines=buffer_string(messages, self.human_prefix, self.ai_prefix),
        )
        reply = self.llm.invoke(text)
        return (reply.content if isinstance(reply, Message) else str(reply)).strip()

    def clear(self, session: str = "default") -> None:
        with self._lock(session):
            self.store.clear(session)

    def to_dict(self) -> dict[str, Any]:
        data = {**self.base_fields(), "llm": dump(self.llm)}
        if type(self) is SummaryBufferMemory:
            data["max_tokens"] = self.max_tokens
        if self.custom_prompt:
            data["prompt"] = dump(self.prompt)
        if self.summary_role != "system":
            data["summary_role"] = self.summary_role
        return {**data, **tokenizer_spec(self.tokenizer)}


class SummaryMemory(SummaryBufferMemory):
    """A running summary of the whole conversation, updated by ``llm`` after every turn;
    ``load`` returns just the summary message."""

    type_name = "summary_memory"
    state_key = "summary"

    def __init__(
        self,
        llm: Runnable[Any, Any],
        store: HistoryStore | None = None,
        *,
        prompt: Any = None,
        summary_role: str = "system",
        **options: Any,
    ) -> None:
        super().__init__(llm, 0, store, prompt=prompt, summary_role=summary_role, **options)


def _as_prompt(prompt: Any) -> Any:
    from agentkit.prompts import PromptTemplate

    if isinstance(prompt, str):
        prompt = PromptTemplate(prompt)
    variables = set(getattr(prompt, "input_variables", ()))
    if not callable(getattr(prompt, "format", None)) or not {"summary", "new_lines"} <= variables:
        raise UsageError(
            "a summary prompt must be a PromptTemplate (or template string) with the "
            f"variables 'summary' and 'new_lines'; got {prompt!r}"
        )
    return prompt


def _summary_kwargs(ctx: SpecContext) -> dict[str, Any]:
    return {
        "prompt": ctx.runnable("prompt", None),
        "summary_role": ctx.get("summary_role", str, "system", choices=SUMMARY_ROLES),
        **base_kwargs(ctx),
    }


def _summary_buffer(ctx: SpecContext) -> SummaryBufferMemory:
    return SummaryBufferMemory(
        ctx.runnable("llm"),
        ctx.get("max_tokens", int, 2000),
        tokenizer=ctx.component("tokenizer", None),
        **_summary_kwargs(ctx),
    )


def _summary(ctx: SpecContext) -> SummaryMemory:
    return SummaryMemory(ctx.runnable("llm"), **_summary_kwargs(ctx))


add_builder("summary_buffer_memory", _summary_buffer)
add_builder("summary_memory", _summary)
