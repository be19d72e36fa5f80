"""LangChain objects inside agentkit (chains, agents, ingest) and agentkit objects inside
LangChain (LCEL, create_agent): round trips, plus the errors for what cannot cross."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentkit.agents.tool_calling import ToolCallingAgent
from agentkit.chains.llm_chain import LLMChain
from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core.errors import UsageError
from agentkit.core.messages import Message
from agentkit.interop.langchain import from_langchain, to_langchain
from agentkit.llms.fake import FakeListModel, FunctionModel
from agentkit.parsers import StrOutputParser
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.testing import ScriptedChatModel

lc_messages = pytest.importorskip("langchain_core.messages")
from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document as LCDocument  # noqa: E402
from langchain_core.language_models import GenericFakeChatModel  # noqa: E402
from langchain_core.output_parsers import StrOutputParser as LCStrOutputParser  # noqa: E402
from langchain_core.prompts import ChatPromptTemplate  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

AIMessage = lc_messages.AIMessage


class KeywordRetriever(BaseRetriever):
    """A user-defined LangChain retriever (its class lives in this test module)."""

    docs: list[LCDocument]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        words = set(query.lower().split())
        return [d for d in self.docs if words & set(d.page_content.lower().split())]


LC_DOCS = [
    LCDocument("paris is the capital of france", metadata={"source": "fr.txt"}, id="fr"),
    LCDocument("berlin is the capital of germany", metadata={"source": "de.txt"}, id="de"),
]


@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


def fake_chat(*replies: Any) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(list(replies)))


# --- LangChain -> agentkit --------------------------------------------------------------


def test_lc_retriever_in_retrieval_qa_no_longer_crashes() -> None:
    seen: list[str] = []

    def answer(messages: list[Message], params: Any) -> str:
        seen.append(messages[-1].content)
        return "Paris."

    qa = RetrievalQA(FunctionModel(answer), KeywordRetriever(docs=LC_DOCS))
    out = qa.invoke({"query": "capital of france"})
    assert out["result"] == "Paris."
    assert [s["id"] for s in out["sources"]] == ["fr", "de"]
    assert out["sources"][0]["source"] == "fr.txt"
    assert "paris is the capital of france" in seen[0]


def test_lc_retriever_k_and_async() -> None:
    retriever = from_langchain(KeywordRetriever(docs=LC_DOCS), k=1)
    assert [d.id for d in retriever.invoke("capital")] == ["fr"]
    docs = asyncio.run(retriever.ainvoke("germany capital"))
    assert [d.text for d in docs] == ["paris is the capital of france"]


def test_lc_chat_model_in_prompt_pipe_streams_and_reports_usage() -> None:
    reply = AIMessage(
        "Paris is the capital",
        usage_metadata={"input_tokens": 7, "output_tokens": 4, "total_tokens": 11},
    )
    chain = PromptTemplate.from_template("Capital of {country}?") | fake_chat(reply)
    message = chain.invoke({"country": "France"})
    assert isinstance(message, Message) and message.content == "Paris is the capital"
    assert message.usage is not None and message.usage.total_tokens == 11
    streamed = list(
        (PromptTemplate.from_template("{q}") | fake_chat("a b c") | StrOutputParser()).stream(
            {"q": "x"}
        )
    )
    assert "".join(streamed) == "a b c" and len(streamed) > 1 and "" not in streamed
    asynced = asyncio.run(
        (PromptTemplate.from_template("{q}") | fake_chat("hi")).ainvoke({"q": "x"})
    )
    assert asynced.content == "hi"


def test_lc_chat_model_as_llmchain_llm_and_tool_agent_model() -> None:
    chain = LLMChain(PromptTemplate.from_template("Say {word}"), fake_chat("hello"))
    assert chain.invoke({"word": "hello"})["text"] == "hello"
    call = {"name": "multiply", "args": {"a": 6, "b": 7}, "id": "c1", "type": "tool_call"}
    model = fake_chat(AIMessage("", tool_calls=[call]), AIMessage("It is 42."))
    out = ToolCallingAgent(model, tools=[multiply]).invoke({"input": "6 times 7?"})
    assert out["output"] == "It is 42."
    assert [(s.tool, s.tool_input, s.observation) for s in out["steps"]] == [
        ("multiply", {"a": 6, "b": 7}, "42")
    ]


def test_lc_tool_in_agent_keeps_its_schema() -> None:
    agent = ToolCallingAgent(ScriptedChatModel(), tools=[multiply])
    (converted,) = agent.tools
    assert converted.name == "multiply"
    assert converted.args_schema["properties"] == {
        "a": {"type": "integer"},
        "b": {"type": "integer"},
    }
    assert converted.args_schema["required"] == ["a", "b"]
    out = agent.invoke({"input": "What is multiply of 6 and 7?"})
    assert out["steps"][0].observation == "42"
    assert out["output"] == "The multiply tool returned: 42"
    with pytest.raises(Exception, match="invalid arguments"):
        converted.invoke({"a": "six"})


def test_lcel_chain_as_agentkit_node() -> None:
    lc_chain = ChatPromptTemplate.from_messages([("human", "{q}")]) | fake_chat("done")
    node = from_langchain(lc_chain)
    seq = (lambda x: {"q": x}) | node | StrOutputParser()
    assert seq.invoke("go") == "done"
    prompt_node = from_langchain(
        ChatPromptTemplate.from_messages([("system", "S"), ("human", "{q}")])
    )
    messages = prompt_node.invoke({"q": "hello"})
    assert [(m.role, m.content) for m in messages] == [("system", "S"), ("user", "hello")]


def test_lc_embeddings_and_vectorstore_in_agentkit() -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_core.vectorstores import InMemoryVectorStore

    embedder = from_langchain(DeterministicFakeEmbedding(size=8))
    vectors = embedder.embed_batch(["a", "b"])
    assert vectors.shape == (2, 8) and vectors.dtype.name == "float32"
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-5
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=8))
    retriever = from_langchain(store, k=1)
    retriever.add_documents([Document("alpha", "a1", {"n": 1}), Document("beta", "b1")])
    (hit,) = retriever.invoke("alpha")
    assert (hit.id, hit.text, hit.metadata, round(hit.score or 0, 5)) == (
        "a1",
        "alpha",
        {"n": 1},
        1.0,
    )


def test_csv_loader_in_ingest_keeps_source_and_row(tmp_path: Path) -> None:
    pytest.importorskip("langchain_community")
    from langchain_community.document_loaders import CSVLoader

    from agentkit.retrievers.embeddings.hashing import HashingEmbedder
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.retrievers.vectorstores import TorchStore

    data = tmp_path / "people.csv"
    data.write_text("name,city\nAda,London\nLinus,Helsinki\n", encoding="utf-8")
    loader = from_langchain(CSVLoader)
    ingestor = Ingestor(
        tmp_path / "idx", HashingEmbedder(64), store=TorchStore, loaders={".csv": loader}
    )
    report = ingestor.ingest([data])
    assert report.chunks_added == 2
    store = ingestor.store
    assert store is not None
    docs = sorted(store.get(store.ids()), key=lambda d: d.metadata["row"])
    assert [d.text for d in docs] == ["name: Ada\ncity: London", "name: Linus\ncity: Helsinki"]
    assert [d.metadata["row"] for d in docs] == [0, 1]
    assert all(d.metadata["source"] == d.source and d.source.endswith("people.csv") for d in docs)
    assert all("agentkit-load-" not in str(d.metadata) for d in docs)


def test_ingest_cli_loader_option(tmp_path: Path) -> None:
    pytest.importorskip("langchain_community")
    from typer.testing import CliRunner

    from agentkit.cli import app

    data = tmp_path / "people.csv"
    data.write_text("name,city\nAda,London\n", encoding="utf-8")
    loader = "langchain_community.document_loaders.CSVLoader"
    args = ["ingest", str(data), "--index", str(tmp_path / "idx"), "--embedder", "hashing"]
    result = CliRunner().invoke(app, [*args, "--loader", loader])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output
    refused = CliRunner().invoke(app, [*args, "--loader", "subprocess.Popen"])
    assert refused.exit_code != 0 and "outside the loader packages" in refused.output
    folder = CliRunner().invoke(
        app,
        [
            "ingest",
            str(tmp_path),
            "--index",
            str(tmp_path / "i2"),
            "--embedder",
            "hashing",
            "--loader",
            loader,
        ],
    )
    assert folder.exit_code != 0 and "--loader .csv=" in folder.output


def test_loader_path_rules() -> None:
    from agentkit.interop.loaders import resolve_loader_class

    for hostile in ["os.system", "builtins.eval", "x; rm -rf /", "../etc/passwd", "", "a"]:
        with pytest.raises(UsageError):
            resolve_loader_class(hostile)
    with pytest.raises(UsageError, match="not a document loader class"):
        resolve_loader_class("langchain_community.document_loaders.__name__")
    own = "agentkit.retrievers.loaders.text.TextLoader"  # has load(), outside the prefixes
    with pytest.raises(UsageError, match="outside the loader packages"):
        resolve_loader_class(own)
    assert resolve_loader_class(own, allow_imports=True).__name__ == "TextLoader"


# --- agentkit -> LangChain --------------------------------------------------------------


def test_agentkit_model_in_lcel_and_create_agent() -> None:
    chain = (
        ChatPromptTemplate.from_messages([("human", "{q}")])
        | to_langchain(FakeListModel(["forty two"]))
        | LCStrOutputParser()
    )
    assert chain.invoke({"q": "answer?"}) == "forty two"
    assert "".join(chain.stream({"q": "answer?"})) == "forty two"
    pytest.importorskip("langchain.agents")
    from langchain.agents import create_agent

    seen: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Get the weather in a city."""
        seen.append(city)
        return f"It is sunny in {city}."

    agent = create_agent(model=to_langchain(ScriptedChatModel()), tools=[get_weather])
    out = agent.invoke({"messages": [{"role": "user", "content": "Weather in 'Paris'?"}]})
    kinds = [type(m).__name__ for m in out["messages"]]
    assert kinds == ["HumanMessage", "AIMessage", "ToolMessage", "AIMessage"]
    assert seen == ["Paris"]
    assert out["messages"][-1].content == "The get_weather tool returned: It is sunny in Paris."


