"""The one :class:`Memory` contract that chains, agents and the app's front ends share.

A memory has one abstract method, :meth:`Memory.load` (the messages a model should see
again for a session); :meth:`Memory.save` records a finished turn. Built-in memories
(:class:`~agentkit.memory.base.BaseMemory` and its subclasses) keep their turns in a
:class:`~agentkit.memory.store.HistoryStore`; the app's ``HistoryMemory``
(``agentkit.workspace.chains``) reads the turns its front end has already recorded and saves
nothing. ``ConversationChain``, the agents and the workspace all check for this protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agentkit.core.messages import Message


@runtime_checkable
class Memory(Protocol):
    """A session's history as the model should see it."""

    def load(self, session: str) -> list[Message]:
        """The messages of ``session`` to put before the new input (abstract)."""
        ...

    def save(self, session: str, turn: Sequence[Message]) -> None:
        """Record one finished turn (a user message and what answered it)."""
        ...
