"""Incremental ingestion: bad files reported, unchanged work skipped, edits and deletions
applied with only the changed chunks embedded."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from agentkit.core.errors import UsageError
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor, IngestReport, store_path
from agentkit.retrievers.ingest.run import vector_reader
from agentkit.retrievers.splitters import RecursiveSplitter
from agentkit.retrievers.vectorstores import FaissStore

PDF = (Path(__file__).parent / "fixtures" / "two_pages.pdf").read_bytes()
PARAS = [f"Paragraph {i} of the notes explains idea number {i} in detail." for i in range(4)]


class CountingEmbedder:
    """HashingEmbedder that records every text it is asked to embed."""

    def __init__(self, dimension: int = 64) -> None:
        self.inner = HashingEmbedder(dimension)
        self.texts: list[str] = []
        self.calls = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts.extend(texts)
        return self.inner.embed_batch(texts)


def make_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "notes.txt").write_text("\n\n".join(PARAS), encoding="utf-8")
    (root / "guide.md").write_text("# Guide\n\nInstall the package.\n\nRun the demo.")
    (root / "qa.csv").write_text("question,answer\nWhat is FAISS?,A vector index\n")
    (root / "latin.txt").write_bytes("Crème brûlée recipe, très délicieux.".encode("latin-1"))
    (root / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (root / "empty.txt").write_bytes(b"")
    (root / "paper.pdf").write_bytes(PDF)
    (root / "broken.pdf").write_bytes(PDF[: len(PDF) // 2])
    return root


def ingestor(index_dir: Path, embedder: object = None, **options: object) -> Ingestor:
    return Ingestor(
        index_dir,
        embedder or CountingEmbedder(),  # type: ignore[arg-type]
        RecursiveSplitter(chunk_size=70, chunk_overlap=0),  # one paragraph per chunk
        **{"progress": False, **options},  # type: ignore[arg-type]
    )


def stored(index_dir: Path) -> FaissStore:
    return FaissStore.load(store_path(index_dir))


def test_bad_files_reported_and_good_files_indexed(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    report = ingestor(tmp_path / "index").ingest(corpus)

    skipped = dict(report.files_skipped)
    assert sorted(skipped) == ["blob.bin", "broken.pdf", "empty.txt"]
    assert skipped["blob.bin"] == "binary file"
    assert skipped["empty.txt"] == "empty file"
    assert "truncated PDF" in skipped["broken.pdf"]
    assert report.files_added == ["guide.md", "latin.txt", "notes.txt", "paper.pdf", "qa.csv"]
    assert report.notes == [("latin.txt", "not valid UTF-8; decoded as cp1252")]
    assert report.commits == 1 and report.seconds > 0

    store = stored(tmp_path / "index")
    docs = store.get(store.ids())
    assert len(docs) == report.chunks_added == report.embedded
    assert {d.metadata.get("file_source", d.source) for d in docs} == set(report.files_added)
    assert any("Crème brûlée" in d.text for d in docs)
    pages = sorted(d.metadata["page"] for d in docs if d.source == "paper.pdf")
    assert pages == [1, 2]
    note = next(d for d in docs if d.source == "notes.txt")
    assert note.id == f"notes.txt#{note.hash[:16]}"
    assert note.metadata["content_hash"] == note.hash
    assert note.metadata["path"] == str((corpus / "notes.txt").resolve())
    manifest = json.loads((tmp_path / "index" / "index.json").read_text())
    assert manifest["embedder"]["model_id"] == "hashing-64"
    assert "3 skipped" in str(report) and "skipped blob.bin: binary file" in str(report)


def test_reingest_unchanged_embeds_nothing(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    first = ingestor(tmp_path / "index").ingest(corpus)
    embedder = CountingEmbedder()
    again = ingestor(tmp_path / "index", embedder).ingest(corpus)  # a fresh process's view
    assert embedder.calls == 0
    assert again.files_unchanged == first.files_added
    assert again.chunks_unchanged == first.chunks_added
    assert (again.chunks_added, again.chunks_updated, again.chunks_deleted) == (0, 0, 0)
    assert again.commits == 0
    assert len(again.files_skipped) == 3


def test_modified_file_embeds_only_changed_chunks(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    before = {d.id: d for d in stored(tmp_path / "index").get(stored(tmp_path / "index").ids())}

    new_top = "A freshly written opening paragraph about something new."
    (corpus / "notes.txt").write_text("\n\n".join([new_top, PARAS[0], PARAS[1], PARAS[3]]))
    embedder = CountingEmbedder()
    report = ingestor(tmp_path / "index", embedder).ingest(corpus)

    assert embedder.texts == [new_top]
    assert report.files_updated == ["notes.txt"]
    assert (report.chunks_added, report.chunks_deleted, report.chunks_updated) == (1, 1, 3)
    store = stored(tmp_path / "index")
    notes = sorted(
        (d for d in store.get(store.ids()) if d.source == "notes.txt"), key=lambda d: d.chunk or 0
    )
    assert [d.text for d in notes] == [new_top, PARAS[0], PARAS[1], PARAS[3]]
    assert [d.chunk for d in notes] == [0, 1, 2, 3]  # positions refreshed
    assert all(d.id in before for d in notes[1:])  # unchanged text kept its id
    assert not any(PARAS[2] == d.text for d in store.get(store.ids()))
    vectors = vector_reader(store)
    assert vectors is not None
    expected = HashingEmbedder(64).embed_batch([PARAS[0]])
    assert np.allclose(vectors([notes[1].id]), expected)  # the reused vector is right
    assert "notes.txt" in ingestor(tmp_path / "index").ingest(corpus).files_unchanged


def test_deleted_and_emptied_files_lose_their_chunks(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    (corpus / "guide.md").unlink()
    (corpus / "qa.csv").write_text("")
    report = ingestor(tmp_path / "index").ingest(corpus)
    assert report.files_deleted == ["guide.md"]
    assert ("qa.csv", "empty file") in report.files_skipped
    assert report.chunks_deleted == 2  # the short Markdown file + the CSV row
    store = stored(tmp_path / "index")
    assert {d.source for d in store.get(store.ids())} == {"latin.txt", "notes.txt", "paper.pdf"}


def test_files_outside_the_selection_are_kept(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    report = ingestor(tmp_path / "index").ingest(corpus, glob="*.md")
    assert report.files_unchanged == ["guide.md"] and report.files_deleted == []
    assert len(stored(tmp_path / "index")) > 2


def test_moved_file_reuses_vectors(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    (corpus / "notes.txt").rename(corpus / "renamed.txt")
    embedder = CountingEmbedder()
    report = ingestor(tmp_path / "index", embedder).ingest(corpus)
    assert embedder.calls == 0
    assert report.files_added == ["renamed.txt"] and report.files_deleted == ["notes.txt"]
    store = stored(tmp_path / "index")
    assert sum(d.source == "renamed.txt" for d in store.get(store.ids())) == len(PARAS)


def test_changed_splitter_resplits_and_embeds_only_new_texts(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    embedder = CountingEmbedder()
    splitter = RecursiveSplitter(chunk_size=70, chunk_overlap=0, separators=["\n\n", "\n", " "])
    report = Ingestor(tmp_path / "index", embedder, splitter, progress=False).ingest(corpus)
    assert report.files_unchanged == []  # the pipeline fingerprint changed
    assert embedder.calls == 0  # the same chunk texts: vectors reused
    assert report.chunks_added == report.chunks_deleted == 0
    assert report.chunks_updated == len(stored(tmp_path / "index")) == 9


def test_commit_every_and_single_file_roots(tmp_path: Path) -> None:
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for i in range(5):
        (corpus / f"f{i}.txt").write_text(f"file number {i}")
    report = ingestor(tmp_path / "index", commit_every=2, batch_size=3).ingest(corpus)
    assert report.commits == 3 and report.embedded == 5
    report = ingestor(tmp_path / "index").ingest(corpus / "f1.txt")
    assert report.files_unchanged == ["f1.txt"]  # same source as when the folder was ingested


def test_two_roots_in_one_call_and_source_clash(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "same.txt").write_text(f"text of folder {name}")
    ingestor(tmp_path / "index").ingest(tmp_path / "a")
    with pytest.raises(UsageError, match="ingest both in one call"):
        ingestor(tmp_path / "index").ingest(tmp_path / "b")
    report = ingestor(tmp_path / "index").ingest([tmp_path / "a", tmp_path / "b"])
    assert report.files_updated == ["a/same.txt"]  # re-labelled, its vector reused
    assert report.files_added == ["b/same.txt"] and report.embedded == 1
    store = stored(tmp_path / "index")
    assert sorted(d.source or "" for d in store.get(store.ids())) == ["a/same.txt", "b/same.txt"]


def test_embedder_mismatch_is_refused(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index").ingest(corpus)
    with pytest.raises(UsageError, match="Re-index into a new folder"):
        ingestor(tmp_path / "index", HashingEmbedder(32)).ingest(corpus)


def test_store_factory_is_used_and_reloaded(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    ingestor(tmp_path / "index", store=lambda d: FaissStore(d, index="hnsw")).ingest(corpus)
    assert stored(tmp_path / "index").index_kind == "hnsw"
    report = ingestor(tmp_path / "index", store=lambda d: FaissStore(d)).ingest(corpus)
    assert report.files_added == [] and len(report.files_unchanged) == 5
    with pytest.raises(UsageError, match="not a VectorStore"):
        ingestor(tmp_path / "other", store=lambda d: object()).ingest(corpus)


def test_argument_and_path_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="commit_every must be a positive integer"):
        ingestor(tmp_path / "i", commit_every=0)
    with pytest.raises(UsageError, match="commit_seconds"):
        ingestor(tmp_path / "i", commit_seconds=-1)
    with pytest.raises(UsageError, match="store must be"):
        ingestor(tmp_path / "i", store="milvus")
    with pytest.raises(UsageError, match="does not exist"):
        ingestor(tmp_path / "i").ingest(tmp_path / "missing")
    with pytest.raises(UsageError, match="at least one"):
        ingestor(tmp_path / "i").ingest([])
    (tmp_path / "foreign" / "store").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    with pytest.raises(UsageError, match="not built by an Ingestor"):
        ingestor(tmp_path / "foreign").ingest(tmp_path / "docs")


def test_concurrent_ingestion_is_refused(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    (tmp_path / "index").mkdir()
    with open(tmp_path / "index" / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UsageError, match="another ingestion"):
            ingestor(tmp_path / "index").ingest(corpus)


def test_progress_bar_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = make_corpus(tmp_path / "docs")
    report = ingestor(tmp_path / "index", progress=True).ingest(corpus)
    assert "ingesting" in capsys.readouterr().err
    assert isinstance(report, IngestReport)
    data = report.to_dict()
    assert data["files_skipped"][0] == ("blob.bin", "binary file")
    assert str(report).startswith("files: 5 added, 0 updated, 0 unchanged, 0 deleted, 3 skipped")


def test_progress_bar_shows_file_names_as_text_not_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs"
    for name in ("A [red]colour[/red].txt", "[/bold] closing tag.txt"):  # "/": a folder
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text("A file whose name looks like rich markup.")
    report = ingestor(tmp_path / "index", progress=True).ingest(docs)
    assert report.files_added == ["A [red]colour[/red].txt", "[/bold] closing tag.txt"]
    assert "ingesting" in capsys.readouterr().err


def test_unknown_ingestor_option_names_the_file_options(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown options \['globs'\].*'glob'"):
        ingestor(tmp_path / "index", globs="*.md")


def test_file_options_reach_the_loader_of_each_path(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path / "docs")
    report = ingestor(tmp_path / "index", glob="*.txt", exclude=["latin*"]).ingest(corpus)
    assert report.files_added == ["notes.txt"]  # latin.txt excluded, empty.txt skipped
    assert ingestor(tmp_path / "other").ingest(corpus, glob="*.md").files_added == ["guide.md"]
    with pytest.raises(UsageError, match="exclude must be a list"):
        ingestor(tmp_path / "third", exclude="*.md").ingest(corpus)


def test_stores_without_vector_access_reembed(tmp_path: Path) -> None:
    class Opaque:  # a VectorStore that cannot give vectors back
        dimension = 4

    assert vector_reader(Opaque()) is None  # type: ignore[arg-type]
    assert vector_reader(FaissStore(4)) is not None
