"""Buffer, window and token-buffer memories, and the LangChain-style helpers."""

from __future__ import annotations

import pytest

from agentkit.core import UsageError, spec
from agentkit.llms import FakeListModel
from agentkit.llms.messages import Message, ToolCall, assistant, tool, user
from agentkit.memory import (
    BufferMemory,
    InMemoryHistoryStore,
    TokenBufferMemory,
    WindowMemory,
    approx_tokens,
    split_turns,
    token_counter,
)


def conversation(turns: int) -> list[Message]:
    out: list[Message] = []
    for i in range(turns):
        out += [user(f"q{i}"), assistant(f"a{i}")]
    return out


def test_buffer_memory_returns_everything_per_session() -> None:
    memory = BufferMemory()
    memory.save("a", conversation(3))
    memory.save("b", [user("other")])
    assert [m.content for m in memory.load("a")] == ["q0", "a0", "q1", "a1", "q2", "a2"]
    assert [m.content for m in memory.load("b")] == ["other"]
    memory.clear("a")
    assert memory.load("a") == []


def test_split_turns_starts_a_turn_at_each_user_message() -> None:
    call = ToolCall("1", "calc", {})
    messages = [
        Message("system", "s"),
        user("q0"),
        assistant("", [call]),
        tool("4", "1", "calc"),
        assistant("a0"),
        user("q1"),
    ]
    assert [[m.content for m in t] for t in split_turns(messages)] == [
        ["s"],
        ["q0", "", "4", "a0"],
        ["q1"],
    ]


def test_window_memory_keeps_the_last_k_turns_with_their_tool_messages() -> None:
    memory = WindowMemory(k=2)
    memory.save("s", conversation(2))
    memory.save("s", [user("q2"), assistant("", [ToolCall("1", "c", {})]), tool("r", "1", "c")])
    memory.save("s", [assistant("a2")])
    assert [m.content for m in memory.load("s")] == ["q1", "a1", "q2", "", "r", "a2"]
    assert WindowMemory(k=0, store=memory.store).load("s") == []
    with pytest.raises(UsageError, match="k"):
        WindowMemory(k=-1)


def test_token_buffer_drops_the_oldest_messages_beyond_the_limit() -> None:
    memory = TokenBufferMemory(max_tokens=3, tokenizer=lambda text: len(text.split()))
    memory.save("s", [user("one two"), assistant("three"), user("four five"), assistant("six")])
    assert [m.content for m in memory.load("s")] == ["four five", "six"]
    memory.save("s", [user("a b c d")])
    assert memory.load("s") == []  # the newest message alone is over the limit


def test_token_buffer_never_starts_with_an_orphan_tool_result() -> None:
    memory = TokenBufferMemory(max_tokens=2, tokenizer=lambda text: len(text.split()))
    memory.save("s", [user("w w"), assistant("w", [ToolCall("1", "t", {})]), tool("r", "1", "t")])
    memory.save("s", [assistant("done")])
    assert [m.content for m in memory.load("s")] == ["done"]


def test_approximation_is_ceil_chars_over_four() -> None:
    assert [approx_tokens(t) for t in ("", "abc", "abcd", "abcde")] == [0, 1, 1, 2]
    memory = TokenBufferMemory(max_tokens=2)
    memory.save("s", [user("12345678"), assistant("x")])
    assert [m.content for m in memory.load("s")] == ["x"]


class CountingModel:
    def count_tokens(self, text: str) -> int:
        return 100 if "big" in text else 1


class HFLikeTokenizer:
    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [0] * (len(text) + (2 if add_special_tokens else 0))


class TiktokenLike:
    def encode(self, text: str) -> list[int]:
        return [0] * len(text)


class WithTokenizer:
    tokenizer = HFLikeTokenizer()


def test_token_counter_uses_the_models_tokenizer() -> None:
    assert token_counter(CountingModel())("big") == 100
    assert token_counter(HFLikeTokenizer())("abc") == 3  # special tokens left out
    assert token_counter(TiktokenLike())("abcd") == 4
    assert token_counter(WithTokenizer())("ab") == 2
    assert token_counter(None)("abcdefgh") == 2
    with pytest.raises(UsageError, match="count_tokens"):
        token_counter(42)


