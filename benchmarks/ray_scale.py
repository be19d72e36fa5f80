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


def run_evals(n: int) -> tuple[float, float, bool]:
    from agentkit.evals.metrics import build_metrics
    from agentkit.evals.runner import EvalRunner
    from agentkit.scale import RayEvalExecutor, metrics_spec

    chain, _, dataset = eval_rows(n)
    names = "em,f1,contains"
    local = EvalRunner(chain, build_metrics(names), concurrency=64, keep_spans=True)
    asyncio.run(local.run(dataset, None))  # warm
    start = time.perf_counter()
    local_run = asyncio.run(local.run(dataset, None))
    local_s = time.perf_counter() - start
    options = {"concurrency": 32, "keep_spans": True}
    with RayEvalExecutor(chain, metrics_spec(names), options, actors=2, batch=32) as executor:
        remote = EvalRunner(chain, build_metrics(names), concurrency=128)
        asyncio.run(remote.run(dataset, None, execute=executor))  # warm
        start = time.perf_counter()
        ray_run = asyncio.run(remote.run(dataset, None, execute=executor))
        ray_s = time.perf_counter() - start

    def key(run: Any) -> list[Any]:
        return [(r["id"], r["prediction"]["text"], r["scores"]) for r in run.records]

    return local_s, ray_s, key(local_run) == key(ray_run)


def main() -> None:
    args = parse_args(__doc__ or "")
    n_texts, n_rows = (256, 1000) if args.quick else (1024, 5000)
    import numpy as np
    import torch

    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder
    from agentkit.scale import RayEmbedder, connected

    torch.set_num_threads(2)
    items = texts(n_texts)
    local = SentenceTransformerEmbedder()
    local.embed_batch(items[:64])  # load and warm
    start = time.perf_counter()
    with connected("local", num_cpus=2) as ray:
        ray_start_s = time.perf_counter() - start
        with RayEmbedder(SentenceTransformerEmbedder(), actors=2) as pooled:
            pooled.embed_batch(items[:128])  # warm both actors
            # rounds interleaved, so that load from other processes hits both alike
            local_parts, ray_parts, local_s, ray_s = [], [], 0.0, 0.0
            for start in range(0, n_texts, ROUND):
                part = items[start : start + ROUND]
                vectors, seconds = embed(local, part, 64)
                local_parts.append(vectors)
                local_s += seconds
                vectors, seconds = embed(pooled, part, 128)  # 64 per actor, as ray_ingest
                ray_parts.append(vectors)
                ray_s += seconds
            local_vectors, ray_vectors = np.vstack(local_parts), np.vstack(ray_parts)
        data_s = embed_ray_data(ray, items) if not args.quick else None
        eval_local_s, eval_ray_s, same_scores = run_evals(n_rows)
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
        "results_identical": same_vectors and same_scores,
    }
    emit(result, "ray_scale", args.quick)


if __name__ == "__main__":
    main()
