"""LangChain spellings agentkit accepts (same meaning) and the ones it refuses by name."""

from __future__ import annotations

import numpy as np
import pytest

from agentkit.chains import LLMChain, RetrievalQA, SimpleSequentialChain
from agentkit.core.errors import UsageError
from agentkit.llms.fake import FakeListModel
from agentkit.memory import TokenBufferMemory
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings.hashing import HashingEmbedder

DOCS = [Document("Paris is the capital of France.", "fr"), Document("Rome is in Italy.", "it")]


def test_verbose_prints_each_step(capsys: pytest.CaptureFixture[str]) -> None:
    step = LLMChain(PromptTemplate.from_template("{input}"), FakeListModel(["done"]))
    chain = SimpleSequentialChain([step], verbose=True)
    assert chain.run("go") == "done"
    err = capsys.readouterr().err
    assert "LLMChain" in err and "FakeListModel" in err
    quiet = SimpleSequentialChain([step])
    assert quiet.run("go") == "done"
    assert capsys.readouterr().err == ""


def test_from_chain_type_maps_chain_type_kwargs() -> None:
    qa = RetrievalQA.from_chain_type(
        FakeListModel(["Paris."]),
        chain_type="map_reduce",
        retriever=BM25Retriever(DOCS, k=1, stemmer=None),
        chain_type_kwargs={"document_separator": "\n---\n"},
    )
    assert qa.chain_type == "map_reduce" and qa.document_separator == "\n---\n"
    with pytest.raises(UsageError, match="has no prompt"):
        RetrievalQA.from_chain_type(
            FakeListModel(["x"]),
            retriever=BM25Retriever(DOCS, stemmer=None),
            chain_type_kwargs={"combine_prompt": PromptTemplate.from_template("{question}")},
        )
    with pytest.raises(UsageError, match="retriever="):
        RetrievalQA.from_chain_type(FakeListModel(["x"]))


def test_token_buffer_memory_langchain_arguments() -> None:
    assert TokenBufferMemory(max_token_limit=7).max_tokens == 7
    with pytest.raises(UsageError, match="tokenizer="):
        TokenBufferMemory(llm=FakeListModel(["x"]))
    with pytest.raises(UsageError):
        TokenBufferMemory(max_token_limit=0)


def test_predict_is_run_with_keywords() -> None:
    chain = LLMChain(PromptTemplate.from_template("Say {word}"), FakeListModel(["hi"]))
    assert chain.predict(word="hi") == "hi"
    with pytest.raises(UsageError, match="missing input"):
        chain.predict(other="x")


def test_embed_query_and_documents_match_embed_batch() -> None:
    embedder = HashingEmbedder(16)
    batch = embedder.embed_batch(["alpha beta", "gamma"])
    assert embedder.embed_query("alpha beta") == pytest.approx(batch[0].tolist())
    docs = embedder.embed_documents(["alpha beta", "gamma"])
    assert np.allclose(np.asarray(docs), batch)
    assert all(isinstance(x, float) for x in docs[0])
    with pytest.raises(UsageError):
        embedder.embed_documents("not a list")  # type: ignore[arg-type]


def test_vector_retriever_from_documents() -> None:
    pytest.importorskip("torch")
    from agentkit.retrievers.vector import VectorRetriever
    from agentkit.retrievers.vectorstores import TorchStore

    retriever = VectorRetriever.from_documents(DOCS, HashingEmbedder(64), store=TorchStore, k=1)
    (doc,) = retriever.invoke("capital of France")
    assert doc.id == "fr" and doc.score is not None