def test_load_memory_variables_and_save_context() -> None:
    memory = BufferMemory(memory_key="chat_history")
    memory.save_context({"question": "Hi, I am Ann"}, {"answer": "Hello Ann"})
    memory.save_context({"question": "Bye"}, {"answer": "Bye!"}, session="other")
    variables = memory.load_memory_variables({"question": "ignored"})
    assert list(variables) == ["chat_history"] == memory.memory_variables
    assert [(m.role, m.content) for m in variables["chat_history"]] == [
        ("user", "Hi, I am Ann"),
        ("assistant", "Hello Ann"),
    ]
    text = BufferMemory(store=memory.store, return_messages=False, ai_prefix="Bot")
    assert text.load_memory_variables() == {"history": "Human: Hi, I am Ann\nBot: Hello Ann"}
    assert text.load_memory_variables(session="other") == {"history": "Human: Bye\nBot: Bye!"}


def test_save_context_needs_one_key_or_an_explicit_key() -> None:
    memory = BufferMemory()
    with pytest.raises(UsageError, match="input_key"):
        memory.save_context({"a": 1, "b": 2}, {"output": "x"})
    keyed = BufferMemory(input_key="a", output_key="text")
    keyed.save_context({"a": 1, "b": 2, "history": []}, {"text": "x", "extra": 0})
    assert [m.content for m in keyed.load("default")] == ["1", "x"]
    with pytest.raises(UsageError, match="'text'"):
        keyed.save_context({"a": 1}, {"output": "x"})


def test_memories_round_trip_through_specs() -> None:
    store = InMemoryHistoryStore()
    memories = [
        BufferMemory(store=store, memory_key="chat", return_messages=False),
        WindowMemory(k=3),
        TokenBufferMemory(max_tokens=50, input_key="q"),
    ]
    for memory in memories:
        data = memory.to_dict()
        loaded = spec.load(data)
        assert type(loaded) is type(memory)
        assert loaded.to_dict() == data
    assert memories[0].to_dict()["store"] == {"type": "in_memory_history"}
    assert memories[1].to_dict()["k"] == 3


def test_a_model_tokenizer_is_saved_as_its_spec_and_others_are_refused() -> None:
    model = FakeListModel(["x"])
    data = TokenBufferMemory(max_tokens=10, tokenizer=model).to_dict()
    assert data["tokenizer"] == model.to_dict()
    assert isinstance(spec.load(data).tokenizer, FakeListModel)
    with pytest.raises(spec.SpecError, match="tokenizer"):
        TokenBufferMemory(tokenizer=lambda t: 1).to_dict()


def test_memory_needs_a_store() -> None:
    with pytest.raises(UsageError, match="InMemoryHistoryStore"):
        BufferMemory(store=[])  # type: ignore[arg-type]


class _MessagesOnlyStore:
    """A store with the four message methods but no key-value part."""

    def messages(self, session: str) -> list:  # type: ignore[type-arg]
        return []

    def append(self, session: str, messages: object) -> None: ...

    def clear(self, session: str) -> None: ...

    def sessions(self) -> list[str]:
        return []


def test_the_history_store_contract_includes_the_key_value_part() -> None:
    from agentkit.memory.store import HistoryStore, InMemoryHistoryStore

    assert isinstance(InMemoryHistoryStore(), HistoryStore)
    assert not isinstance(_MessagesOnlyStore(), HistoryStore)
    with pytest.raises(UsageError, match="get_value/set_value"):
        BufferMemory(store=_MessagesOnlyStore())  # type: ignore[arg-type]


def test_one_memory_protocol_for_chains_agents_and_the_app() -> None:
    from agentkit.chains import ConversationMemory
    from agentkit.memory import Memory, SummaryBufferMemory
    from agentkit.memory.store import InMemoryHistoryStore
    from agentkit.workspace.chains import HistoryMemory

    assert ConversationMemory is Memory
    store = InMemoryHistoryStore()
    for memory in (BufferMemory(store), HistoryMemory(store)):
        assert isinstance(memory, Memory)
    assert issubclass(SummaryBufferMemory, BufferMemory.__mro__[1])  # all built on BaseMemory
    assert not isinstance(_MessagesOnlyStore(), Memory)


def test_an_agent_refuses_a_memory_without_load_and_save() -> None:
    from agentkit.agents import ToolCallingAgent
    from agentkit.llms.fake import FakeListModel

    with pytest.raises(UsageError, match=r"agentkit\.memory\.Memory"):
        ToolCallingAgent(FakeListModel(["hi"]), [], memory=_MessagesOnlyStore())  # type: ignore[arg-type]
