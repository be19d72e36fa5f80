"""The :class:`HistoryStore` contract and :class:`InMemoryHistoryStore`.

A history store keeps the messages of many chat sessions, each under its own id. Besides
the four methods of the protocol, the built-in stores keep per-session metadata
(:class:`SessionInfo`: title, created, updated; listed by :meth:`list_sessions`), thumbs
feedback stored with a message (:meth:`set_feedback`, read back as
``message.metadata["feedback"]``), and small JSON values per session (:meth:`get_value` /
:meth:`set_value`) in which summary memories keep their summaries.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, to_messages

TITLE_CHARS = 60


@runtime_checkable
class HistoryStore(Protocol):
    """Messages of chat sessions, kept apart by session id, plus small JSON values per
    session (the key-value part, where summary memories keep their summaries).

    Implement all six methods: :meth:`messages`, :meth:`append`, :meth:`clear`,
    :meth:`sessions`, :meth:`get_value` and :meth:`set_value`. Run
    :class:`agentkit.memory.conformance.HistoryStoreConformance` against a new store.
    Titles, feedback and session listing (``list_sessions``) are extras of the built-in
    stores that the app uses when present; memories need only these six.
    """

    def messages(self, session: str) -> list[Message]:
        """The messages of ``session`` in the order they were appended."""
        ...

    def append(self, session: str, messages: Sequence[Message]) -> None:
        """Add messages to ``session`` atomically (all of them or none)."""
        ...

    def clear(self, session: str) -> None:
        """Forget ``session``: its messages, metadata and values."""
        ...

    def sessions(self) -> list[str]:
        """Ids of the stored sessions, oldest first."""
        ...

    def get_value(self, session: str, key: str, default: Any = None) -> Any:
        """The JSON value stored under ``key`` for ``session``, or ``default``."""
        ...

    def set_value(self, session: str, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` for ``session`` (replacing the old one)."""
        ...


@dataclass(frozen=True)
class SessionInfo:
    """What a chat list shows about a session. ``title`` is the title set with
    ``set_title``, else the start of the first user message, else ``None``."""

    id: str
    title: str | None
    created: float
    updated: float
    message_count: int


def check_session(session: Any) -> str:
    if not isinstance(session, str) or not session:
        raise UsageError(
            f"a session id must be a non-empty string, got {session!r}; pass e.g. "
            "RunConfig(configurable={'session_id': 'alice'})"
        )
    return session


def as_message_list(messages: Sequence[Message]) -> list[Message]:
    if isinstance(messages, Message | str):
        raise UsageError(
            "append takes a list of messages (one turn), got a single "
            f"{type(messages).__name__}; wrap it in a list"
        )
    out = to_messages(list(messages))
    return [_valid_text(m) if LONE_SURROGATE.search(m.content) else m for m in out]


# A lone UTF-16 surrogate (from a broken decode or a paste) cannot be stored as UTF-8: every
# store replaces it in message text with U+FFFD, so the turn is kept and stores agree.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(message: Message) -> Message:
    copied = copy_message(message)
    copied.content = LONE_SURROGATE.sub("\ufffd", message.content)
    return copied


def derived_title(first_user_text: str | None) -> str | None:
    """The start of the first user message, on one line, as a default title."""
    if not first_user_text:
        return None
    text = " ".join(first_user_text.split())
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 3].rstrip() + "..."


def resolve_index(index: int, count: int, session: str) -> int:
    """A 0-based position for a possibly negative message index, or a UsageError."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise UsageError(f"a message index must be an integer, got {index!r}")
    position = index + count if index < 0 else index
    if not 0 <= position < count:
        raise UsageError(
            f"session {session!r} has {count} message(s); index {index} is out of range "
            "(use 0..n-1, or -1 for the last message)"
        )
    return position


def copy_message(message: Message) -> Message:
    """A copy that shares no mutable field with ``message``."""
    return Message(
        message.role,
        message.content,
        list(message.tool_calls),
        message.tool_call_id,
        message.name,
        message.usage,
        dict(message.metadata),
    )


@dataclass
class _Session:
    created: float
    updated: float
    title: str | None = None
    messages: list[Message] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


class InMemoryHistoryStore:
    """A thread-safe store in process memory (lost when the process ends).

    ``clock`` returns the timestamps of ``created``/``updated`` (default ``time.time``).
    Its spec records only the type: a loaded copy starts empty.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def _session(self, session: str) -> _Session:
        data = self._sessions.get(session)
        if data is None:
            now = self._clock()
            data = self._sessions[session] = _Session(now, now)
        return data

    def messages(self, session: str) -> list[Message]:
        check_session(session)
        with self._lock:
            data = self._sessions.get(session)
            return [copy_message(m) for m in data.messages] if data else []

    def append(self, session: str, messages: Sequence[Message]) -> None:
        check_session(session)
        batch = [copy_message(m) for m in as_message_list(messages)]
        with self._lock:
            data = self._session(session)
            data.messages.extend(batch)
            data.updated = self._clock()

    def clear(self, session: str) -> None:
        check_session(session)
        with self._lock:
            self._sessions.pop(session, None)

    def sessions(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def session_info(self, session: str) -> SessionInfo | None:
        """Title, timestamps and message count of ``session`` (``None`` if unknown)."""
        check_session(session)
        with self._lock:
            data = self._sessions.get(session)
            return None if data is None else self._info(session, data)

    def list_sessions(self, limit: int | None = None) -> list[SessionInfo]:
        """Sessions, most recently updated first (at most ``limit``)."""
        with self._lock:
            infos = [self._info(sid, data) for sid, data in self._sessions.items()]
        infos.sort(key=lambda i: (-i.updated, i.id))
        return infos if limit is None else infos[:limit]

    def _info(self, session: str, data: _Session) -> SessionInfo:
        title = data.title
        if title is None:
            first = next((m.content for m in data.messages if m.role == "user"), None)
            title = derived_title(first)
        return SessionInfo(session, title, data.created, data.updated, len(data.messages))

    def set_title(self, session: str, title: str | None) -> None:
        """Name a session (``None`` goes back to the derived title)."""
        check_session(session)
        with self._lock:
            self._session(session).title = title

    def set_feedback(self, session: str, index: int, value: Any) -> None:
        """Attach feedback (e.g. ``1``/``-1``, or a dict with a comment; ``None`` removes it)
        to message ``index`` of ``session`` (negative counts from the end)."""
        check_session(session)
        with self._lock:
            data = self._sessions.get(session)
            items = data.messages if data else []
            message = items[resolve_index(index, len(items), session)]
            if value is None:
                message.metadata.pop("feedback", None)
            else:
                message.metadata["feedback"] = value

    def get_value(self, session: str, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key`` for ``session`` (memories keep summaries here)."""
        check_session(session)
        with self._lock:
            data = self._sessions.get(session)
            return copy.deepcopy(data.values[key]) if data and key in data.values else default

    def set_value(self, session: str, key: str, value: Any) -> None:
        check_session(session)
        with self._lock:
            self._session(session).values[key] = copy.deepcopy(value)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "in_memory_history"}

    def __repr__(self) -> str:
        return f"InMemoryHistoryStore(sessions={len(self._sessions)})"
