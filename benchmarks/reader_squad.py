"""The fine-tuned span reader on SQuAD (v1.1 or v2.0 format, gzipped or not).

Each question of the articles NOT used for training (the 13 training articles of SQuAD
v1.1 dev are skipped) is read with its gold paragraph as the only document: ``exact_match``
and ``f1`` with the official normalisation (v2.0 files: the official v2.0 rules, and
``HasAns_exact``, ``HasAns_f1``, ``NoAns_exact``), ``questions_per_s``,
``answer_right_paragraph`` (share answered on the gold paragraph) and
``abstain_wrong_paragraph`` (share abstained when the question is paired with a paragraph of
another article; the threshold was chosen on the training articles only). The sentence
reader (the untrained fallback) reads the same questions in the same run: ``ratio_f1``.

``--open``: open-domain, each question answered from the top 5 paragraphs of hybrid retrieval
(BM25 + MiniLM) over all the file's paragraphs (2,067 for v1.1 dev): ``open_em``, ``open_f1``
(``--open-sample N``: on the first N sampled questions only).
When no reader is registered, the default one is trained first (a fresh checkout can run it).
``--quick``: 150 questions. A full run writes ``benchmarks/results/reader.json``, with the
reader's training card (time, steps, settings).

Run: ``.venv/bin/python benchmarks/reader_squad.py --dataset PATH [--sample N] [--seed S]
[--open] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402

from agentkit.evals.metrics.squad import squad_scores  # noqa: E402
from agentkit.finetune.reader_data import (  # noqa: E402
    TRAIN_ARTICLES,
    SpanExample,
    load_squad,
    squad_examples,
)
from agentkit.finetune.reader_eval import sample, score_pairs, summary  # noqa: E402

SQUAD = ROOT.parent / "shared" / "data" / "squad-v1.1-dev" / "dev-v1.1.json.gz"
QUICK, FULL, OPEN_K = 150, 1000, 5


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=SQUAD, help="SQuAD-format file")
    parser.add_argument("--sample", type=int, default=None, help="questions (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--open", action="store_true", help="also the open-domain setting")
    parser.add_argument("--open-sample", type=int, default=None, help="--open on the first N")
    parser.add_argument("--quick", action="store_true", help="150 questions, no results file")
    parser.add_argument("--reader", default=None, help="a reader name or folder")
    return parser.parse_args(argv)


def ensure_reader(name: str | None) -> Path:
    """The reader's folder; trains the default reader when none is registered."""
    from agentkit.finetune.reader_registry import ReaderRegistry

    if name:
        return ReaderRegistry().resolve(name)
    found = ReaderRegistry().find()
    if found is not None:
        return found
    from agentkit.finetune.reader import ReaderJob, train_reader

    print("no reader registered: training the default one first", file=sys.stderr, flush=True)
    return train_reader(ReaderJob(data=str(SQUAD))).output


def scored(predictions: Sequence[str], examples: Sequence[SpanExample], v2: bool) -> dict[str, Any]:
    """EM/F1 (x 100) with the official rules, and the v2.0 HasAns/NoAns breakdown."""
    rows = {"all": [], "HasAns": [], "NoAns": []}  # type: dict[str, list[tuple[float, float]]]
    for text, example in zip(predictions, examples, strict=True):
        golds = example.answers if example.answerable else ()
        em, f1 = squad_scores(text, golds, v2)
        rows["all"].append((em, f1))
        rows["HasAns" if example.answerable else "NoAns"].append((em, f1))
    out: dict[str, Any] = {}
    for key, em_key, f1_key in (("all", "exact_match", "f1"), ("HasAns", "HasAns_exact",
                                "HasAns_f1"), ("NoAns", "NoAns_exact", "NoAns_f1")):  # fmt: skip
        if rows[key] and (key == "all" or v2):
            n = len(rows[key])
            out[em_key] = round(100 * sum(r[0] for r in rows[key]) / n, 2)
            out[f1_key] = round(100 * sum(r[1] for r in rows[key]) / n, 2)
    return out


def sentence_baseline(examples: Sequence[SpanExample], v2: bool) -> dict[str, Any]:
    from agentkit.readers import SentenceReader
    from agentkit.retrievers.embeddings import default_embedder

    reader = SentenceReader(default_embedder())
    reader.read("warm up", ["The model loads here."])  # not timed
    started = time.perf_counter()
    texts = [reader.read(e.question, [e.context]).text for e in examples]
    seconds = time.perf_counter() - started
    return {**scored(texts, examples, v2), "questions_per_s": round(len(examples) / seconds, 1)}


