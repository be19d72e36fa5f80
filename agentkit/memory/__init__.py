"""Conversation memory: history stores and the memories that show history to a model.

- Stores (:class:`HistoryStore`): :class:`InMemoryHistoryStore`, :class:`SQLiteHistoryStore`.
- Memories (the one :class:`Memory` protocol: ``load(session)`` / ``save(session, turn)``,
  used by ConversationChain, the agents and the app): :class:`BufferMemory`,
  :class:`WindowMemory`, :class:`TokenBufferMemory`, :class:`SummaryMemory`,
  :class:`SummaryBufferMemory`.

Importing this package registers their spec types.
"""

from __future__ import annotations

from agentkit.core.spec import SpecContext, add_builder
from agentkit.memory.base import BaseMemory, buffer_string, split_turns
from agentkit.memory.buffer import BufferMemory, TokenBufferMemory, WindowMemory
from agentkit.memory.protocol import Memory
from agentkit.memory.sqlite_store import SQLiteHistoryStore
from agentkit.memory.store import HistoryStore, InMemoryHistoryStore, SessionInfo
from agentkit.memory.summary import SummaryBufferMemory, SummaryMemory
from agentkit.memory.tokens import approx_tokens, token_counter


def _sqlite(ctx: SpecContext) -> SQLiteHistoryStore:
    return SQLiteHistoryStore(ctx.get("path", str), timeout=ctx.get("timeout", float, 30.0))


add_builder("in_memory_history", lambda ctx: InMemoryHistoryStore())
add_builder("sqlite_history", _sqlite)

__all__ = [
    "BaseMemory",
    "BufferMemory",
    "HistoryStore",
    "InMemoryHistoryStore",
    "Memory",
    "SQLiteHistoryStore",
    "SessionInfo",
    "SummaryBufferMemory",
    "SummaryMemory",
    "TokenBufferMemory",
    "WindowMemory",
    "approx_tokens",
    "buffer_string",
    "split_turns",
    "token_counter",
]
