"""Scale-out on Ray: what the Ray executors cost against the same work in process.

- ``ray_start_s``: ``ray.init`` of a local 2-CPU Ray on 127.0.0.1 (``agentkit.scale.connected``).
- Embedding, the bundled MiniLM on the same texts and the same total cores (2), in
  interleaved rounds of 128 texts: in process (torch on 2 threads, batches of 64) vs
  :class:`agentkit.scale.RayEmbedder` (2 actors of 1 CPU, each batch split over them);
  in a full run also the peer, Ray Data's own ``map_batches`` with an actor pool of 2
  (the recipe of Ray's batch-inference docs). Models are loaded and warm before timing.
  ``embed_efficiency`` = ray / local throughput (target >= 0.7).
- ``eval_row_overhead_ms``: per example, what running an eval's examples on 2 warm Ray
  actors adds over the local runner (a chain that answers at once, em/f1/contains):
  (ray wall - local wall) / examples (target <= 1 ms).
- ``results_identical``: the Ray and local runs give the same chunk vectors (1e-5) and the
  same per-example predictions and scores.

Run: ``.venv/bin/python benchmarks/ray_scale.py [--quick]`` (quick < 60 s incl. Ray start).
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, parse_args

ROUND = 128  # texts per interleaved round
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


def texts(n: int) -> list[str]:
    rng = random.Random(0)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 60))) for _ in range(n)]


def warm_local(items: list[str]) -> Any:
    """The in-process MiniLM, loaded and warm."""
    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.embed_batch(items)
    return embedder


def embed(embedder: Any, items: list[str], batch: int) -> tuple[Any, float]:
    import numpy as np

    start = time.perf_counter()
    out = [embedder.embed_batch(items[i : i + batch]) for i in range(0, len(items), batch)]
    return np.vstack(out), time.perf_counter() - start


class _DataEmbed:  # the peer: a Ray Data actor-pool UDF (one model load per actor)
    def __init__(self) -> None:
        from agentkit.retrievers.embeddings import SentenceTransformerEmbedder

        self.embedder = SentenceTransformerEmbedder()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"vector": self.embedder.embed_batch(list(batch["text"]))}


def embed_ray_data(ray: Any, items: list[str]) -> float:
    """Seconds for Ray Data to embed ``items`` (pool started and warmed by a first run)."""

    def run(rows: list[str]) -> float:
        start = time.perf_counter()
        ds = ray.data.from_items([{"text": t} for t in rows]).map_batches(
            _DataEmbed, batch_size=64, concurrency=2, num_cpus=1
        )
        ds.materialize()
        return time.perf_counter() - start

    run(items[:64])  # model download paths, imports
    return run(items)


def eval_rows(n: int) -> tuple[Any, list[Any], Any]:
    from agentkit.core.compose import Lambda
    from agentkit.evals.datasets import Dataset
    from agentkit.evals.records import Example

    examples = [
        Example(id=f"q{i}", question=f"q{i}", answers=(f"q{i}" if i % 2 else f"a{i}",))
        for i in range(n)
    ]
    return Lambda(str), examples, Dataset(examples)


NAMES = "em,f1,contains"


def eval_pool() -> Any:
    """The eval actors (0 CPUs each, so that they start beside the embedding pool)."""
    from agentkit.scale import RayEvalExecutor, metrics_spec

    chain, _, _ = eval_rows(1)
    options = {"concurrency": 32, "keep_spans": True}
    return RayEvalExecutor(
        chain, metrics_spec(NAMES), options, actors=2, cpus_per_actor=0, batch=32
    )


def run_evals(n: int, pool: Any) -> tuple[float, float, bool]:
    from agentkit.evals.datasets import Dataset
    from agentkit.evals.metrics import build_metrics
    from agentkit.evals.runner import EvalRunner

    chain, examples, dataset = eval_rows(n)
    names = NAMES
    local = EvalRunner(chain, build_metrics(names), concurrency=64, keep_spans=True)
    asyncio.run(local.run(Dataset(examples[:50]), None))  # warm
    start = time.perf_counter()
    local_run = asyncio.run(local.run(dataset, None))
    local_s = time.perf_counter() - start
    with pool as executor:  # started already
        remote = EvalRunner(chain, build_metrics(names), concurrency=128)
        asyncio.run(remote.run(Dataset(examples[:100]), None, execute=executor))  # warm
        start = time.perf_counter()
        ray_run = asyncio.run(remote.run(dataset, None, execute=executor))
        ray_s = time.perf_counter() - start

    def key(run: Any) -> list[Any]:
        return [(r["id"], r["prediction"]["text"], r["scores"]) for r in run.records]

    return local_s, ray_s, key(local_run) == key(ray_run)


def ivf_recall(vectors: Any, pq_m: int) -> float:
    """recall@10 of an :class:`IVFPQStore` trained on a sample of ``vectors`` against exact
    search, the vectors themselves as queries."""
    import numpy as np

    from agentkit.retrievers.document import Document
    from agentkit.retrievers.vectorstores import FaissStore
    from agentkit.retrievers.vectorstores.ivfpq import IVFPQStore

    n, d = vectors.shape
    nlist = max(2, n // 128)
    bits = 8 if n >= 1024 else 6
    train = max(39 * nlist, 2**bits if pq_m else 1, n // 2)
    docs = [Document(str(i), id=f"d{i}") for i in range(n)]
    ivf = IVFPQStore(d, nlist=nlist, nprobe=max(1, nlist // 4), pq_m=pq_m, pq_bits=bits,
                     train_size=train)  # fmt: skip
    flat = FaissStore(d, use_gpu=False)
    for i in range(0, n, 256):  # shards, as an ingestion adds them
        ivf.add(docs[i : i + 256], vectors[i : i + 256])
        flat.add(docs[i : i + 256], vectors[i : i + 256])
    assert ivf.trained
    got, want = ivf.search(vectors, 10), flat.search(vectors, 10)
    hits = [len({h.id for h in a} & {h.id for h in b}) / 10 for a, b in zip(got, want, strict=True)]
    return float(np.mean(hits))


def main() -> None:
    args = parse_args(__doc__ or "")
    # quick: 2 rounds of 64 texts, 500 examples, short warm-ups, no Ray Data peer
    n_texts, n_rows, size = (128, 500, 64) if args.quick else (1024, 5000, ROUND)
    import numpy as np
    import torch

    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder
    from agentkit.scale import RayEmbedder, connected

    torch.set_num_threads(2)
    items = texts(n_texts)
    # the in-process model loads while Ray starts (neither is timed against the other)
    loading = ThreadPoolExecutor(1).submit(warm_local, items[:8])
    start = time.perf_counter()
    with connected("local", num_cpus=2) as ray:  # one Ray session for every part
        ray_start_s = time.perf_counter() - start
        pooled, evals = RayEmbedder(SentenceTransformerEmbedder(), actors=2), eval_pool()
        with ThreadPoolExecutor(2) as starting:  # both pools start at once
            list(starting.map(lambda pool: pool.start(), (pooled, evals)))
        local = loading.result()
        with pooled:
            pooled.embed_batch(items[:16])  # warm both actors
            # rounds interleaved, so that load from other processes hits both alike
            local_parts, ray_parts, local_s, ray_s = [], [], 0.0, 0.0
            for start in range(0, n_texts, size):
                part = items[start : start + size]
                vectors, seconds = embed(local, part, 64)
                local_parts.append(vectors)
                local_s += seconds
                vectors, seconds = embed(pooled, part, 128)  # 64 per actor, as ray_ingest
                ray_parts.append(vectors)
                ray_s += seconds
            local_vectors, ray_vectors = np.vstack(local_parts), np.vstack(ray_parts)
        data_s = embed_ray_data(ray, items) if not args.quick else None
        eval_local_s, eval_ray_s, same_scores = run_evals(n_rows, evals)
    same_vectors = bool(np.allclose(local_vectors, ray_vectors, atol=1e-5))
    result = {
        "texts": n_texts,
        "eval_examples": n_rows,
        "ray_start_s": round(ray_start_s, 2),
        "embed_per_s_local": round(n_texts / local_s, 1),
        "embed_per_s_ray": round(n_texts / ray_s, 1),
        "embed_per_s_ray_data": round(n_texts / data_s, 1) if data_s else None,
        "embed_efficiency": round(local_s / ray_s, 3),
        "vs_ray_data": round(data_s / ray_s, 3) if data_s else None,
        "eval_local_ms_per_row": round(eval_local_s / n_rows * 1000, 4),
        "eval_ray_ms_per_row": round(eval_ray_s / n_rows * 1000, 4),
        "eval_row_overhead_ms": round((eval_ray_s - eval_local_s) / n_rows * 1000, 4),
        "ivf_recall_at_10": round(ivf_recall(local_vectors, 0), 3),
        "ivfpq_recall_at_10": round(ivf_recall(local_vectors, 48), 3),
        "results_identical": same_vectors and same_scores,
    }
    emit(result, "ray_scale", args.quick)


if __name__ == "__main__":
    main()