def open_domain(folder: Path, dataset: Path, examples: Sequence[SpanExample]) -> dict[str, Any]:
    from agentkit.evals.suites import squad_retriever
    from agentkit.readers.default import span_reader

    retriever = squad_retriever(dataset, k=OPEN_K, cache_dir=ROOT / ".cache")
    reader = span_reader(folder)
    reader.read("warm up", retriever.invoke("warm up"))  # loading is not timed
    started = time.perf_counter()
    texts, hits = [], 0
    for e in examples:
        docs = retriever.invoke(e.question)
        hits += any(d.text == e.context for d in docs)
        texts.append(reader.read(e.question, docs).text)
    seconds = time.perf_counter() - started
    found = scored(texts, examples, any(not x.answerable for x in examples))
    return {
        "open_em": found["exact_match"],
        "open_f1": found["f1"],
        "open_questions": len(examples),
        "open_recall_at_5": round(hits / max(1, len(examples)), 4),
        "open_questions_per_s": round(len(examples) / seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    folder = ensure_reader(args.reader)
    from agentkit.readers import SpanReader

    articles = load_squad(args.dataset)
    held_out = squad_examples(articles, exclude=set(TRAIN_ARTICLES))
    n = args.sample or (QUICK if args.quick else FULL)
    chosen = sample(held_out, n, args.seed)
    v2 = any(not e.answerable for e in chosen)
    reader = SpanReader(folder)
    reader.load()  # not timed
    pairs = score_pairs(reader, chosen, negatives=True, seed=args.seed)
    rates = summary(pairs, reader.threshold, len(chosen) * 2)
    ordered = [pairs.predictions[e.id] for e in chosen]
    result: dict[str, Any] = {
        "benchmark": "reader_squad",
        "dataset": args.dataset.name,
        "questions": len(chosen),
        "held_out_articles": len({e.title for e in held_out}),
        **scored(ordered, chosen, v2),
        "questions_per_s": rates["questions_per_s"],
        "answer_right_paragraph": rates["answer_right_paragraph"],
        "abstain_wrong_paragraph": rates.get("abstain_wrong_paragraph"),
        "threshold": reader.threshold,
    }
    baseline = sentence_baseline(chosen, v2)
    result["sentence_reader"] = baseline
    result["ratio_f1"] = round(result["f1"] / max(baseline["f1"], 1e-9), 2)
    result["ratio_exact_match"] = round(
        result["exact_match"] / max(baseline["exact_match"], 1e-9), 2
    )
    if args.open:
        result.update(open_domain(folder, args.dataset, chosen[: args.open_sample]))
    card = training_card(folder)
    if card:
        result["training"] = card
    result["targets"] = {"f1": 58, "exact_match": 43, "open_em": 35,
                         "abstain_wrong_paragraph": 0.9, "answer_right_paragraph": 0.9}  # fmt: skip
    emit(result, "reader", args.quick or (args.sample is not None and args.sample < FULL))
    return 0


def training_card(folder: Path) -> dict[str, Any]:
    """The reader's training card and, when it continued training another reader of this
    machine (``--base``), every run it descends from, oldest first, with the total time."""
    keys = ("train_seconds", "train_cpu_seconds", "loop_seconds", "steps", "settings", "data",
            "load_average", "held_out", "threshold", "base_model")  # fmt: skip
    runs: list[dict[str, Any]] = []
    at: Path | None = folder
    while at is not None and (at / "manifest.json").exists() and len(runs) < 50:
        manifest = json.loads((at / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("kind") != "reader":
            break
        runs.append(manifest)
        base = Path(str(manifest.get("base_model", "")))
        at = base if base != at and (base / "reader.json").exists() else None
    if not runs:
        return {}
    card = {k: runs[0][k] for k in keys if k in runs[0]}
    if len(runs) > 1:
        card["runs"] = [
            {"train_seconds": m.get("train_seconds"), "steps": m.get("steps"),
             "learning_rate": m["settings"].get("learning_rate"),
             "freeze_layers": m["settings"].get("freeze_layers"),
             "held_out": m.get("held_out")}
            for m in reversed(runs)
        ]  # fmt: skip
        card["total_train_seconds"] = round(sum(m.get("train_seconds", 0) for m in runs), 1)
    return card


if __name__ == "__main__":
    raise SystemExit(main())
