"""RetrievalQA: every chain type with fake models that answer from the prompt they get."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path

import pytest

import agentkit.core.spec as spec
from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core.errors import OutputParserError, SpecError, UsageError
from agentkit.core.tracing import InMemoryTracer
from agentkit.llms.fake import FakeListModel, FunctionModel
from agentkit.prompts import PromptTemplate
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document

DOCS = [
    Document("Paris is the capital of France.", id="fr", source="france.txt"),
    Document(
        "Lyon is a large city in France, known for food.", id="lyon", metadata={"source": "lyon.md"}
    ),
    Document("Berlin is the capital of Germany.", id="de"),
    Document("Bananas are rich in potassium.", id="banana"),
]
QUESTION = "What is the capital city of France?"


def retriever(k: int = 2) -> BM25Retriever:
    return BM25Retriever(DOCS, k=k, stemmer=None)


class Recorder:
    """A model function that records each prompt and answers with ``reply(prompt)``."""

    def __init__(self, reply=lambda prompt: "ok") -> None:  # type: ignore[no-untyped-def]
        self.prompts: list[str] = []
        self.reply = reply

    def __call__(self, messages, params) -> str:  # type: ignore[no-untyped-def]
        prompt = messages[-1].content
        self.prompts.append(prompt)
        return self.reply(prompt)


def test_stuff_puts_every_document_in_one_prompt() -> None:
    rec = Recorder(lambda p: "Paris." if "Paris is the capital" in p else "unknown")
    qa = RetrievalQA.from_llm(FunctionModel(rec), retriever(2), return_source_documents=True)
    out = qa.invoke({"query": QUESTION})
    assert out["result"] == "Paris."
    assert len(rec.prompts) == 1
    used = [d.id for d in retriever(2).invoke(QUESTION)]
    assert used == ["fr", "lyon"]
    prompt = rec.prompts[0]
    assert "Source: france.txt\nParis is the capital of France." in prompt
    assert "Source: lyon.md\nLyon is a large city" in prompt
    assert "Berlin" not in prompt and QUESTION in prompt
    assert [c["id"] for c in out["sources"]] == used
    assert [c["source"] for c in out["sources"]] == ["france.txt", "lyon.md"]
    assert out["sources"][0]["snippet"] == "Paris is the capital of France."
    assert out["sources"][0]["score"] == pytest.approx(out["source_documents"][0].score)
    assert [d.id for d in out["source_documents"]] == used
    assert out["query"] == QUESTION


def test_question_key_and_plain_string_input() -> None:
    qa = RetrievalQA.from_llm(FakeListModel(["Paris"]), retriever())
    assert qa.invoke({"question": QUESTION})["result"] == "Paris"
    assert qa.invoke(QUESTION)["result"] == "Paris"
    assert qa.run(QUESTION) == "Paris"
    assert "source_documents" not in qa.invoke(QUESTION)
    assert qa.output_keys == ["result", "sources"]


def test_document_separator_and_document_prompt() -> None:
    rec = Recorder()
    qa = RetrievalQA(
        FunctionModel(rec),
        retriever(2),
        document_separator="\n#####\n",
        document_prompt=PromptTemplate("<{id}|{source}> {page_content}"),
    )
    qa.invoke(QUESTION)
    assert (
        "<fr|france.txt> Paris is the capital of France.\n#####\n<lyon|lyon.md> Lyon"
        in rec.prompts[0]
    )


def test_map_reduce_calls_once_per_document_plus_combine() -> None:
    def reply(prompt: str) -> str:
        if prompt.startswith("Given the following extracted parts"):
            return "Final: Paris" if "Paris is the capital" in prompt else "Final: ?"
        return "Paris is the capital" if "Paris" in prompt else "NONE"

    rec = Recorder(reply)
    qa = RetrievalQA.from_llm(FunctionModel(rec), retriever(3), chain_type="map_reduce")
    out = qa.invoke(QUESTION)
    docs = retriever(3).invoke(QUESTION)
    assert len(rec.prompts) == len(docs) + 1 == 4
    maps, combine = rec.prompts[:-1], rec.prompts[-1]
    assert sorted(re.search(r"Source: (\S+)", p).group(1) for p in maps) == sorted(  # type: ignore[union-attr]
        ["france.txt", "lyon.md", "de"]
    )
    assert "Source: france.txt\nParis is the capital" in combine
    assert "lyon" not in combine  # its extract was NONE
    assert out["result"] == "Final: Paris"
    assert [c["id"] for c in out["sources"]] == ["fr"]


def test_map_reduce_runs_the_extractions_concurrently() -> None:
    barrier = threading.Barrier(3)  # the three map calls must be in flight at once

    def reply(messages, params) -> str:  # type: ignore[no-untyped-def]
        if not messages[-1].content.startswith("Given the following extracted"):
            barrier.wait(timeout=10)
        return "text"

    qa = RetrievalQA.from_llm(FunctionModel(reply), retriever(4), chain_type="map_reduce")
    assert qa.invoke(QUESTION)["result"] == "text"  # 3 documents share a term with the query


def test_map_reduce_async_overlaps_the_extractions() -> None:
    tracer = InMemoryTracer()
    model = FunctionModel(lambda m, p: "text", latency=0.05)
    qa = RetrievalQA.from_llm(model, retriever(4), chain_type="map_reduce")
    asyncio.run(qa.ainvoke(QUESTION, {"tracers": [tracer]}))
    calls = sorted((s for s in tracer.spans if s.kind == "model"), key=lambda s: s.start)
    assert len(calls) == 4  # three extractions + the combine call
    maps = calls[:3]
    assert max(s.start for s in maps) < min(s.end for s in maps)  # all three overlapped
    assert calls[3].start >= max(s.end for s in maps)  # combine waited for them


def test_refine_calls_once_per_document_and_threads_the_answer() -> None:
    def reply(prompt: str) -> str:
        if prompt.startswith("Context information"):
            return "draft-1"
        existing = re.search(r"existing answer: (\S+)", prompt).group(1)  # type: ignore[union-attr]
        return existing + "+"

    rec = Recorder(reply)
    qa = RetrievalQA.from_llm(FunctionModel(rec), retriever(3), chain_type="refine")
    out = qa.invoke(QUESTION)
    assert len(rec.prompts) == 3
    assert "Paris is the capital" in rec.prompts[0]
    assert "existing answer: draft-1" in rec.prompts[1] and "Lyon" in rec.prompts[1]
    assert "existing answer: draft-1+" in rec.prompts[2] and "Berlin" in rec.prompts[2]
    assert out["result"] == "draft-1++"
    assert [c["id"] for c in out["sources"]] == ["fr", "lyon", "de"]


def test_map_rerank_picks_the_highest_score_and_cites_only_it() -> None:
    scores = {"France.": ("Paris", 40), "Lyon": ("Lyon", 95), "Germany": ("Berlin", 10)}

    def reply(prompt: str) -> str:
        for key, (answer, score) in scores.items():
            if key in prompt.split("---------")[1]:
                return f"{answer}\nScore: {score}"
        return "none\nScore: 0"

    rec = Recorder(reply)
    qa = RetrievalQA.from_llm(
        FunctionModel(rec), retriever(3), chain_type="map_rerank", return_source_documents=True
    )
    out = qa.invoke(QUESTION)
    assert len(rec.prompts) == 3
    assert out["result"] == "Lyon"
    assert [c["id"] for c in out["sources"]] == ["lyon"]
    assert [d.id for d in out["source_documents"]] == ["lyon"]
    retrieved = [d.id for d in out["retrieved_documents"]]
    assert len(retrieved) == 3 and "lyon" in retrieved  # what retrieval metrics score


def test_map_rerank_skips_unscored_replies_and_fails_when_none_parse() -> None:
    qa = RetrievalQA.from_llm(
        FakeListModel(["no score here", "Paris\nScore: 7"]), retriever(2), chain_type="map_rerank"
    )
    assert qa.invoke(QUESTION)["result"] == "Paris"
    bad = RetrievalQA.from_llm(FakeListModel(["no score"]), retriever(2), chain_type="map_rerank")
    with pytest.raises(OutputParserError, match="does not match"):
        bad.invoke(QUESTION)


@pytest.mark.parametrize("chain_type", ["stuff", "map_reduce", "refine", "map_rerank"])
def test_no_documents_still_answers_without_citations(chain_type: str) -> None:
    qa = RetrievalQA.from_llm(FakeListModel(["I don't know."]), retriever(), chain_type=chain_type)
    out = qa.invoke("zebras")
    assert out["result"] == "I don't know."
    assert out["sources"] == []


def test_custom_prompt_and_validation() -> None:
    rec = Recorder()
    custom = PromptTemplate("Docs:\n{context}\nQ: {question}\nA:")
    RetrievalQA.from_llm(FunctionModel(rec), retriever(1), prompt=custom).invoke(QUESTION)
    assert rec.prompts[0].startswith("Docs:\nSource: france.txt")
    with pytest.raises(UsageError, match=r"provides only \['context', 'question'\]"):
        RetrievalQA.from_llm(FakeListModel(["x"]), retriever(), prompt=PromptTemplate("{docs}"))
    with pytest.raises(UsageError, match="unknown chain_type"):
        RetrievalQA.from_llm(FakeListModel(["x"]), retriever(), chain_type="mapreduce")
    with pytest.raises(UsageError, match="has no prompt"):
        RetrievalQA(FakeListModel(["x"]), retriever(), prompts={"combine_prompt": custom})


def test_spec_round_trip(tmp_path: Path) -> None:
    bm25 = retriever(2)
    bm25.save(tmp_path / "bm25")
    qa = RetrievalQA(
        FakeListModel(["Paris"]),
        bm25,
        chain_type="refine",
        document_separator="\n--\n",
        prompts={"refine_prompt": PromptTemplate("{existing_answer} / {context} / {question}")},
        return_source_documents=True,
    )
    data = qa.to_dict()
    assert data["type"] == "retrieval_qa"
    assert data["retriever"] == {"type": "bm25_retriever", "path": str(tmp_path / "bm25"), "k": 2}
    assert set(data["prompts"]) == {"refine_prompt"}
    spec.save(qa, tmp_path / "qa.yaml")
    rebuilt = spec.load_file(tmp_path / "qa.yaml")
    assert rebuilt.to_dict() == data
    out = rebuilt.invoke(QUESTION)
    assert out["result"] == "Paris" and [c["id"] for c in out["sources"]] == ["fr", "lyon"]
    with pytest.raises(SpecError, match="chain_type"):
        spec.load({**data, "chain_type": "mapreduce"})


def test_graph_shows_the_retriever_then_each_llm_step() -> None:
    stuff = RetrievalQA(FakeListModel(["a"]), retriever(), chain_type="stuff")
    assert stuff.graph().names() == [
        "BM25Retriever", "PromptTemplate", "FakeListModel", "StrOutputParser",
    ]  # fmt: skip
    map_reduce = RetrievalQA(FakeListModel(["a"]), retriever(), chain_type="map_reduce")
    graph = map_reduce.graph()
    assert (
        graph.names()
        == ["BM25Retriever"] + ["PromptTemplate", "FakeListModel", "StrOutputParser"] * 2
    )
    assert len(graph.edges) == 6 and graph.sources == ["n0"] and graph.sinks == ["n6"]
    assert "BM25Retriever" in graph.to_mermaid()


def test_a_retriever_returning_strings_or_dicts_works() -> None:
    from agentkit.core import Lambda

    texts = Lambda(lambda q: ["Paris is in France.", {"text": "Rome is in Italy.", "id": "r"}])
    llm = FakeListModel(["Paris."])
    out = RetrievalQA(llm, texts, chain_type="stuff").invoke({"query": "Where is Paris?"})
    assert out["result"] == "Paris."
    assert "Paris is in France." in str(llm.calls[0]) and "Rome is in Italy." in str(llm.calls[0])
    assert [s["id"] for s in out["sources"]][1] == "r"
