"""CSV rows keep their row number in ``source`` (citations point at the row), while
ingestion keeps tracking the file by its path: a re-ingest of an unchanged CSV embeds
nothing, an edited CSV re-embeds only its changed rows."""

from __future__ import annotations

from pathlib import Path

from agentkit.chains.retrieval_qa import citations
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor, store_path
from agentkit.retrievers.loaders import CSVLoader
from agentkit.retrievers.splitters import RecursiveSplitter
from agentkit.retrievers.vectorstores import FaissStore

CATALOG = "sku,name\nA1,red mug\nB2,blue plate\nC3,green bowl\n"


class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.texts: list[str] = []

    def embed_batch(self, texts, normalize=True):  # type: ignore[no-untyped-def,override]
        self.texts.extend(texts)
        return super().embed_batch(texts)


def ingest(root: Path, index: Path, embedder: Counting):  # type: ignore[no-untyped-def]
    splitter = RecursiveSplitter(chunk_size=200, chunk_overlap=0)
    return Ingestor(index, embedder, splitter, progress=False).ingest(root)


def sources(index: Path) -> dict[str, str]:
    store = FaissStore.load(store_path(index))
    return {d.source or "": d.text for d in store.get(store.ids())}


def test_rows_have_their_own_source_and_citation() -> None:
    docs = CSVLoader().parse(CATALOG.encode(), "catalog.csv", {})
    assert [d.source for d in docs] == [f"catalog.csv#row={n}" for n in (1, 2, 3)]
    assert [d.metadata["row"] for d in docs] == [0, 1, 2]  # 0-based, as before
    assert all(d.metadata["file_source"] == "catalog.csv" for d in docs)
    assert citations(docs[2:])[0]["source"] == "catalog.csv#row=3"


def test_hostile_column_named_file_source_does_not_hijack_tracking() -> None:
    text = "file_source,name\n../../etc/passwd,mug\n"
    docs = CSVLoader(metadata_columns=["file_source"]).parse(text.encode(), "t.csv", {})
    assert docs[0].metadata["file_source"] == "t.csv"


def test_reingest_of_unchanged_and_edited_csv(tmp_path: Path) -> None:
    root, index = tmp_path / "docs", tmp_path / "index"
    root.mkdir()
    (root / "catalog.csv").write_text(CATALOG)
    first = ingest(root, index, Counting())
    assert first.files_added == ["catalog.csv"] and first.chunks_added == 3
    assert sorted(sources(index)) == [f"catalog.csv#row={n}" for n in (1, 2, 3)]

    again = ingest(root, index, Counting())
    assert again.files_unchanged == ["catalog.csv"] and again.embedded == 0

    (root / "catalog.csv").write_text(CATALOG.replace("blue plate", "navy plate"))
    embedder = Counting()
    edited = ingest(root, index, embedder)
    assert edited.files_updated == ["catalog.csv"]
    assert embedder.texts == ["sku: B2\nname: navy plate"]  # only the edited row
    assert sources(index)["catalog.csv#row=2"] == "sku: B2\nname: navy plate"
    assert len(sources(index)) == 3

    (root / "catalog.csv").unlink()
    gone = ingest(root, index, Counting())
    assert gone.files_deleted == ["catalog.csv"] and sources(index) == {}
