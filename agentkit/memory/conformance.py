"""The shared conformance suite for history stores.

Subclass :class:`HistoryStoreConformance` in a test module (name it ``Test...``) and
implement :meth:`~HistoryStoreConformance.make_store` (``tmp_path`` is pytest's temporary
folder; stores kept in memory ignore it). ``clock`` must be used for timestamps so that
the suite can order sessions deterministically.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError
from agentkit.core.messages import Message, ToolCall, Usage, assistant, system, tool, user


class FakeClock:
    """A clock that moves one second per reading."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += 1.0
            return self.now


def rich_turn() -> list[Message]:
    """Messages using every field a store must keep."""
    call = ToolCall("call-1", "calculator", {"expression": "2+2"})
    return [
        system("Be brief."),
        user("What is 2+2?"),
        Message("assistant", "", [call], usage=Usage(7, 3), metadata={"finish_reason": "tool"}),
        tool("4", "call-1", "calculator"),
        Message("assistant", "It is 4.", usage=Usage(12, 4), metadata={"model": "fake"}),
    ]


def fingerprint(messages: list[Message]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in messages]


@contextmanager
def refused(needle: str, what: str) -> Iterator[None]:
    """The block must raise a UsageError whose message contains ``needle``; ``what`` names
    the bad input in the failure (``pytest.raises`` without importing pytest here)."""
    try:
        yield
    except UsageError as exc:
        assert needle in str(exc), f"{what}: the error should mention {needle!r}, got {exc}"
    else:
        raise AssertionError(f"{what} must be rejected")


class HistoryStoreConformance(ABC):
    """Base class of a pytest suite; subclasses provide :meth:`make_store`."""

    @abstractmethod
    def make_store(self, tmp_path: Path, clock: Callable[[], float]) -> Any:
        """A fresh, empty store."""

    def store(self, tmp_path: Path) -> Any:
        return self.make_store(tmp_path, FakeClock())

    def test_empty_session_has_no_messages(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        assert store.messages("nobody") == []
        assert store.sessions() == []
        assert store.session_info("nobody") is None

    def test_messages_round_trip_with_every_field(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("s", rich_turn())
        assert fingerprint(store.messages("s")) == fingerprint(rich_turn())

    def test_appends_keep_order_and_sessions_stay_apart(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("a", [user("a1"), assistant("a2")])
        store.append("b", [user("b1")])
        store.append("a", [user("a3")])
        assert [m.content for m in store.messages("a")] == ["a1", "a2", "a3"]
        assert [m.content for m in store.messages("b")] == ["b1"]
        assert store.sessions() == ["a", "b"]

    def test_accepts_tuples_and_dicts_but_not_a_single_message(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("s", [("user", "hi"), {"role": "assistant", "content": "hello"}])
        assert [(m.role, m.content) for m in store.messages("s")] == [
            ("user", "hi"),
            ("assistant", "hello"),
        ]
        with refused("list", "a single message"):
            store.append("s", user("alone"))

    def test_a_bad_message_leaves_the_session_unchanged(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("s", [user("kept")])
        with refused("", "an unknown role"):
            store.append("s", [user("half"), ("wizard", "bad role")])
        assert [m.content for m in store.messages("s")] == ["kept"]

    def test_lone_surrogates_are_kept_safely(self, tmp_path: Path) -> None:
        """A lone surrogate cannot be stored as UTF-8: message text gets U+FFFD in every
        store; metadata and values keep it exactly; the turn is never lost."""
        store = self.store(tmp_path)
        broken = assistant("half \ud800 a pair")
        broken.metadata["raw"] = "\udc00x"
        store.append("s", [user("q"), broken])
        got = store.messages("s")
        assert got[1].content == "half \ufffd a pair"
        assert got[1].metadata["raw"] == "\udc00x"
        assert broken.content == "half \ud800 a pair"  # the caller's message is unchanged
        store.set_value("s", "note", ["\udfff"])
        assert store.get_value("s", "note") == ["\udfff"]

    def test_returned_messages_are_copies(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("s", [user("hi")])
        first = store.messages("s")
        first[0].content = "changed"
        first[0].metadata["x"] = 1
        assert store.messages("s")[0].content == "hi"
        assert store.messages("s")[0].metadata == {}

    def test_clear_forgets_one_session(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("a", [user("a")])
        store.append("b", [user("b")])
        store.set_value("a", "k", 1)
        store.clear("a")
        assert store.messages("a") == [] and store.get_value("a", "k") is None
        assert store.sessions() == ["b"]
        store.clear("never-existed")

    def test_session_ids_must_be_non_empty_strings(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        for bad in ("", None, 3):
            with refused("session id", f"session id {bad!r}"):
                store.append(bad, [user("x")])

    def test_session_info_titles_and_counts(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        long_question = "Tell me   everything about " + "owls " * 30
        store.append("s", [system("sys"), user(long_question), assistant("ok")])
        info = store.session_info("s")
        assert info.id == "s" and info.message_count == 3
        assert info.title.startswith("Tell me everything about owls")
        assert len(info.title) <= 60 and info.title.endswith("...")
        store.set_title("s", "Owls")
        assert store.session_info("s").title == "Owls"
        store.set_title("s", None)
        assert store.session_info("s").title.startswith("Tell me")

    def test_list_sessions_most_recently_updated_first(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("old", [user("1")])
        store.append("new", [user("2")])
        store.append("old", [assistant("3")])
        infos = store.list_sessions()
        assert [i.id for i in infos] == ["old", "new"]
        assert infos[0].updated > infos[1].updated > infos[0].created
        assert [i.id for i in store.list_sessions(limit=1)] == ["old"]

    def test_feedback_is_stored_with_the_message(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        store.append("s", [user("q"), Message("assistant", "a", metadata={"model": "m"})])
        store.set_feedback("s", -1, {"score": 1, "comment": "good"})
        store.set_feedback("s", 0, -1)
        messages = store.messages("s")
        assert messages[1].metadata == {"model": "m", "feedback": {"score": 1, "comment": "good"}}
        assert messages[0].metadata == {"feedback": -1}
        store.set_feedback("s", 1, None)
        assert store.messages("s")[1].metadata == {"model": "m"}
        for index in (2, -3):
            with refused("out of range", f"index {index}"):
                store.set_feedback("s", index, 1)

    def test_values_are_json_values_per_session(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)
        assert store.get_value("s", "summary", "none") == "none"
        store.set_value("s", "summary", {"text": "hi", "n": 2})
        store.set_value("t", "summary", [1, 2])
        value = store.get_value("s", "summary")
        assert value == {"text": "hi", "n": 2}
        value["n"] = 99
        assert store.get_value("s", "summary")["n"] == 2
        store.set_value("s", "summary", "replaced")
        assert store.get_value("s", "summary") == "replaced"
        assert store.get_value("t", "summary") == [1, 2]

    def test_concurrent_threads_lose_and_mix_nothing(self, tmp_path: Path) -> None:
        store = self.store(tmp_path)

        def worker(n: int) -> None:
            for i in range(25):
                store.append(f"s{n}", [user(f"{n}:{i}"), assistant(f"{n}:{i}!")])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in range(4):
            contents = [m.content for m in store.messages(f"s{n}")]
            expected = [c for i in range(25) for c in (f"{n}:{i}", f"{n}:{i}!")]
            assert contents == expected
