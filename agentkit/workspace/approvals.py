"""Approvals in the front ends: make an agent durable when it needs them, turn a person's
answer into a decision, and continue the paused run as a new :class:`Turn`.

``agentkit chat`` asks ``y``/``n``/``e`` at the terminal; the app shows Approve / Reject /
Edit buttons. Both call :func:`answer` and :func:`resume_turn`; the pending call travels in
``TurnResult.pending`` (an :class:`~agentkit.agents.Interrupted` as plain data).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.llms.messages import Message
from agentkit.workspace.turns import Turn

CHECKPOINTS = "agent-runs.sqlite"  # next to the chat history


def needs_approvals(chain: Any) -> bool:
    """Whether ``chain`` is an agent that may pause for a person's decision."""
    from agentkit.agents import Agent

    if not isinstance(chain, Agent):
        return False
    return chain.approval is not None or any(t.requires_approval for t in chain.tools)


def with_approvals(chain: Any, folder: Path) -> Any:
    """``chain`` itself, or (an agent that needs approvals and has no checkpointer) a copy
    checkpointed in ``folder/agent-runs.sqlite``."""
    if not needs_approvals(chain) or chain.checkpointer is not None:
        return chain
    from agentkit.agents import SQLiteCheckpointer

    durable = copy.copy(chain)
    durable.checkpointer = SQLiteCheckpointer(Path(folder) / CHECKPOINTS)
    return durable


def answer(kind: str, choice: str, text: str = "") -> tuple[Any, Any]:
    """``(decision, value)`` for ``agent.resume`` from a person's answer.

    ``kind`` is the pending interrupt's kind. For ``"interrupt"`` the text is the value (as
    JSON when it parses, else the text). Otherwise ``choice`` is ``y`` (approve), ``n``
    (reject; ``text`` is the reason) or ``e`` (edit; ``text`` is the new arguments as a
    JSON object).
    """
    from agentkit.agents import approve, edit, reject
    from agentkit.agents.resume import NO_VALUE

    if kind == "interrupt":
        try:
            return None, json.loads(text)
        except ValueError:
            return None, text
    choice = choice.strip().lower()[:1]
    if choice == "y":
        return approve(), NO_VALUE
    if choice == "n":
        return reject(text.strip()), NO_VALUE
    if choice == "e":
        try:
            args = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"the new arguments must be a JSON object ({exc})") from exc
        if not isinstance(args, dict):
            raise UsageError(f"the new arguments must be a JSON object, got {text.strip()!r}")
        return edit(args), NO_VALUE
    raise UsageError(f"answer y (approve), n (reject) or e (edit), got {choice!r}")


def resume_turn(
    chain: Any,
    pending: dict[str, Any],
    question: str,
    session: str,
    decision: Any,
    value: Any,
    history: list[Message] | None = None,
) -> Turn:
    """A started :class:`Turn` continuing the paused run ``pending["thread_id"]``."""
    resumed = chain.resuming(str(pending["thread_id"]), decision, value=value)
    return Turn(resumed, question, session, history or []).start()


def question_of(pending: dict[str, Any]) -> str:
    """One line for a person: what the paused run asks."""
    from agentkit.agents import Interrupted, PendingCall

    call = pending.get("pending")
    shown = None if not isinstance(call, dict) else PendingCall(**call)
    kind = str(pending.get("kind"))
    return Interrupted(str(pending.get("thread_id")), kind, shown, pending.get("value")).question
