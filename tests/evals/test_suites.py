from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentkit.core.errors import SpecError, UsageError
from agentkit.evals import DatasetError, build_metrics, load_dataset, run_eval
from agentkit.evals.suite import load_suite
from agentkit.evals.suites import cached_index
from agentkit.retrievers.document import Document
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest.sidecar import is_current

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["squad_v11_dev", "scifact_retrieval"])
def test_bundled_suites_parse_and_point_at_the_shared_data(name: str, shared_data: Path) -> None:
    suite = load_suite(ROOT / "evals" / f"{name}.yaml")
    assert suite.name == name and suite.dataset.resolve().is_relative_to(shared_data.resolve())
    assert suite.dataset.exists()
    build_metrics(suite.metrics, ks=suite.ks)  # every metric name is known


def test_suite_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("chain: x:y\n")
    with pytest.raises(SpecError, match=r"\$.dataset: required field is missing"):
        load_suite(bad)
    bad.write_text("chain: x:y\ndataset: d.jsonl\nconcurrency: 0\n")
    with pytest.raises(SpecError, match="concurrency: must be at least 1"):
        load_suite(bad)
    with pytest.raises(UsageError, match="does not exist"):
        load_suite(tmp_path / "nope.yaml")


def test_beir_folder_as_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "queries.jsonl").write_text(
        '{"_id": "1", "text": "claim one"}\n{"_id": "2", "text": "claim two"}\n'
    )
    (tmp_path / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t1\n2\td3\t0\n"
    )
    ds = load_dataset(tmp_path)
    assert ds.format == "beir" and len(ds) == 1  # query 2 has no relevant document
    assert ds.examples[0].relevant_ids == ("d1", "d2") and ds.examples[0].question == "claim one"
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n9\td1\t1\n")
    with pytest.raises(DatasetError, match=r"query '9' is not in queries\.jsonl"):
        load_dataset(tmp_path)


def test_cached_index_builds_once_then_opens_the_same_pipeline(tmp_path: Path) -> None:
    docs = [Document(f"topic {w} text about {w}", id=f"d{i}") for i, w in enumerate("abcdef")]
    calls: list[int] = []

    def documents() -> list[Document]:
        calls.append(1)
        return docs

    emb = HashingEmbedder(64)
    first = cached_index(documents, tmp_path / "idx", emb)
    second = cached_index(documents, tmp_path / "idx", emb)
    assert len(calls) == 1 and is_current(tmp_path / "idx")
    query = "text about c"
    hits = [d.id for d in first.retriever(3).invoke(query)]
    assert hits == [d.id for d in second.retriever(3).invoke(query)] and hits[0] == "d2"
    # the suite's chain is the index's own pipeline: same answer as Index.query
    chain = second.qa_chain("extractive", k=3)
    out = chain.invoke({"query": query})
    assert out == first.query(query, "extractive", k=3)
    assert out["retrieved_documents"][0].id == "d2"


def test_a_build_that_fails_leaves_no_index_behind(tmp_path: Path) -> None:
    class Broken(HashingEmbedder):
        def embed_batch(self, texts: Any) -> Any:
            raise RuntimeError("GPU fell off")

    docs = [Document("some text", id="d0")]
    with pytest.raises(RuntimeError, match="GPU fell off"):
        cached_index(lambda: docs, tmp_path / "idx", Broken(64))
    assert list(tmp_path.iterdir()) == []  # nothing half-built: the next run builds again
    assert len(cached_index(lambda: docs, tmp_path / "idx", HashingEmbedder(64))) == 1


def test_a_build_raced_by_another_process_opens_its_index(tmp_path: Path) -> None:
    from agentkit.retrievers.index import Index

    docs = [Document("river deltas and sediment", id="d0")]

    def documents() -> list[Document]:  # another process finishes the same index meanwhile
        Index.from_documents(docs, tmp_path / "idx", HashingEmbedder(64))
        return docs

    opened = cached_index(documents, tmp_path / "idx", HashingEmbedder(64))
    assert [d.id for d in opened.retriever(1).invoke("sediment")] == ["d0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx"]  # our copy was removed


@pytest.mark.slow
@pytest.mark.integration
def test_squad_suite_end_to_end_on_a_few_questions(shared_data: Path, tmp_path: Path) -> None:
    from agentkit.evals.suites import squad_rag_chain

    data = shared_data / "squad-v1.1-dev" / "dev-v1.1.json.gz"
    chain = squad_rag_chain(data, k=5, cache_dir=ROOT / ".cache")
    run = run_eval(
        chain,
        load_dataset(data),
        build_metrics("f1,contains,context_contains,retrieval"),
        tmp_path / "run",
        limit=20,
        concurrency=2,
    )
    metrics = run.summary["metrics"]
    assert metrics["hit@5"] >= 0.8 and metrics["context_contains"] >= 0.8
    assert metrics["contains"] > 0.2 and run.summary["errors"] == 0
    record = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    assert record["prediction"]["retrieved_ids"][0].startswith("Super_Bowl_50#")
    assert json.loads((tmp_path / "run" / "run.json").read_text())["chain"]["spec"] is not None
