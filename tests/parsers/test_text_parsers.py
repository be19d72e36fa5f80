"""StrOutputParser (with streaming through a chain) and CommaSeparatedListOutputParser."""

from __future__ import annotations

import asyncio

import pytest

from agentkit.core.errors import UsageError
from agentkit.core.tracing import InMemoryTracer
from agentkit.llms.fake import FakeListModel
from agentkit.llms.messages import Message
from agentkit.parsers import CommaSeparatedListOutputParser, StrOutputParser
from agentkit.prompts import PromptTemplate


def test_str_parser_returns_text_of_str_or_message() -> None:
    parser = StrOutputParser()
    assert parser.invoke("hello") == "hello"
    assert parser.invoke(Message("assistant", "from a model")) == "from a model"
    assert parser.parse("x") == "x"
    assert parser.kind == "parser"


def test_str_parser_rejects_other_inputs() -> None:
    with pytest.raises(UsageError, match="takes a str or a Message, got int"):
        StrOutputParser().invoke(42)


def test_str_parser_transform_passes_chunks_through() -> None:
    chunks = [Message("assistant", "a"), "b", Message("assistant", "c")]
    assert list(StrOutputParser().transform(iter(chunks))) == ["a", "b", "c"]


def test_prompt_model_parser_chain_invokes_and_streams_tokens() -> None:
    chain = (
        PromptTemplate("Tell me about {topic}")
        | FakeListModel(["Owls are birds"])
        | (StrOutputParser())
    )
    assert chain.invoke({"topic": "owls"}) == "Owls are birds"
    pieces = list(chain.stream({"topic": "owls"}))
    assert len(pieces) > 1
    assert all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == "Owls are birds"
    assert asyncio.run(chain.ainvoke({"topic": "owls"})) == "Owls are birds"


def test_parser_spans_in_traced_chain() -> None:
    tracer = InMemoryTracer()
    chain = PromptTemplate("{q}") | FakeListModel(["ok"]) | StrOutputParser()
    assert chain.invoke("hi", {"tracers": [tracer]}) == "ok"
    kinds = [s.kind for s in tracer.spans]
    assert "prompt" in kinds and "parser" in kinds
    streamed = InMemoryTracer()
    assert "".join(chain.stream("hi", {"tracers": [streamed]})) == "ok"
    parser_spans = [s for s in streamed.spans if s.kind == "parser"]
    assert [s.output for s in parser_spans] == ["ok"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("red, green, blue", ["red", "green", "blue"]),
        ("  red,green ,  blue  \n", ["red", "green", "blue"]),
        ("one", ["one"]),
        ("a, , b,", ["a", "b"]),
        ("", []),
    ],
)
def test_list_parser(text: str, expected: list[str]) -> None:
    parser = CommaSeparatedListOutputParser()
    assert parser.parse(text) == expected
    assert parser.invoke(Message("assistant", text)) == expected


def test_list_parser_format_instructions() -> None:
    assert "comma separated" in CommaSeparatedListOutputParser().format_instructions()


def test_parsers_and_prompts_run_inline_in_async() -> None:
    import threading

    seen: list[str] = []

    def where() -> str:
        seen.append(threading.current_thread().name)
        return "t"

    async def run() -> tuple[str, list[str]]:
        prompt = PromptTemplate("{x}{w}").partial(w=where)
        text = await prompt.ainvoke("a")
        return text, await CommaSeparatedListOutputParser().ainvoke(Message("assistant", "a,b"))

    assert asyncio.run(run()) == ("at", ["a", "b"])
    assert seen == [threading.main_thread().name]
