"""Retriever fine-tuning: all-MiniLM-L6-v2 trained on the BEIR SciFact *train* qrels, judged
on the *test* qrels (nDCG@10) before and after, dense alone and hybrid with BM25.

Training pairs are (train query, relevant abstract); each gets one hard negative mined from
the current dense index (the untuned model's, read from the embedding cache in ``.cache/``)
with ``agentkit.finetune.train_embeddings`` (multiple-negatives ranking loss). The tuned
model then re-embeds all 5,183 abstracts. Hybrid is ``HybridRetriever([BM25, dense])`` with
its defaults. Loaders and metrics come from ``benchmarks/retrieval_quality.py``.

Training truncates texts to 128 tokens (the tuned model embeds with MiniLM's 256, like the
base). ``--quick`` is a smoke run (< 45 s): 32 pairs, 2 steps, 30 test queries over 200
abstracts cut to their first 48 words; its figures say nothing about quality.
Run: ``.venv/bin/python benchmarks/finetune_retriever.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402
from retrieval_quality import (  # noqa: E402
    CACHE,
    dense_retriever,
    embedder,
    load_qrels,
    load_scifact,
    ndcg_at_k,
    quick_subsample,
    run_of,
)

from agentkit.retrievers.bm25 import BM25Retriever  # noqa: E402
from agentkit.retrievers.document import Document  # noqa: E402
from agentkit.retrievers.hybrid import HybridRetriever  # noqa: E402

FULL = {"epochs": 1.0, "batch_size": 32, "max_seq_length": 128, "learning_rate": 5e-5}
QUICK = {"max_steps": 2, "batch_size": 8, "max_seq_length": 64, "learning_rate": 5e-5}
QUICK_WORDS = 48  # --quick cuts every abstract to its first words


def training_pairs(
    docs: list[Document], queries: dict[str, str], qrels: dict[str, dict[str, int]]
) -> list[dict[str, str]]:
    text = {d.id: d.text for d in docs}
    return [
        {"query": queries[qid], "passage": text[did], "passage_id": did}
        for qid, rels in sorted(qrels.items())
        for did, grade in sorted(rels.items())
        if grade > 0 and did in text
    ]


def evaluate(retriever: Any, bm25: Any, queries: dict[str, str], qrels: Any) -> dict[str, float]:
    dense_run = run_of(retriever, queries)
    hybrid_run = run_of(HybridRetriever([bm25, retriever], k=10), queries)
    return {"dense": ndcg_at_k(dense_run, qrels), "hybrid": ndcg_at_k(hybrid_run, qrels)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a < 45 s smoke run")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    args = parser.parse_args(argv)
    import torch

    from agentkit.finetune.embedder_registry import EmbedderRegistry
    from agentkit.finetune.embeddings import train_embeddings
    from agentkit.finetune.jobs import EmbeddingJob
    from agentkit.retrievers.embeddings import SentenceTransformerEmbedder

    torch.set_num_threads(args.threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    docs, queries = load_scifact()
    train_qrels, test_qrels = load_qrels("train"), load_qrels("test")
    pairs = training_pairs(docs, queries, train_qrels)
    if args.quick:
        docs, test_qrels = quick_subsample(docs, dict(sorted(test_qrels.items())[:30]))
        docs = [Document(" ".join(d.text.split()[:QUICK_WORDS]), id=d.id) for d in docs]
        pairs = [{**p, "passage": " ".join(p["passage"].split()[:QUICK_WORDS])} for p in pairs[:32]]
    test_queries = {q: queries[q] for q in test_qrels}
    bm25 = BM25Retriever(docs, k=100)
    base = embedder()  # the untuned MiniLM behind the embedding cache
    before_index = dense_retriever(docs, base, 100)
    before = evaluate(before_index, bm25, test_queries, test_qrels)
    t_before = time.perf_counter() - start

    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="finetune_retriever_") as tmp:
        job = EmbeddingJob(
            data="scifact-train-qrels",
            output=os.path.join(tmp, "minilm-scifact"),
            negatives=1,
            mine_with="dense",
            logging_steps=5,
            save_steps=10_000,
            seed=0,
            **settings,  # type: ignore[arg-type]
        )
        t0 = time.perf_counter()
        ends: list[int] = []
        result = train_embeddings(
            job,
            pairs=pairs,
            retriever=before_index,
            registry=EmbedderRegistry(tmp),
            progress=lambda e: ends.append(e["step"]) if e["event"] == "end" else None,
        )
        t_train = time.perf_counter() - t0
        t0 = time.perf_counter()
        tuned = SentenceTransformerEmbedder(str(result.output), batch_size=64)
        after_index = dense_retriever(docs, tuned, 100)
        t_embed = time.perf_counter() - t0
        after = evaluate(after_index, bm25, test_queries, test_qrels)
    losses = result.train_losses
    out: dict[str, Any] = {
        "ndcg10_bm25": round(ndcg_at_k(run_of(bm25, test_queries), test_qrels), 4),
        "ndcg10_hybrid_before": round(before["hybrid"], 4),
        "train_pairs": len(pairs),
        "train_steps": ends[-1] if ends else 0,
        "train_loss_first_last": [round(losses[0], 4), round(losses[-1], 4)] if losses else [],
        "settings": {**settings, "negatives": 1, "mined_with": "dense (untuned MiniLM)"},
        "seconds": {
            "before": round(t_before, 1),
            "train": round(t_train, 1),
            "reembed_corpus": round(t_embed, 1),
            "total": round(time.perf_counter() - start, 1),
            "cpu": round(time.process_time() - cpu_start, 1),
        },
        "threads": args.threads,
        "ndcg10_dense_before": round(before["dense"], 4),
        "ndcg10_dense_after": round(after["dense"], 4),
        "ndcg10_hybrid_after": round(after["hybrid"], 4),
    }
    if args.quick:
        out["quick_setting"] = (
            f"smoke run: {len(pairs)} pairs, {settings['max_steps']} steps; "
            f"{len(test_qrels)} test queries over {len(docs)} abstracts (no quality claim)"
        )
    emit(out, "finetune_retriever", args.quick)


if __name__ == "__main__":
    CACHE[0] = ROOT / ".cache"
    main()
