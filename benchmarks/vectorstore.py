"""Vector store speed: raw FAISS vs ``FaissStore`` vs LangChain's FAISS vs LlamaIndex.

With precomputed random 384-d unit vectors (no embedding model), in one run:
- top-10 latency, single query and a batch of 100, at 10k and 100k vectors: raw FAISS
  (the ``IndexFlatIP`` / ``IndexHNSWFlat`` inside the store searched directly, ids only),
  ``FaissStore`` (documents returned),
  LangChain ``FAISS.similarity_search_by_vector`` (exact; a batch is a loop) and LlamaIndex's
  default ``VectorStoreIndex`` (``SimpleVectorStore.query``; single queries only);
- save size and load time (ours, raw index + text, LangChain ``save_local``);
- ``reingest_speedup``: first ``Ingestor.ingest`` of a generated text corpus (MiniLM
  embedder) / re-ingest of the unchanged corpus.
``--gpu`` adds 1M x 384 exact search with ``TorchStore`` on CUDA (and FAISS GPU when
installed): queries/s at batch 1/64/1024 and the ratio to the memory-bandwidth floor.

Run: ``.venv/bin/python benchmarks/vectorstore.py [--quick] [--gpu]``.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, time_once_s

DIM, K, BATCH = 384, 10, 100
TARGETS = {
    "overhead_vs_faiss": "<= 1.2",
    "speedup_vs_langchain": ">= 1.5",
    "speedup_vs_llamaindex": ">= 10",
    "size_vs_faiss": "<= 1.3",
    "reingest_speedup": ">= 50",
}
WORDS = [
    "alpha", "beta", "gamma", "delta", "river", "stone",
    "cloud", "paper", "light", "engine", "market", "garden",
]  # fmt: skip


def unit_vectors(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def texts_for(n: int) -> list[str]:
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(WORDS), size=(n, 20))
    return [f"doc {i}: " + " ".join(WORDS[j] for j in row) for i, row in enumerate(picks)]


def cycling(fns: dict[str, Callable[[np.ndarray], Any]], queries: np.ndarray) -> dict[str, Any]:
    """No-argument calls that each search the next query, every one through all queries,
    but with offsets: two calls in a row never search the same query (a repeat finds the
    index in cache and runs faster than a real query), and which function follows which
    is not tied to which queries it gets (with 100 queries and 2 functions in rotation,
    one function would otherwise always repeat the even-numbered queries)."""
    out: dict[str, Any] = {}
    for j, (name, fn) in enumerate(fns.items()):
        rows = itertools.cycle(
            np.roll(np.arange(len(queries)), -j * len(queries) // len(fns)).tolist()
        )
        out[name] = lambda fn=fn, rows=rows: fn(queries[next(rows)][None, :])
    return out


def interleaved(fns: dict[str, Callable[[], Any]], calls: int) -> dict[str, list[float]]:
    """Seconds of each call of each function, timing one call of each in turn (in a
    rotating order) so that load from other processes hits all of them alike."""
    for fn in fns.values():
        fn()  # warm-up
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(calls):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return times


def summarise(times: dict[str, list[float]], row: dict[str, Any], mode: str) -> None:
    """Microseconds per call of each function: the lower quartile of its per-call times
    (like ``timeit``'s minimum, robust to preemption by other jobs on a shared machine, and
    less optimistic than the minimum); and the ratio ours/raw of those."""
    for name, ts in times.items():
        row[f"{name}_{mode}"] = float(np.percentile(ts, 25)) * 1e6
    row[f"ratio_{mode}"] = row[f"ours_{mode}"] / row[f"raw_{mode}"]


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(kind: str, vectors: np.ndarray, texts: list[str]) -> tuple[Any, Any, float]:
    """A ``FaissStore`` and its FAISS index (searched directly as "raw FAISS", so that two
    HNSW graphs built separately, which differ in speed by chance, do not count as
    overhead); the seconds ``add`` took."""
    from agentkit.retrievers.document import Document
    from agentkit.retrievers.vectorstores import FaissStore

    ours = FaissStore(DIM, index=kind, hnsw_m=32, ef_search=64)
    docs = [Document(t, id=f"d{i}") for i, t in enumerate(texts)]
    start = time.perf_counter()
    ours.add(docs, vectors)
    seconds = time.perf_counter() - start
    raw = ours._index  # a bare faiss.IndexFlatIP / IndexHNSWFlat, positions == row numbers
    return raw, ours, seconds


def langchain_store(vectors: np.ndarray, texts: list[str]) -> Any:
    from langchain_community.vectorstores import FAISS
    from langchain_community.vectorstores.utils import DistanceStrategy
    from langchain_core.embeddings import Embeddings

    class Precomputed(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("vectors are precomputed")

        def embed_query(self, text: str) -> list[float]:
            raise RuntimeError("vectors are precomputed")

    pairs = list(zip(texts, vectors.tolist(), strict=True))
    return FAISS.from_embeddings(
        pairs, Precomputed(), distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT
    )


def llamaindex_store(vectors: np.ndarray, texts: list[str]) -> Any:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode

    nodes = [
        TextNode(text=t, id_=f"d{i}", embedding=v)
        for i, (t, v) in enumerate(zip(texts, vectors.tolist(), strict=True))
    ]
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=DIM))
    return index.vector_store


def llamaindex_query_us(store: Any, queries: np.ndarray, number: int) -> float:
    from llama_index.core.vector_stores.types import VectorStoreQuery

    times = []
    for q in queries[:number]:  # a query takes a second or more at 100k: a few only
        query = VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=K)
        start = time.perf_counter()
        result = store.query(query)
        times.append(time.perf_counter() - start)
        assert len(result.ids) == K
    return float(np.percentile(times, 25)) * 1e6


def search_bench(n: int, quick: bool, tmp: Path) -> dict[str, Any]:
    """Latencies (us) at ``n`` vectors, and save sizes / load times."""
    import faiss

    from agentkit.retrievers.vectorstores import FaissStore

    vectors, queries = unit_vectors(n, 0), unit_vectors(BATCH, 1)
    texts = texts_for(n)
    text_bytes = sum(len(t.encode()) for t in texts)
    single_calls = 200 if quick else 400  # whole rounds of the 100 queries
    batch_calls = 7 if quick else (15 if n <= 10_000 else 7)
    out: dict[str, Any] = {}
    for kind in ("flat", "hnsw"):
        raw, ours, add_s = build(kind, vectors, texts)
        searches: dict[str, Callable[[np.ndarray], Any]] = {
            "raw": lambda q, raw=raw: raw.search(q, K),
            "ours": lambda q, ours=ours: ours.search(q, K),
        }
        lc = langchain_store(vectors, texts) if kind == "flat" else None
        if lc is not None:
            searches["langchain"] = lambda q, lc=lc: lc.similarity_search_by_vector(
                q[0].tolist(), k=K
            )
        row: dict[str, Any] = {}
        summarise(interleaved(cycling(searches, queries), calls=single_calls), row, "1")
        batch_fns = {
            "raw": lambda raw=raw: raw.search(queries, K),
            "ours": lambda ours=ours: ours.search(queries, K),
        }
        if lc is not None:
            batch_fns["langchain"] = lambda lc=lc: [
                lc.similarity_search_by_vector(q, k=K) for q in queries.tolist()
            ]
        summarise(interleaved(batch_fns, calls=batch_calls), row, "batch")
        row["ours_add_s"] = add_s
        # check that both find the same neighbours (exact: identical ids)
        raw_ids = raw.search(queries[:5], K)[1]
        ours_ids = [[int(h.id[1:]) for h in hits] for hits in ours.search(queries[:5], K)]
        row["same_results_as_raw"] = bool((raw_ids == np.array(ours_ids)).mean() >= 0.99)
        # persistence
        raw_file = tmp / f"raw-{kind}-{n}.faiss"
        faiss.write_index(raw, str(raw_file))
        row["raw_index_mb"] = raw_file.stat().st_size / 1e6
        row["text_mb"] = text_bytes / 1e6
        row["raw_load_s"] = time_once_s(lambda f=raw_file: faiss.read_index(str(f)))
        ours_dir = tmp / f"ours-{kind}-{n}"
        row["ours_save_s"] = time_once_s(lambda o=ours, d=ours_dir: o.save(d))
        row["ours_mb"] = folder_bytes(ours_dir) / 1e6
        row["ours_load_s"] = time_once_s(lambda d=ours_dir: FaissStore.load(d))
        row["size_vs_faiss"] = row["ours_mb"] / (row["raw_index_mb"] + row["text_mb"])
        if lc is not None:
            lc_dir = tmp / f"lc-{n}"
            lc.save_local(str(lc_dir))
            row["langchain_mb"] = folder_bytes(lc_dir) / 1e6
            row["langchain_load_s"] = time_once_s(
                lambda d=lc_dir, lc=lc: type(lc).load_local(
                    str(d), lc.embeddings, allow_dangerous_deserialization=True
                )
            )
        out[kind] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
        del raw, ours, lc
    llama = llamaindex_store(vectors, texts)
    out["flat"]["llamaindex_1"] = round(
        llamaindex_query_us(llama, queries, 5 if n > 10_000 else 20), 1
    )
    return out


def reingest_bench(quick: bool, tmp: Path) -> dict[str, float]:
    """First ingest vs re-ingest of the unchanged corpus, with the default embedder (the
    bundled MiniLM, with an empty embedding cache) — what a user re-running ``agentkit
    ingest`` on the same folder pays."""
    from agentkit.retrievers.embeddings import default_embedder
    from agentkit.retrievers.ingest.ingestor import Ingestor

    files, words_per_file = (20, 150) if quick else (100, 300)
    corpus = tmp / "corpus"
    corpus.mkdir()
    rng = np.random.default_rng(3)
    for i in range(files):
        words = [WORDS[j] for j in rng.integers(0, len(WORDS), size=words_per_file)]
        paragraphs = [" ".join(words[p : p + 60]) + "." for p in range(0, words_per_file, 60)]
        (corpus / f"file{i:04d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    index_dir = tmp / "index"

    def ingest() -> Any:
        embedder = default_embedder(cache_dir=tmp / "embedding-cache")
        return Ingestor(index_dir, embedder=embedder, progress=False).ingest(corpus)

    start = time.perf_counter()
    first = ingest()
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    again = ingest()
    again_s = time.perf_counter() - start
    assert again.embedded == 0 and len(again.files_unchanged) == files, str(again)
    return {
        "files": files,
        "chunks": first.chunks_added,
        "first_ingest_s": round(first_s, 3),
        "reingest_s": round(again_s, 4),
        "reingest_speedup": round(first_s / again_s, 1),
    }


def gpu_bench(n: int = 1_000_000, device: str = "cuda") -> dict[str, Any]:
    """TorchStore (and FAISS GPU when installed) exact search over ``n`` x 384 vectors."""
    import torch

    from agentkit.retrievers.document import Document
    from agentkit.retrievers.vectorstores import FaissStore, TorchStore

    if device == "cuda" and not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    vectors = unit_vectors(n, 0)
    docs = [Document(f"doc {i}", id=f"d{i}") for i in range(n)]
    store = TorchStore(DIM, device=device)
    store.add(docs, vectors)
    matrix_bytes = store._size * DIM * store._matrix.element_size()
    bandwidth = copy_bandwidth(device)
    results: dict[str, Any] = {"n": n, "dtype": store.dtype_name, "bandwidth_gbs": bandwidth / 1e9}
    # "<store>": full search with documents; "<store>_index": the index search alone
    searches: dict[str, Callable[[np.ndarray], Any]] = {
        "torch": lambda q: store.search(q, K),
        "torch_index": lambda q: store._raw_search(q, K, None),
    }
    import faiss

    if device == "cuda" and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
        fstore = FaissStore(DIM, use_gpu=True)
        fstore.add(docs, vectors)
        searches["faiss_gpu"] = lambda q: fstore.search(q, K)
        searches["faiss_gpu_index"] = lambda q: fstore._raw_search(q, K, None)
    for name, search in searches.items():
        bytes_read = matrix_bytes if name.startswith("torch") else n * DIM * 4
        for batch in (1, 64, 1024):
            queries = unit_vectors(batch, 5)
            search(queries)  # warm-up
            sync(device)
            reps = 20 if batch < 1024 else 5
            start = time.perf_counter()
            for _ in range(reps):
                search(queries)
            sync(device)
            per_call = (time.perf_counter() - start) / reps
            floor_s = bytes_read / bandwidth  # one pass over the matrix per call
            results[f"{name}_qps_b{batch}"] = round(batch / per_call, 1)
            results[f"{name}_vs_floor_b{batch}"] = round(per_call / floor_s, 2)
    return results


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def copy_bandwidth(device: str) -> float:
    """Measured device-to-device copy bandwidth, bytes/s (read + write)."""
    import torch

    src = torch.empty(256 * 2**20, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    dst.copy_(src)
    sync(device)
    start = time.perf_counter()
    for _ in range(5):
        dst.copy_(src)
    sync(device)
    return 2 * src.numel() * 5 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k vectors only, < 45 s")
    parser.add_argument("--gpu", action="store_true", help="add 1M x 384 exact search on CUDA")
    args = parser.parse_args()
    sizes = [10_000] if args.quick else [10_000, 100_000]
    tmp = Path(tempfile.mkdtemp(prefix="agentkit-vsbench-"))
    try:
        per_size = {}
        for n in sizes:
            start = time.perf_counter()
            per_size[str(n)] = search_bench(n, args.quick, tmp)
            print(f"{n} ({time.perf_counter() - start:.0f} s): {per_size[str(n)]}", flush=True)
        start = time.perf_counter()
        reingest = reingest_bench(args.quick, tmp)
        print(f"reingest ({time.perf_counter() - start:.0f} s): {reingest}", flush=True)
        gpu = gpu_bench() if args.gpu else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios = [
        rows[kind][f"ratio_{mode}"]
        for rows in per_size.values()
        for kind in ("flat", "hnsw")
        for mode in ("1", "batch")
    ]
    small, large = per_size["10000"]["flat"], per_size[str(sizes[-1])]["flat"]
    result: dict[str, Any] = {
        "overhead_vs_faiss": round(max(ratios), 3),
        # LangChain has no batched search: 100 queries are a loop of single searches there
        "speedup_vs_langchain": round(small["langchain_batch"] / small["ours_batch"], 2),
        "speedup_vs_langchain_single": round(small["langchain_1"] / small["ours_1"], 2),
        "speedup_vs_llamaindex": round(large["llamaindex_1"] / large["ours_1"], 1),
        "llamaindex_at": sizes[-1],
        "size_vs_faiss": round(
            max(rows[kind]["size_vs_faiss"] for rows in per_size.values() for kind in rows), 3
        ),
        "reingest_speedup": reingest["reingest_speedup"],
        "targets": TARGETS,
        "sizes": per_size,
        "reingest": reingest,
    }
    if gpu is not None:
        result["gpu"] = gpu
    emit(result, "vectorstore", args.quick)


if __name__ == "__main__":
    main()
