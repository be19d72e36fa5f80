"""Embedding fine-tuning: sentence-transformers with the multiple-negatives ranking loss
on (query, passage) pairs plus hard negatives mined from the current index.

``train_embeddings(EmbeddingJob(data="pairs.jsonl", corpus="corpus.jsonl", output=...))``
saves a sentence-transformers folder with a manifest and registers it as an embedder, which
a retriever then uses by name: ``registered_embedder("name")``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.finetune.data import Example, TrainingData, load_data
from agentkit.finetune.embedder_registry import EmbedderRegistry
from agentkit.finetune.jobs import EmbeddingJob
from agentkit.finetune.mining import build_index, load_corpus, mine_hard_negatives
from agentkit.finetune.runs import Progress, RunResult, TrainingRun, training_arguments

if TYPE_CHECKING:
    from agentkit.retrievers.document import Document

_DEFAULT_NAMES = ("sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2")


def resolve_embedding_model(base: str, registry: EmbedderRegistry | None = None) -> str:
    """A local folder for ``base``: the bundled MiniLM, a folder, a registered embedder, or a
    hub id already in the local cache."""
    if base in _DEFAULT_NAMES:
        from agentkit.retrievers.embeddings import bundled_model_path

        return bundled_model_path()
    if Path(base).expanduser().is_dir():
        return str(Path(base).expanduser().resolve())
    registry = registry if registry is not None else EmbedderRegistry()
    if base in registry:
        return str(registry.resolve(base))
    try:
        from huggingface_hub import snapshot_download

        return str(snapshot_download(base, local_files_only=True))
    except Exception as e:
        raise UsageError(
            f"embedding model {base!r} is not a folder, a registered embedder, or a model in the "
            "local Hugging Face cache; pass a local folder (or leave base empty for the bundled "
            "all-MiniLM-L6-v2)"
        ) from e


def train_embeddings(
    job: EmbeddingJob,
    *,
    pairs: Sequence[Mapping[str, Any]] | None = None,
    corpus: Sequence[Document] | None = None,
    retriever: Any = None,
    resume: bool = False,
    progress: Progress | None = None,
    registry: EmbedderRegistry | None = None,
) -> RunResult:
    """Fine-tune an embedding model and register it.

    Args:
        job: the run's settings (``job.data`` is a JSONL of ``query``/``passage`` pairs).
        pairs: in-memory pairs instead of reading ``job.data`` (which then only names them).
        corpus: documents to mine negatives from (default: ``job.corpus``).
        retriever: the current index to mine with (default: one built over ``corpus`` with
            ``job.mine_with`` and the base model).
        resume: continue from the newest checkpoint in ``job.output``.
    """
    registry = registry if registry is not None else EmbedderRegistry()
    data = _pairs(job, pairs)
    train, test = _split(job, data)
    run = TrainingRun.start(job, resume, progress)
    model_path = resolve_embedding_model(job.base, registry)
    docs = list(corpus) if corpus is not None else (load_corpus(job.corpus) if job.corpus else [])
    if job.negatives and retriever is None and job.mine_with != "none":
        if not docs:
            raise UsageError(
                "hard negatives need a corpus (job.corpus or corpus=...) or the current index "
                "(retriever=...); or set negatives=0 / mine_with='none'"
            )
        retriever = build_index(docs, job.mine_with, model_path)
    if job.mine_with == "none":
        retriever = None
    has_given = any(e.get("negative") for e in data.examples)
    use_negatives = job.negatives if retriever is not None or has_given else 0
    try:
        from datasets import Dataset
        from sentence_transformers import (
            SentenceTransformer,
            SentenceTransformerTrainer,
            SentenceTransformerTrainingArguments,
        )
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
        from sentence_transformers.sentence_transformer.training_args import BatchSamplers
    except ImportError as e:
        raise missing_dependency(
            "sentence-transformers", "finetune", "embedding fine-tuning"
        ) from e

    def dataset(examples: list[Example]) -> Any:
        records = [dict(e.data) for e in examples]
        table = _columns(records, retriever, use_negatives, job.skip_top, docs, job.seed)
        return Dataset.from_dict(table)

    train_set, eval_set = dataset(train), (dataset(test) if test else None)
    device = job.device
    model = SentenceTransformer(model_path, device=device, local_files_only=True)
    inference_length = model.max_seq_length
    if job.max_seq_length is not None:
        model.max_seq_length = job.max_seq_length
    args = training_arguments(
        SentenceTransformerTrainingArguments,
        run.output,
        job,
        bf16=False,
        rows=len(train),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="epoch" if eval_set is not None else "no",
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        loss=MultipleNegativesRankingLoss(model, scale=float(job.scale)),
        callbacks=run.callbacks(),
    )
    run.train(trainer)
    model.max_seq_length = inference_length
    run.save(lambda folder: model.save(str(folder)))
    manifest = {
        "kind": "embedder",
        "method": "embeddings",
        "name": job.run_name,
        "base_model": job.base,
        "base_model_path": model_path,
        "data": {**data.summary(), "train": len(train), "eval": len(test)},
        "corpus": {
            "documents": len(docs),
            "mined_with": job.mine_with if use_negatives and retriever is not None else None,
        },
        "negatives_per_pair": use_negatives,
        "loss": "MultipleNegativesRankingLoss",
        "hyperparameters": job.to_dict(),
    }
    return run.finish(manifest, registry)


def _pairs(job: EmbeddingJob, pairs: Sequence[Mapping[str, Any]] | None) -> TrainingData:
    if pairs is None:
        return load_data(job.data, format="pairs", allowed=("pairs",))
    from agentkit.finetune.data import from_records

    return from_records(pairs, format="pairs", allowed=("pairs",), source=job.data)


def _split(job: EmbeddingJob, data: TrainingData) -> tuple[list[Example], list[Example]]:
    if job.eval_data is not None:
        evaluation = load_data(job.eval_data, format="pairs", allowed=("pairs",))
        return list(data.examples), list(evaluation.examples)
    return data.split(job.test_size, job.seed)


def _columns(
    records: list[dict[str, Any]],
    retriever: Any,
    negatives: int,
    skip_top: int,
    docs: Sequence[Document],
    seed: int,
) -> dict[str, list[str]]:
    """The loss's columns: anchor, positive, then ``negatives`` columns (a pair's own
    ``negative`` texts first, then mined ones, then random passages if still short)."""
    table = {"anchor": [r["query"] for r in records], "positive": [r["passage"] for r in records]}
    if not negatives:
        return table
    mined = (
        mine_hard_negatives(records, retriever, negatives=negatives, skip_top=skip_top)
        if retriever is not None
        else [[] for _ in records]
    )
    pools = [_given_negatives(r) + m for r, m in zip(records, mined, strict=True)]
    fill = _filler(records, docs, seed)
    for i in range(negatives):
        table[f"negative_{i + 1}"] = [
            pool[i] if len(pool) > i else fill(r) for pool, r in zip(pools, records, strict=True)
        ]
    return table


def _given_negatives(record: Mapping[str, Any]) -> list[str]:
    value = record.get("negative")
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _filler(records: list[dict[str, Any]], docs: Sequence[Document], seed: int) -> Any:
    """Random non-positive passages for pairs the index gave too few negatives."""
    pool = [d.text for d in docs] or [r["passage"] for r in records]
    rng = random.Random(seed)

    def pick(record: Mapping[str, Any]) -> str:
        for _ in range(20):
            text = rng.choice(pool)
            if text.strip() != record["passage"].strip():
                return text
        raise UsageError("too few distinct passages to draw negatives from; add documents")

    return pick
