"""Ingestion with ``--executor ray``: the same chunk ids and vectors as the local path,
the same index format, and re-ingestion skips unchanged files exactly as locally; files
are loaded and split in Ray tasks; large indexes as a trained IVF-PQ FAISS index."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from agentkit.core.errors import SpecError, UsageError
from agentkit.retrievers.embeddings import HashingEmbedder
from agentkit.retrievers.ingest import Ingestor, store_path
from agentkit.retrievers.ingest.run import vector_reader
from agentkit.retrievers.vectorstores import FaissStore
from agentkit.scale.specs import WorkerFailed

pytestmark = pytest.mark.slow
WORDS = [
    "river",
    "stone",
    "cloud",
    "ember",
    "delta",
    "orbit",
    "field",
    "lantern",
    "harbor",
    "signal",
    "meadow",
    "quartz",
]


def make_docs(root: Path, n: int = 8) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    for i in range(n):
        paras = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(6)]
        (root / f"doc{i}.txt").write_text("\n\n".join(paras), encoding="utf-8")
    return root


def index_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    store = FaissStore.load(store_path(index_dir))
    ids = sorted(store.ids())
    read = vector_reader(store)
    assert read is not None
    return dict(zip(ids, read(ids), strict=True))


@pytest.mark.integration
def test_same_chunk_ids_and_vectors_as_local_then_incremental(
    ray_cluster: Any, tmp_path: Path
) -> None:
    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder
    from agentkit.scale import RayEmbedder, RayPreparer

    docs = make_docs(tmp_path / "docs")
    local = Ingestor(tmp_path / "local", SentenceTransformerEmbedder(), progress=False)
    local.ingest(docs)
    # one pool (one MiniLM load per actor) serves both runs; ray_ingest wraps the same
    split = RayPreparer(files_per_task=3, window=2)
    with RayEmbedder(SentenceTransformerEmbedder(), actors=2) as pooled:
        on_ray = Ingestor(tmp_path / "ray", pooled, progress=False, batch_size=128, prepare=split)
        report = on_ray.ingest(docs)
        # the 8 files were read and split in 3 Ray tasks, in worker processes
        assert split.tasks == 3 and split.pids and os.getpid() not in split.pids
        expected, got = index_vectors(tmp_path / "local"), index_vectors(tmp_path / "ray")
        assert len(got) == len(expected) > 8 and report.embedded == len(expected)
        assert list(got) == list(expected)
        for chunk_id, vector in expected.items():
            np.testing.assert_allclose(got[chunk_id], vector, atol=1e-5)
        manifest = (tmp_path / "ray" / "index.json").read_text()
        assert manifest == (tmp_path / "local" / "index.json").read_text()

        # one file edited, one added: only their chunks are embedded, the rest skipped
        (docs / "doc3.txt").write_text("A brand new text about lanterns.", encoding="utf-8")
        (docs / "extra.txt").write_text("Another new file about harbors.", encoding="utf-8")
        again = Ingestor(
            tmp_path / "ray", pooled, progress=False, batch_size=128, prepare=split
        ).ingest(docs)
        assert split.tasks == 6  # unchanged files are hashed on the workers too
    assert sorted(again.files_unchanged) == sorted(f"doc{i}.txt" for i in range(8) if i != 3)
    assert again.files_updated == ["doc3.txt"] and again.files_added == ["extra.txt"]
    assert again.embedded == 2
    local_again = local.ingest(docs)
    assert local_again.embedded == again.embedded
    assert sorted(local_again.files_unchanged) == sorted(again.files_unchanged)
    expected, got = index_vectors(tmp_path / "local"), index_vectors(tmp_path / "ray")
    assert list(got) == list(expected)
    for chunk_id, vector in expected.items():
        np.testing.assert_allclose(got[chunk_id], vector, atol=1e-5)


def test_cli_executor_ray_and_local_runs_alternate(ray_cluster: Any, tmp_path: Path) -> None:
    from agentkit.cli import app

    docs = make_docs(tmp_path / "docs", 4)
    index = tmp_path / "index"
    args = ["ingest", str(docs), "--index", str(index), "--embedder", "hashing", "--no-progress"]
    first = CliRunner().invoke(app, [*args, "--executor", "ray", "--actors", "2"])
    assert first.exit_code == 0, first.output
    assert "added" in first.output and "0 deleted" in first.output
    local = Ingestor(tmp_path / "local", HashingEmbedder(), progress=False)
    local.ingest(docs)
    assert sorted(index_vectors(index)) == sorted(index_vectors(tmp_path / "local"))
    # the local executor continues the Ray-built index: nothing to redo
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 embedded" in second.output and second.output.count("unchanged") == 4


def test_bad_options_and_unspecced_embedders_are_refused(ray_cluster: Any, tmp_path: Path) -> None:
    from agentkit.cli import app
    from agentkit.scale import RayEmbedder, ray_ingest

    docs = make_docs(tmp_path / "docs", 1)
    result = CliRunner().invoke(
        app, ["ingest", str(docs), "--index", str(tmp_path / "i"), "--actors", "2"]
    )
    assert result.exit_code != 0 and "--actors applies to --executor ray only" in str(
        result.output + repr(result.exception)
    )

    class Opaque:  # an embedder with no spec: cannot travel
        model_id, dimension = "opaque", 4

        def embed_batch(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), 4), dtype=np.float32)

    with pytest.raises(SpecError, match=r"embedder: Opaque .*cannot travel to Ray workers"):
        ray_ingest(docs, tmp_path / "o", Opaque(), actors=1, progress=False)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="nope does not exist"):
        ray_ingest([docs, tmp_path / "nope"], tmp_path / "o", HashingEmbedder(), actors=1)
    hostile = {"type": "cached_embedder", "inner": {"ref": "os:system", "args": {"command": "id"}}}
    with pytest.raises(WorkerFailed, match="refusing to import 'os:system'"):
        RayEmbedder(hostile, actors=1).start()
    with pytest.raises(Exception, match="actors must be a positive integer"):
        RayEmbedder(HashingEmbedder(), actors=0)


def test_more_actors_than_the_cluster_holds_is_an_error(
    ray_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentkit.scale import RayEmbedder

    monkeypatch.setattr("agentkit.scale.cluster.STARTUP_TIMEOUT_S", 2.0)
    with pytest.raises(UsageError, match=r"of 3 embedding actors started within 2 s.*CPU"):
        RayEmbedder(HashingEmbedder(), actors=3).start()  # 3 CPUs asked, 2 in the cluster


def test_large_index_trains_ivf_pq_on_a_sample_and_adds_the_shards(
    ray_cluster: Any, tmp_path: Path
) -> None:
    """``store=ivf_store(...)``: exact until ``train_size`` vectors, then a trained IVF-PQ
    index the later shards are added to; saved as a FAISS index a new process reopens."""
    import faiss

    from agentkit.retrievers.ingest.manifest import load_store, read_manifest
    from agentkit.retrievers.splitters import RecursiveSplitter
    from agentkit.retrievers.vectorstores.ivfpq import IVFPQStore
    from agentkit.scale import ivf_store, ray_ingest

    docs = make_docs(tmp_path / "docs", 24)
    embedder, splitter = HashingEmbedder(64), RecursiveSplitter(chunk_size=120, chunk_overlap=0)
    factory = ivf_store(4, pq_m=32, pq_bits=6, train_size=160, nprobe=4)
    index = tmp_path / "index"
    options = {"splitter": splitter, "progress": False, "batch_size": 40, "commit_every": 5}
    report, chunks = ray_ingest(docs, index, embedder, actors=2, store=factory, **options)
    assert chunks == report.chunks_added > 160 and report.commits >= 2

    manifest = read_manifest(index)
    assert manifest is not None and manifest["store"].endswith("ivfpq:IVFPQStore")
    store = load_store(index, manifest)
    assert isinstance(store, IVFPQStore) and store.trained and len(store) == chunks
    assert isinstance(faiss.downcast_index(store._index), faiss.IndexIVFPQ)
    assert store._index.ntotal == chunks and store._index.is_trained
    texts = {doc.id: doc.text for doc in store.get(store.ids())}
    hits = store.search(embedder.embed_batch(list(texts.values())), 1)
    found = [row[0].id for row in hits]
    assert found == list(texts)  # each chunk's own text finds it first

    # the local path continues the trained index: only the new file is split and embedded
    (docs / "new.txt").write_text("A harbor lantern signal at the quartz meadow.", "utf-8")
    again = Ingestor(index, embedder, splitter, progress=False).ingest(docs)
    assert again.files_added == ["new.txt"] and len(again.files_unchanged) == 24
    assert again.embedded == 1 and again.chunks_deleted == 0
    reopened = IVFPQStore.load(index / "store")
    assert (reopened.pq_m, reopened.pq_bits, reopened.train_size) == (32, 6, 160)
    assert reopened.trained and len(reopened) == chunks + 1
    assert reopened.search(embedder.embed_batch([texts[found[0]]]), 1)[0][0].id == found[0]


def test_splitting_on_workers_refuses_what_cannot_travel(ray_cluster: Any, tmp_path: Path) -> None:
    from agentkit.retrievers.loaders.text import TextLoader
    from agentkit.retrievers.splitters import Splitter
    from agentkit.scale import RayPreparer, ivf_store, ray_ingest

    docs = make_docs(tmp_path / "docs", 2)
    custom = {".txt": TextLoader()}
    with pytest.raises(SpecError, match=r"loader for '.txt'.*load_on_workers=False"):
        ray_ingest(
            docs, tmp_path / "a", HashingEmbedder(), actors=1, loaders=custom, load_on_workers=True
        )
    # by default custom loaders load on the driver (what `agentkit ingest --loader` does)
    report, chunks = ray_ingest(docs, tmp_path / "b", HashingEmbedder(), actors=1, loaders=custom)
    assert chunks > 0 and report.files_added == ["doc0.txt", "doc1.txt"]

    class Halves(Splitter):  # no spec: cannot travel
        def split_text(self, text: str) -> list[str]:
            return [text[: len(text) // 2], text[len(text) // 2 :]]

        def to_dict(self) -> dict[str, Any]:
            return {"type": "halves"}

    with pytest.raises(SpecError, match="splitter"):
        ray_ingest(docs, tmp_path / "c", HashingEmbedder(), actors=1, splitter=Halves())
    for bad in ({"files_per_task": 0}, {"window": 0}, {"cpus_per_task": float("nan")}):
        with pytest.raises(UsageError, match="must be"):
            RayPreparer(**bad)  # type: ignore[arg-type]
    for wrong in ({"pq_m": -1}, {"pq_bits": 20, "pq_m": 8}, {"train_size": 10}, {"nlist": 0}):
        with pytest.raises(UsageError, match="must be"):
            ivf_store(**wrong)  # type: ignore[arg-type]
    # PQ sub-quantizers that do not divide the embedder's dimension: refused before embedding
    with pytest.raises(UsageError, match="pq_m must divide the dimension 64"):
        ray_ingest(docs, tmp_path / "d", HashingEmbedder(64), actors=1, store=ivf_store(pq_m=7))
    assert not (tmp_path / "d" / "store").exists()
