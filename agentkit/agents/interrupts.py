"""Pausing an agent run and deciding how it goes on: interrupts, approvals and decisions.

A durable agent run (one with a checkpointer, see :mod:`agentkit.agents.checkpoint`) can
pause in three ways; each returns an :class:`Interrupted` record in the result
(``result["interrupt"]``, with ``stopped_reason == "interrupted"``):

- ``"approval"``: the model asked for a tool that needs approval (``requires_approval=True``
  on the tool, or the agent's ``approval`` policy said so). Resume with
  ``decision=approve()``, ``reject(reason)`` or ``edit(args)``.
- ``"interrupt"``: a tool (or a node inside the model's chain) called :func:`interrupt`.
  Resume with ``value=...``: the call runs again and :func:`interrupt` returns that value
  (LangGraph style: code before ``interrupt()`` runs again, so put side effects after it).
- ``"in_doubt"``: the run stopped (a crash, a kill) while a tool that is not idempotent was
  running, so nobody knows whether its effect happened. It is never repeated silently:
  ``approve()`` runs it again, ``edit(args)`` runs it with other arguments, ``reject(reason)``
  tells the model it did not run (or may have run).

Everything here is plain data: a pending call and a decision are stored as JSON.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentkit.core.errors import UsageError

KINDS = ("approval", "interrupt", "in_doubt")
DECISIONS = ("approve", "reject", "edit")


@dataclass(frozen=True)
class PendingCall:
    """A tool call waiting for a decision: the tool's name, its arguments and call id."""

    tool: str
    args: str | dict[str, Any]
    call_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "call_id": self.call_id}


@dataclass(frozen=True)
class Interrupted:
    """Why a durable run paused, and what it waits for.

    Attributes:
        thread_id: the run's thread; pass it to ``agent.resume(thread_id, ...)``.
        kind: ``"approval"``, ``"interrupt"`` or ``"in_doubt"`` (see the module docs).
        pending: the tool call concerned (``None`` for an interrupt in the model's chain).
        value: what :func:`interrupt` was called with (``kind == "interrupt"``).
    """

    thread_id: str
    kind: str
    pending: PendingCall | None = None
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "kind": self.kind,
            "pending": None if self.pending is None else self.pending.to_dict(),
            "value": self.value,
        }

    @property
    def question(self) -> str:
        """One line for a person: what is being asked."""
        if self.kind == "interrupt":
            return f"the run asks: {self.value}"
        assert self.pending is not None
        args = json.dumps(self.pending.args, ensure_ascii=False)
        if self.kind == "in_doubt":
            return (
                f"the run stopped while {self.pending.tool}({args}) was running; it may or "
                "may not have taken effect. Run it again?"
            )
        return f"run {self.pending.tool}({args})?"


@dataclass(frozen=True)
class Decision:
    """The answer to a pending tool call: build one with :func:`approve`, :func:`reject`
    or :func:`edit`."""

    kind: str
    reason: str = ""
    args: dict[str, Any] | str | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "args": self.args}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        kind = data.get("kind")
        if kind not in DECISIONS:
            raise UsageError(f"a decision's kind must be one of {DECISIONS}, got {kind!r}")
        reason = data.get("reason") or ""
        args = data.get("args")
        if not isinstance(reason, str) or not (args is None or isinstance(args, dict | str)):
            raise UsageError(f"a decision has a text reason and dict args, got {dict(data)!r}")
        return cls(kind, reason, args)


def approve() -> Decision:
    """Run the pending call as the model asked."""
    return Decision("approve")


def reject(reason: str = "") -> Decision:
    """Do not run the pending call; the model is told so (with ``reason``)."""
    if not isinstance(reason, str):
        raise UsageError(f"reject(reason) takes a text reason, got {type(reason).__name__}")
    return Decision("reject", reason=reason)


def edit(args: dict[str, Any] | str) -> Decision:
    """Run the pending call with ``args`` instead of the model's arguments."""
    if not isinstance(args, dict | str):
        raise UsageError(
            f"edit(args) takes the tool's arguments as a dict (or text), got {type(args).__name__}"
        )
    try:
        json.dumps(args)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"edit(args) needs JSON-safe arguments ({exc})") from exc
    return Decision("edit", args=args)


class Interrupt(BaseException):
    """Raised by :func:`interrupt` to pause the run; agents catch it around each call.

    A ``BaseException`` so that tools' and chains' ``except Exception`` handlers (which turn
    failures into observations or retries) let it through.
    """

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value


class _Answers:
    """The resume values of one call, consumed by its :func:`interrupt` calls in order."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values
        self.used = 0


_ANSWERS: contextvars.ContextVar[_Answers | None] = contextvars.ContextVar(
    "agentkit_interrupt_answers", default=None
)


def interrupt(value: Any) -> Any:
    """Pause the durable agent run that is calling this (from a tool, or a node of the
    model's chain) and show ``value`` (JSON-safe) to the caller; when the run is resumed
    with ``agent.resume(thread_id, value=answer)`` the call runs again and this returns
    ``answer``. Several ``interrupt`` calls in one call are answered in order.

    Outside a durable agent run there is nobody to ask: the :class:`Interrupt` escapes to
    the caller.
    """
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"interrupt(value) needs a JSON-safe value ({exc})") from exc
    answers = _ANSWERS.get()
    if answers is not None and answers.used < len(answers.values):
        answer = answers.values[answers.used]
        answers.used += 1
        return answer
    raise Interrupt(value)


def answering(values: list[Any]) -> contextvars.Token[_Answers | None]:
    """Make :func:`interrupt` return ``values`` in order in this context (agents call it
    before running a call again; undo with ``_ANSWERS.reset(token)``)."""
    return _ANSWERS.set(_Answers(list(values)))


def stop_answering(token: contextvars.Token[_Answers | None]) -> None:
    _ANSWERS.reset(token)
