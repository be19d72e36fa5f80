"""Chat sessions kept in the SQLite history store, shared by the app and ``agentkit chat``.

A turn is stored as two messages appended atomically: the user's question and the
assistant's answer, whose metadata holds the answer's sources, steps, latency and token
counts (:meth:`TurnResult.metadata`). Thumbs feedback is stored with the assistant message
(``metadata["feedback"]``: ``1`` up, ``-1`` down).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.llms.messages import Message, assistant, user
from agentkit.memory import SessionInfo, SQLiteHistoryStore
from agentkit.workspace.chains import answered_turns
from agentkit.workspace.turns import TurnResult

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FEEDBACK = {1: "up", -1: "down"}


def new_session_id() -> str:
    return uuid.uuid4().hex[:12]


def check_session_id(value: Any) -> str:
    """A session id from a URL or the command line (letters, digits, ``-``, ``_``)."""
    if not isinstance(value, str) or not SESSION_ID.match(value):
        raise UsageError(
            f"invalid session id {value!r}: use 1-64 letters, digits, '-' or '_' "
            "(or start a new chat)"
        )
    return value


@dataclass(frozen=True)
class ChatEntry:
    """One message as the chat view shows it; ``index`` is its position in the session."""

    index: int
    role: str
    content: str
    metadata: dict[str, Any]

    @property
    def feedback(self) -> int | None:
        value = self.metadata.get("feedback")
        return value if value in FEEDBACK else None


class ChatSessions:
    """Sessions, turns and feedback over one SQLite history file."""

    def __init__(self, path: str | Path) -> None:
        self.store = SQLiteHistoryStore(path)

    def recent(self, limit: int = 30) -> list[SessionInfo]:
        """Sessions that have messages, most recent first."""
        return [s for s in self.store.list_sessions(limit) if s.message_count]

    def exists(self, session: str) -> bool:
        return self.store.session_info(check_session_id(session)) is not None

    def entries(self, session: str) -> list[ChatEntry]:
        messages = self.store.messages(check_session_id(session))
        return [
            ChatEntry(i, m.role, m.content, dict(m.metadata))
            for i, m in enumerate(messages)
            if m.role in ("user", "assistant")
        ]

    def history(self, session: str) -> list[Message]:
        """The session's user and assistant messages (for a chain's memory), without the
        turns whose answer failed."""
        turns = answered_turns(self.store.messages(check_session_id(session)))
        return [m for turn in turns for m in turn]

    def record(self, session: str, question: str, result: TurnResult) -> int:
        """Append a finished turn; returns the index of the assistant message."""
        session = check_session_id(session)
        before = len(self.store.messages(session))
        answer = assistant(result.answer)
        answer.metadata.update(result.metadata())
        self.store.append(session, [user(question), answer])
        return before + 1

    def set_feedback(self, session: str, index: int, value: int | None) -> None:
        """Thumbs up (``1``), down (``-1``) or none for the assistant message ``index``."""
        if value is not None and value not in FEEDBACK:
            raise UsageError(f"feedback must be 1 (up), -1 (down) or None, got {value!r}")
        session = check_session_id(session)
        messages = self.store.messages(session)
        if not 0 <= index < len(messages) or messages[index].role != "assistant":
            raise UsageError(
                f"message {index} of session {session!r} is not an answer; feedback goes on "
                "assistant messages"
            )
        self.store.set_feedback(session, index, value)

    def rename(self, session: str, title: str | None) -> None:
        self.store.set_title(check_session_id(session), title or None)

    def delete(self, session: str) -> None:
        self.store.clear(check_session_id(session))

    def close(self) -> None:
        self.store.close()
