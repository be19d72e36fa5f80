"""Retrieval quality: BM25, dense (all-MiniLM-L6-v2 + FAISS flat IP) and hybrid retrieval.

BEIR SciFact (test qrels): nDCG@10 for each retriever and recall@100 for dense. With
``--squad``: paragraph top-1/5/20 accuracy on the SQuAD v1.1 dev closed corpus. With
``--tune``: the fusion grid on the SciFact *train* qrels that chose HybridRetriever's
defaults. ``--quick``: BM25 on the full corpus, dense and hybrid on a subsample (50 test
queries over their relevant abstracts plus random distractors, 200 abstracts in all).

Metrics follow BEIR / pytrec_eval (trec_eval): nDCG@k with the qrels' graded relevance as
linear gain, a log2(rank + 1) discount and the ideal DCG from the qrels; a run is ordered by
score descending, ties by document id descending. Recall@k counts relevant (> 0) documents.

Embeddings are cached in ``.cache/`` at the repository root, so warm runs skip the model.
``--backend`` picks the encoder (``auto``: the CPU default of
:mod:`agentkit.retrievers.embeddings.backend`; ``torch``, ``torch-bf16``, ``onnx``,
``onnx-int8``); all but int8 share torch's cache entries (same model id), so measure each
with a fresh ``--cache-dir``.
Run: ``.venv/bin/python benchmarks/retrieval_quality.py [--quick] [--squad] [--tune]
[--backend B] [--cache-dir DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402

from agentkit.retrievers.bm25 import BM25Retriever  # noqa: E402
from agentkit.retrievers.document import Document  # noqa: E402
from agentkit.retrievers.embeddings.backend import BACKENDS  # noqa: E402
from agentkit.retrievers.hybrid import HybridRetriever, convex_scores, rrf_scores  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SCIFACT = DATA / "scifact-beir"
SQUAD = DATA / "squad-v1.1-dev" / "dev-v1.1.json.gz"
CACHE = [ROOT / ".cache"]  # the embedding cache folder (--cache-dir changes it)
BACKEND = ["auto"]  # the encoder (--backend changes it)
Qrels = dict[str, dict[str, int]]
Run = dict[str, list[tuple[str, float]]]  # query id -> [(doc id, score)]


# --- data ------------------------------------------------------------------------------


def require(path: Path) -> Path:
    if not path.exists():
        raise SystemExit(f"{path} is absent: this benchmark reads ../shared/data beside the repo")
    return path


def load_scifact() -> tuple[list[Document], dict[str, str]]:
    """(abstracts as Documents with text = title + " " + text, {query id: query})."""
    docs = []
    with gzip.open(require(SCIFACT / "corpus.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = f"{row.get('title', '')} {row['text']}".strip()
            docs.append(Document(text, id=str(row["_id"])))
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as fh:
        queries = {str(r["_id"]): r["text"] for r in map(json.loads, fh)}
    return docs, queries


def load_qrels(split: str) -> Qrels:
    qrels: Qrels = {}
    with open(require(SCIFACT / "qrels" / f"{split}.tsv"), encoding="utf-8") as fh:
        rows = csv.reader(fh, delimiter="\t")
        next(rows)  # query-id corpus-id score
        for qid, did, score in rows:
            qrels.setdefault(qid, {})[did] = int(score)
    return qrels


def load_squad() -> tuple[list[Document], list[tuple[str, str]]]:
    """(one Document per paragraph, [(question, id of its paragraph)])."""
    with gzip.open(require(SQUAD), "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    docs: list[Document] = []
    questions: list[tuple[str, str]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            pid = f"p{len(docs)}"
            docs.append(Document(paragraph["context"], id=pid))
            questions.extend((qa["question"], pid) for qa in paragraph["qas"])
    return docs, questions


# --- metrics ---------------------------------------------------------------------------


def trec_order(ranked: Sequence[tuple[str, float]]) -> list[str]:
    """Doc ids as trec_eval ranks them: score descending, then doc id descending."""
    return [d for d, _ in sorted(ranked, key=lambda x: (x[1], x[0]), reverse=True)]


def ndcg_at_k(run: Run, qrels: Qrels, k: int = 10) -> float:
    """Mean nDCG@k over the queries of ``qrels`` (a query with no results scores 0)."""
    total = 0.0
    for qid, rels in qrels.items():
        ranked = trec_order(run.get(qid, []))[:k]
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked))
        ideal = sorted((g for g in rels.values() if g > 0), reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        total += dcg / idcg if idcg > 0 else 0.0
    return total / len(qrels)


def recall_at_k(run: Run, qrels: Qrels, k: int = 100) -> float:
    total = 0.0
    for qid, rels in qrels.items():
        relevant = {d for d, g in rels.items() if g > 0}
        total += len(set(trec_order(run.get(qid, []))[:k]) & relevant) / max(len(relevant), 1)
    return total / len(qrels)


def top_n(ranked: list[list[str]], gold: list[str], n: int) -> float:
    return 100.0 * sum(g in r[:n] for r, g in zip(ranked, gold, strict=True)) / len(gold)


# --- retrievers ------------------------------------------------------------------------


def embedder() -> Any:
    from agentkit.retrievers.embeddings import CachedEmbedder, SentenceTransformerEmbedder

    inner = SentenceTransformerEmbedder(backend=BACKEND[0], cache_dir=ROOT / ".cache")
    return CachedEmbedder(inner, cache_dir=CACHE[0])


def dense_retriever(docs: list[Document], emb: Any, k: int) -> Any:
    """MiniLM vectors in an exact inner-product FAISS index, embedded in cached chunks."""
    from agentkit.retrievers.vector import VectorRetriever
    from agentkit.retrievers.vectorstores import FaissStore

    dense = VectorRetriever(emb, FaissStore(emb.dimension, metric="ip", index="flat"), k=k)
    for start in range(0, len(docs), 512):  # chunks: an interrupted cold run keeps its work
        dense.add_documents(docs[start : start + 512])
    return dense


def run_of(retriever: Any, queries: dict[str, str]) -> Run:
    return {q: [(d.id, float(d.score)) for d in retriever.invoke(t)] for q, t in queries.items()}


def timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, round(time.perf_counter() - start, 2)


# --- SciFact ---------------------------------------------------------------------------


def quick_subsample(docs: list[Document], qrels: Qrels) -> tuple[list[Document], Qrels]:
    chosen = dict(sorted(qrels.items())[:50])
    keep = {d for rels in chosen.values() for d in rels}
    rest = [d.id for d in docs if d.id not in keep]
    keep |= set(random.Random(0).sample(rest, 200 - len(keep)))
    return [d for d in docs if d.id in keep], chosen


def scifact(quick: bool) -> dict[str, Any]:
    docs, queries = load_scifact()
    test = load_qrels("test")
    bm25, t_bm25_index = timed(lambda: BM25Retriever(docs, k=100))
    test_queries = {q: queries[q] for q in test}
    bm25_run, t_bm25 = timed(run_of, bm25, test_queries)
    out: dict[str, Any] = {"ndcg10_bm25": round(ndcg_at_k(bm25_run, test), 4)}
    sub_docs, sub_qrels = quick_subsample(docs, test) if quick else (docs, test)
    emb = embedder()
    dense, t_dense_index = timed(dense_retriever, sub_docs, emb, 100)
    sub_queries = {q: queries[q] for q in sub_qrels}
    emb.embed_batch(list(sub_queries.values()))  # one batch fills the cache for the queries
    dense_run, t_dense = timed(run_of, dense, sub_queries)
    sub_bm25 = BM25Retriever(sub_docs, k=100) if quick else bm25
    hybrid = HybridRetriever([sub_bm25, dense], k=10)
    hybrid_run, t_hybrid = timed(run_of, hybrid, sub_queries)
    out.update(
        ndcg10_dense=round(ndcg_at_k(dense_run, sub_qrels), 4),
        ndcg10_hybrid=round(ndcg_at_k(hybrid_run, sub_qrels), 4),
        recall100_dense=round(recall_at_k(dense_run, sub_qrels, 100), 4),
        hybrid_setting=describe(hybrid),
        seconds_scifact={
            "bm25_index": t_bm25_index,
            "bm25_queries": t_bm25,
            "dense_index": t_dense_index,
            "dense_queries": t_dense,
            "hybrid_queries": t_hybrid,
        },
    )
    if quick:
        out["quick_setting"] = (
            f"BM25 on the full corpus; dense and hybrid on {len(sub_qrels)} test queries over "
            f"{len(sub_docs)} abstracts (their relevant ones + random distractors)"
        )
        out["ndcg10_bm25_subsample"] = round(ndcg_at_k(run_of(sub_bm25, sub_queries), sub_qrels), 4)
    return out


def describe(h: HybridRetriever) -> dict[str, Any]:
    return {"fusion": h.fusion, "weights": h.weights, "fetch_k": h.fetch_k, "rrf_k": h.rrf_k}


# --- fusion tuning on the train qrels -------------------------------------------------


def tune() -> dict[str, Any]:
    """Grid over fusion settings on the SciFact train qrels (never the test qrels)."""
    docs, queries = load_scifact()
    train = load_qrels("train")
    emb = embedder()
    bm25 = BM25Retriever(docs, k=200)
    dense = dense_retriever(docs, emb, 200)
    train_queries = {q: queries[q] for q in train}
    emb.embed_batch(list(train_queries.values()))
    bm, dn = run_of(bm25, train_queries), run_of(dense, train_queries)
    grid: list[tuple[float, str, int, float, int | None]] = []
    for fetch in (20, 50, 100, 200):
        for w in (0.3, 0.4, 0.5, 0.6, 0.7):  # the dense weight; BM25 gets 1 - w
            for rk in (1, 5, 20, 60):
                run = {
                    q: list(
                        rrf_scores(
                            [[d for d, _ in bm[q][:fetch]], [d for d, _ in dn[q][:fetch]]],
                            [1 - w, w],
                            rk,
                        ).items()
                    )
                    for q in train
                }
                grid.append((ndcg_at_k(run, train), "rrf", fetch, w, rk))
            run = {
                q: list(convex_scores([bm[q][:fetch], dn[q][:fetch]], [1 - w, w]).items())
                for q in train
            }
            grid.append((ndcg_at_k(run, train), "convex", fetch, w, None))
    grid.sort(key=lambda g: g[0], reverse=True)
    rows = [
        {"ndcg10_train": round(s, 4), "fusion": f, "fetch_k": n, "dense_weight": w, "rrf_k": rk}
        for s, f, n, w, rk in grid[:10]
    ]
    return {
        "train_ndcg10_bm25": round(ndcg_at_k(bm, train), 4),
        "train_ndcg10_dense": round(ndcg_at_k(dn, train), 4),
        "train_top10": rows,
    }


# --- SQuAD -----------------------------------------------------------------------------


def squad() -> dict[str, Any]:
    """Top-n paragraph accuracy. Member results are computed once per question (BM25 per
    query, dense as one batched FAISS search) and fused with ``HybridRetriever.fuse``."""
    docs, questions = load_squad()
    texts, gold = [q for q, _ in questions], [p for _, p in questions]
    emb = embedder()
    bm25, t_index = timed(BM25Retriever, docs)
    dense, t_dense_index = timed(dense_retriever, docs, emb, 100)
    hybrid = HybridRetriever([bm25, dense], k=20)
    depth = max(hybrid.fetch_k, 20)
    start = time.perf_counter()
    bm_docs = [bm25.retrieve(q, depth) for q in texts]
    t_bm25 = time.perf_counter() - start
    start = time.perf_counter()
    vectors = emb.embed_batch(texts)
    hits = dense.store.search(vectors, depth)
    dn_docs = [[h.document.with_score(h.score) for h in row] for row in hits]
    t_dense = time.perf_counter() - start
    k = hybrid.fetch_k
    fused = [hybrid.fuse([b[:k], d[:k]]) for b, d in zip(bm_docs, dn_docs, strict=True)]
    out: dict[str, Any] = {}
    for name, ranked in (("bm25", bm_docs), ("dense", dn_docs), ("hybrid", fused)):
        ids = [[d.id for d in r] for r in ranked]
        out[f"squad_{name}_top1_5_20"] = [round(top_n(ids, gold, n), 1) for n in (1, 5, 20)]
    out["seconds_squad"] = {
        "bm25_index": t_index,
        "dense_index": t_dense_index,
        "bm25_queries": round(t_bm25, 2),
        "dense_queries": round(t_dense, 2),
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="< 45 s even with a cold cache")
    parser.add_argument("--squad", action="store_true", help="add SQuAD v1.1 dev top-n accuracy")
    parser.add_argument("--tune", action="store_true", help="add the fusion grid on train qrels")
    parser.add_argument("--cache-dir", type=Path, default=CACHE[0], help="embedding cache")
    parser.add_argument("--backend", default="auto", choices=BACKENDS, help="the encoder")
    args = parser.parse_args(argv)
    CACHE[0], BACKEND[0] = args.cache_dir, args.backend
    start = time.perf_counter()
    result = {"encoder": embedder().inner.engine, **scifact(args.quick)}
    if args.squad:
        result.update(squad())
    result["seconds_total"] = round(time.perf_counter() - start, 1)
    if args.tune:  # timed apart: it is not part of the < 45 s warm run
        result["tune"], result["seconds_tune"] = timed(tune)
    name = "retrieval_quality" + ("" if args.backend == "auto" else f"_{args.backend}")
    emit(result, name, args.quick)


if __name__ == "__main__":
    main()
