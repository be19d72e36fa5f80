"""Ingestion with ``--executor ray``: the same chunk ids and vectors as the local path,
the same index format, and re-ingestion skips unchanged files exactly as locally."""

from __future__ import annotations

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
    from agentkit.scale import RayEmbedder

    docs = make_docs(tmp_path / "docs")
    local = Ingestor(tmp_path / "local", SentenceTransformerEmbedder(), progress=False)
    local.ingest(docs)
    # one pool (one MiniLM load per actor) serves both runs; ray_ingest wraps the same
    with RayEmbedder(SentenceTransformerEmbedder(), actors=2) as pooled:
        on_ray = Ingestor(tmp_path / "ray", pooled, progress=False, batch_size=128)
        report = on_ray.ingest(docs)
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
        again = Ingestor(tmp_path / "ray", pooled, progress=False, batch_size=128).ingest(docs)
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
