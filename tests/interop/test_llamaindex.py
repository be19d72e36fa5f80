"""LlamaIndex both ways: readers (ids and file paths kept), retrievers and query engines,
with LlamaIndex ``Settings`` pointed at its mock LLM and embeddings (never OpenAI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document as LIDocument
from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine

from agentkit.chains.retrieval_qa import RetrievalQA
from agentkit.core.errors import UsageError
from agentkit.interop.llamaindex import from_llamaindex, to_llamaindex
from agentkit.llms.fake import FunctionModel
from agentkit.retrievers.bm25 import BM25Retriever
from agentkit.retrievers.document import Document
from agentkit.retrievers.loaders.text import TextLoader

DOCS = [
    Document("Paris is the capital of France.", "fr", {"lang": "en"}, source="fr.txt"),
    Document("Berlin is the capital of Germany.", "de", source="de.txt"),
    Document("Bananas are yellow.", "banana"),
]


@pytest.fixture(autouse=True)
def mock_settings() -> Iterator[None]:
    llm, embed = Settings._llm, Settings._embed_model
    Settings.llm = MockLLM(max_tokens=8)
    Settings.embed_model = MockEmbedding(embed_dim=8)
    yield
    Settings._llm, Settings._embed_model = llm, embed


def test_simple_directory_reader_documents_keep_id_and_file_path(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("alpha text", encoding="utf-8")
    (tmp_path / "b.txt").write_text("beta text", encoding="utf-8")
    li_docs = SimpleDirectoryReader(input_dir=str(tmp_path), filename_as_id=True).load_data()
    docs = from_llamaindex(SimpleDirectoryReader(input_dir=str(tmp_path), filename_as_id=True))
    assert [(d.id, d.text, d.source) for d in docs] == [
        (li.id_, li.text, li.metadata["file_path"]) for li in li_docs
    ]
    assert all(d.metadata["file_path"].endswith(".txt") for d in docs)


def test_llamaindex_reader_class_in_ingestion(tmp_path: Path) -> None:
    from llama_index.core.readers.base import BaseReader

    from agentkit.retrievers.embeddings.hashing import HashingEmbedder
    from agentkit.retrievers.ingest import Ingestor
    from agentkit.retrievers.vectorstores import TorchStore

    class LinesReader(BaseReader):
        def load_data(self, file: Path, extra_info: dict | None = None) -> list[LIDocument]:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
            return [
                LIDocument(text=t, metadata={"file_path": str(file), "line": i})
                for i, t in enumerate(lines)
            ]

    data = tmp_path / "notes.log"
    data.write_text("first line\nsecond line\n", encoding="utf-8")
    ingestor = Ingestor(
        tmp_path / "idx",
        HashingEmbedder(32),
        store=TorchStore,
        loaders={".log": from_llamaindex(LinesReader)},
    )
    assert ingestor.ingest([data]).chunks_added == 2
    store = ingestor.store
    assert store is not None
    docs = sorted(store.get(store.ids()), key=lambda d: d.metadata["line"])
    assert [d.text for d in docs] == ["first line", "second line"]
    assert all(d.metadata["file_path"] == d.source and d.source.endswith("notes.log") for d in docs)


def test_agentkit_loader_as_llamaindex_reader(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_text("hello from agentkit", encoding="utf-8")
    (li_doc,) = to_llamaindex(TextLoader()).load_data(path)
    assert isinstance(li_doc, LIDocument)
    assert li_doc.text == "hello from agentkit"
    assert li_doc.metadata["file_path"] == str(path)
    back = from_llamaindex(li_doc)
    assert (back.id, back.text, back.source) == (li_doc.id_, li_doc.text, str(path))


def test_agentkit_retriever_drives_retriever_query_engine() -> None:
    li_retriever = to_llamaindex(BM25Retriever(DOCS, k=2, stemmer=None))
    nodes = li_retriever.retrieve("capital of France")
    assert nodes[0].node.node_id == "fr"
    assert nodes[0].node.metadata == {"lang": "en", "file_path": "fr.txt"}
    assert nodes[0].score is not None and nodes[0].score > 0
    engine = RetrieverQueryEngine.from_args(li_retriever, llm=MockLLM(max_tokens=8))
    response = engine.query("capital of France")
    assert str(response)  # MockLLM answers with placeholder text
    assert [n.node.node_id for n in response.source_nodes] == [n.node.node_id for n in nodes]
    anodes = asyncio.run(li_retriever.aretrieve("capital of Germany"))
    assert anodes[0].node.node_id == "de"


def test_llamaindex_retriever_and_query_engine_in_agentkit() -> None:
    index = VectorStoreIndex.from_documents(
        [LIDocument(text=d.text, id_=d.id, metadata={"file_path": d.source or ""}) for d in DOCS]
    )
    retriever = from_llamaindex(index.as_retriever(similarity_top_k=3), k=2)
    docs = retriever.invoke("capital")
    assert len(docs) == 2 and all(d.score is not None for d in docs)
    assert {d.text for d in docs} <= {d.text for d in DOCS}
    qa = RetrievalQA(FunctionModel(lambda m, p: "From the notes."), retriever)
    assert qa.invoke({"query": "capital?"})["result"] == "From the notes."
    direct = RetrievalQA(FunctionModel(lambda m, p: "ok"), index.as_retriever(similarity_top_k=1))
    assert len(direct.invoke({"query": "capital?"})["sources"]) == 1  # converted on its own
    engine = from_llamaindex(index.as_query_engine(similarity_top_k=1))
    out = engine.invoke({"question": "What is the capital of France?"})
    assert isinstance(out["result"], str) and out["result"]
    assert len(out["source_documents"]) == 1
    assert asyncio.run(engine.ainvoke("capital?"))["source_documents"]


def test_agentkit_chain_as_llamaindex_query_engine() -> None:
    qa = RetrievalQA(
        FunctionModel(lambda m, p: "Paris."),
        BM25Retriever(DOCS, k=1, stemmer=None),
        return_source_documents=True,
    )
    engine = to_llamaindex(qa)
    response = engine.query("capital of France")
    assert str(response) == "Paris."
    assert [n.node.node_id for n in response.source_nodes] == ["fr"]
    assert str(asyncio.run(engine.aquery("capital of France"))) == "Paris."


def test_llamaindex_errors_name_what_is_accepted() -> None:
    with pytest.raises(UsageError, match="from_llamaindex cannot convert"):
        from_llamaindex(3.5)
    with pytest.raises(UsageError, match="to_llamaindex cannot convert"):
        to_llamaindex("text")
    engine = from_llamaindex(
        VectorStoreIndex.from_documents([LIDocument(text="x")]).as_query_engine()
    )
    with pytest.raises(UsageError, match="'query' or 'question'"):
        engine.invoke({"prompt": "x"})
