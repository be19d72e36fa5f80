"""Eval throughput: the harness at concurrency 32 vs the classic sequential QA-eval loop.

A RAG-shaped chain (``RetrievalQA``: a keyword retriever stand-in, the stuff prompt, a fake
model that waits 100 ms per call, a string parser) answers 200 questions (``--quick``: 64).

- ``sequential_s``: the classic QA-eval pattern, a ``for`` loop calling ``chain.invoke`` on
  each question and scoring the answers afterwards (exact match);
- ``harness_s``: ``agentkit.evals.run_eval`` at concurrency 32 with everything on: a tracer
  per example, the fsynced journal, results, summary and the HTML report.

Both must give the same exact-match score. ``speedup`` = sequential_s / harness_s
(target >= 15). Run: ``.venv/bin/python benchmarks/eval_throughput.py [--quick]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, parse_args

LATENCY = 0.1
CONCURRENCY = 32
TARGET = 15.0
CITIES = ["Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi", "Tokyo", "Quito"]


def corpus() -> list[Any]:
    from agentkit.retrievers.document import Document

    return [
        Document(
            f"Document {i}: the code word of item {i} is {CITIES[i % len(CITIES)]}.", id=f"d{i}"
        )
        for i in range(400)
    ]


def build_chain() -> Any:
    """RetrievalQA over a keyword retriever stand-in and a 100 ms fake model."""
    from agentkit.chains.retrieval_qa import RetrievalQA
    from agentkit.core.compose import Lambda
    from agentkit.llms import FunctionModel

    docs = corpus()

    def retrieve(query: str) -> list[Any]:
        item = query.split("item ")[1].split("?")[0]
        hits = [d for d in docs if f"item {item} " in d.text]
        return hits + docs[:3]

    def answer(messages: Any, params: Any) -> str:
        return messages[-1].content.split(" is ")[1].split(".")[0]

    return RetrievalQA.from_llm(FunctionModel(answer, latency=LATENCY), Lambda(retrieve))


def dataset(n: int) -> Any:
    from agentkit.evals import Dataset, Example

    examples = [
        Example(
            f"q{i}",
            f"What is the code word of item {i}?",
            (CITIES[i % len(CITIES)],),
            relevant_ids=(f"d{i}",),
            category=CITIES[i % len(CITIES)],
        )
        for i in range(n)
    ]
    return Dataset(examples, path="synthetic", sha256="synthetic")


def sequential(chain: Any, data: Any) -> tuple[float, float]:
    """The classic pattern: predict in a loop, then grade the predictions."""
    from agentkit.evals.metrics.squad import exact

    start = time.perf_counter()
    predictions = [chain.invoke({"query": ex.question})["result"] for ex in data]
    em = sum(exact(p, ex.answers[0]) for p, ex in zip(predictions, data, strict=True))
    return time.perf_counter() - start, em / len(data)


def harness(chain: Any, data: Any) -> tuple[float, float]:
    from agentkit.evals import build_metrics, run_eval

    metrics = build_metrics("em,f1,contains,retrieval,latency,tokens")
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        run = run_eval(chain, data, metrics, Path(out) / "run", concurrency=CONCURRENCY)
        took = time.perf_counter() - start
        assert (Path(out) / "run" / "report.html").exists()
    return took, run.summary["metrics"]["em"]


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 64 if args.quick else 200
    chain, data = build_chain(), dataset(n)
    chain.invoke({"query": data.examples[0].question})  # warm up lazy imports
    harness_s, harness_em = harness(chain, data)
    sequential_s, sequential_em = sequential(chain, data)
    if harness_em != sequential_em:
        raise SystemExit(f"the two loops disagree: EM {harness_em} vs {sequential_em}")
    result = {
        "questions": n,
        "model_latency_s": LATENCY,
        "concurrency": CONCURRENCY,
        "sequential_s": round(sequential_s, 3),
        "harness_s": round(harness_s, 3),
        "sequential_qps": round(n / sequential_s, 2),
        "harness_qps": round(n / harness_s, 2),
        "em": harness_em,
        "speedup": round(sequential_s / harness_s, 2),
        "target_speedup": TARGET,
    }
    emit(result, "eval_throughput", args.quick)


if __name__ == "__main__":
    main()
