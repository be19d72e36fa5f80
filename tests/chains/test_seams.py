"""Seams between prompts and chains that LangChain users rely on: optional history in a
SequentialChain step, and ConversationChain with a classic text prompt."""

from __future__ import annotations

import asyncio

from agentkit.chains import ConversationChain, LLMChain, SequentialChain
from agentkit.llms import FakeListModel, FunctionModel, Message
from agentkit.memory.buffer import BufferMemory
from agentkit.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate


def _recording_model(seen: list[list[Message]], reply: str = "ok") -> FunctionModel:
    def answer(messages: list[Message], params: object) -> str:
        seen.append(list(messages))
        return reply

    return FunctionModel(answer)


def test_sequential_step_gets_its_optional_history_placeholder() -> None:
    seen: list[list[Message]] = []
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history", optional=True), ("user", "{question}")]
    )
    step = LLMChain(prompt, _recording_model(seen), output_key="answer")
    chain = SequentialChain([step], ["question", "history"], ["answer"])
    inputs = {"question": "And Spain?", "history": [("user", "Capital of France?")]}

    direct = step.invoke(inputs)
    assert [m.content for m in seen[-1]] == ["Capital of France?", "And Spain?"]
    assert chain.invoke(inputs) == {"answer": direct["answer"]}
    assert [m.content for m in seen[-1]] == ["Capital of France?", "And Spain?"]
    asyncio.run(chain.ainvoke(inputs))
    assert [m.content for m in seen[-1]] == ["Capital of France?", "And Spain?"]


def test_sequential_step_keeps_its_partials_when_other_variables_are_known() -> None:
    seen: list[list[Message]] = []
    step = LLMChain(
        PromptTemplate("{q} in {era}").partial(era="1900"), _recording_model(seen), output_key="a"
    )
    chain = SequentialChain([step], ["q", "era"], ["a"])
    chain.invoke({"q": "cars", "era": "2020"})
    assert seen[-1][-1].content == "cars in 1900"


def test_conversation_with_a_classic_text_prompt_shows_a_transcript() -> None:
    seen: list[list[Message]] = []
    prompt = PromptTemplate("Current conversation:\n{history}\nHuman: {input}\nAI:")
    chain = ConversationChain(_recording_model(seen, "hello"), BufferMemory(), prompt=prompt)
    chain.invoke("hi")
    chain.invoke("again")
    assert seen[-1][-1].content == (
        "Current conversation:\nHuman: hi\nAI: hello\nHuman: again\nAI:"
    )


def test_conversation_with_history_in_a_chat_message_text_shows_a_transcript() -> None:
    seen: list[list[Message]] = []
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Conversation so far:\n{history}"), ("user", "{input}")]
    )
    chain = ConversationChain(_recording_model(seen, "hello"), BufferMemory(), prompt=prompt)
    chain.invoke("hi", {"configurable": {"session_id": "a"}})
    chain.invoke("again", {"configurable": {"session_id": "a"}})
    assert [m.content for m in seen[-1]] == [
        "Conversation so far:\nHuman: hi\nAI: hello",
        "again",
    ]


def test_conversation_with_a_placeholder_still_gets_messages() -> None:
    model = FakeListModel(["hello"])
    chain = ConversationChain(model, BufferMemory())
    chain.invoke("hi")
    chain.invoke("again")
    assert [m.role for m in model.calls[-1]] == ["system", "user", "assistant", "user"]