def test_agentkit_retriever_and_runnable_in_lcel() -> None:
    docs = [Document("Paris is in France", "fr", source="fr.txt"), Document("Rome", "it")]
    lc_retriever = to_langchain(BM25Retriever(docs, k=1, stemmer=None))
    (doc,) = lc_retriever.invoke("Paris France")
    assert (doc.id, doc.metadata["source"]) == ("fr", "fr.txt")
    assert doc.metadata["score"] > 0
    upper = to_langchain((lambda s: s.upper()) | StrOutputParser())
    from langchain_core.runnables import RunnableLambda

    assert (RunnableLambda(lambda s: s + "!") | upper).invoke("hi") == "HI!"


def test_multimodal_content_is_refused_by_name() -> None:
    model = to_langchain(ScriptedChatModel())
    image = {"type": "image", "base64": "AAAA", "mime_type": "image/png"}
    with pytest.raises(UsageError, match="text only"):
        model.invoke([lc_messages.HumanMessage(content=[image])])


def test_unconvertible_objects_say_what_is_accepted() -> None:
    with pytest.raises(UsageError, match="from_langchain cannot convert"):
        from_langchain(object())
    with pytest.raises(UsageError, match="to_langchain cannot convert"):
        to_langchain(42)
    from agentkit.retrievers.vectorstores import TorchStore

    with pytest.raises(UsageError, match="embedding=embedder"):
        to_langchain(TorchStore(4))
    from langchain_core.embeddings import DeterministicFakeEmbedding

    with pytest.raises(UsageError, match="cannot be used as a chain step"):
        PromptTemplate.from_template("{x}") | DeterministicFakeEmbedding(size=4)
    with pytest.raises(UsageError, match="cannot be used as a tool"):
        ToolCallingAgent(ScriptedChatModel(), tools=[fake_chat("x")])
