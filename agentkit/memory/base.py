""":class:`BaseMemory`: a view of a session's history, over a :class:`HistoryStore`.

A memory has one abstract method, :meth:`BaseMemory.load` (the messages to show the model);
:meth:`BaseMemory.save` appends a turn to the store. This ``load(session)`` /
``save(session, turn)`` pair is what ``ConversationChain`` and the agents use, with the
session id taken from the run config (``config.get("session_id")``).

For people coming from LangChain, ``load_memory_variables()`` and ``save_context()`` work
on dicts, with ``memory_key`` naming the history variable and ``return_messages=False``
giving the history as one ``"Human: ...\\nAI: ..."`` string.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, assistant, user
from agentkit.core.spec import SpecContext
from agentkit.memory.store import HistoryStore, InMemoryHistoryStore

DEFAULT_SESSION = "default"


def split_turns(messages: Sequence[Message]) -> list[list[Message]]:
    """Group messages into turns: each user message starts a new turn (messages before the
    first user message form a turn of their own)."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.role == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def buffer_string(messages: Sequence[Message], human_prefix: str, ai_prefix: str) -> str:
    """Messages as ``"Human: ...\\nAI: ..."`` lines."""
    prefixes = {"user": human_prefix, "assistant": ai_prefix, "system": "System"}
    lines = []
    for m in messages:
        prefix = prefixes.get(m.role) or (f"Tool ({m.name})" if m.name else "Tool")
        lines.append(f"{prefix}: {m.content}")
    return "\n".join(lines)


class BaseMemory(ABC):
    """Base of the memories: a store plus the LangChain-style helpers.

    Args:
        store: where the history lives (default: a new :class:`InMemoryHistoryStore`).
        memory_key: the prompt variable ``load_memory_variables`` fills.
        return_messages: ``load_memory_variables`` gives messages (True) or a string.
        input_key / output_key: which keys ``save_context`` reads (default: the only key).
        human_prefix / ai_prefix: speaker names in history strings and summary prompts.
    """

    type_name = ""

    def __init__(
        self,
        store: HistoryStore | None = None,
        *,
        memory_key: str = "history",
        return_messages: bool = True,
        input_key: str | None = None,
        output_key: str | None = None,
        human_prefix: str = "Human",
        ai_prefix: str = "AI",
    ) -> None:
        if store is None:
            store = InMemoryHistoryStore()
        if not isinstance(store, HistoryStore):
            raise UsageError(
                "a memory's store needs messages/append/clear/sessions/get_value/set_value, "
                f"got {type(store).__name__}; use InMemoryHistoryStore() or "
                "SQLiteHistoryStore(path)"
            )
        self.store = store
        self.memory_key = memory_key
        self.return_messages = return_messages
        self.input_key, self.output_key = input_key, output_key
        self.human_prefix, self.ai_prefix = human_prefix, ai_prefix

    @abstractmethod
    def load(self, session: str) -> list[Message]:
        """The messages to show the model for ``session``."""

    def save(self, session: str, turn: Sequence[Message]) -> None:
        """Record one turn (the user's message and the reply) for ``session``."""
        self.store.append(session, turn)

    def clear(self, session: str = DEFAULT_SESSION) -> None:
        """Forget ``session``."""
        self.store.clear(session)

    # --- LangChain-style helpers ------------------------------------------------------

    @property
    def memory_variables(self) -> list[str]:
        return [self.memory_key]

    def load_memory_variables(
        self, inputs: Mapping[str, Any] | None = None, session: str = DEFAULT_SESSION
    ) -> dict[str, Any]:
        """``{memory_key: history}``: messages, or one string with ``return_messages=False``."""
        messages = self.load(session)
        if self.return_messages:
            return {self.memory_key: messages}
        return {self.memory_key: buffer_string(messages, self.human_prefix, self.ai_prefix)}

    def save_context(
        self,
        inputs: Mapping[str, Any],
        outputs: Mapping[str, Any],
        session: str = DEFAULT_SESSION,
    ) -> None:
        """Save ``inputs[input_key]`` as the user's message and ``outputs[output_key]`` as the
        reply."""
        question = _pick(inputs, self.input_key, "input", exclude=self.memory_key)
        answer = _pick(outputs, self.output_key, "output")
        self.save(session, [user(str(question)), assistant(str(answer))])

    # --- spec -------------------------------------------------------------------------

    def base_fields(self) -> dict[str, Any]:
        """The spec fields every memory has (defaults left out)."""
        from agentkit.core.spec import dump

        data: dict[str, Any] = {"type": self.type_name, "store": dump(self.store)}
        defaults = {
            "memory_key": "history",
            "return_messages": True,
            "input_key": None,
            "output_key": None,
            "human_prefix": "Human",
            "ai_prefix": "AI",
        }
        for key, default in defaults.items():
            if getattr(self, key) != default:
                data[key] = getattr(self, key)
        return data

    def to_dict(self) -> dict[str, Any]:
        return self.base_fields()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(store={self.store!r})"


def _pick(values: Mapping[str, Any], key: str | None, what: str, exclude: str = "") -> Any:
    if key is not None:
        if key not in values:
            raise UsageError(f"save_context: the {what}s lack the key {key!r} ({sorted(values)})")
        return values[key]
    keys = [k for k in values if k != exclude]
    if len(keys) != 1:
        raise UsageError(
            f"save_context got {what}s with keys {sorted(keys)}; it needs exactly one, or "
            f"set {what}_key=... on the memory to say which one to save"
        )
    return values[keys[0]]


def base_kwargs(ctx: SpecContext) -> dict[str, Any]:
    """Read the fields of :meth:`BaseMemory.base_fields` from a spec."""
    return {
        "store": ctx.component("store", None),
        "memory_key": ctx.get("memory_key", str, "history"),
        "return_messages": ctx.get("return_messages", bool, True),
        "input_key": ctx.get("input_key", str, None),
        "output_key": ctx.get("output_key", str, None),
        "human_prefix": ctx.get("human_prefix", str, "Human"),
        "ai_prefix": ctx.get("ai_prefix", str, "AI"),
    }
