"""Span-reader fine-tuning: a start/end head (``AutoModelForQuestionAnswering``) on an
encoder (the bundled all-MiniLM-L6-v2 by default) trained on SQuAD-format data with
"no answer" negatives, then calibrated and registered.

``train_reader(ReaderJob(data="dev-v1.1.json.gz"))`` trains on the 13 training articles,
holds back a share of their questions to choose the abstention threshold and fit the
confidence, scores a sample of the other articles for the training card, saves the model
(safetensors) with its tokenizer, ``reader.json`` and ``manifest.json``, and registers it.
The defaults are the recipe of the benchmarked reader (three epochs, every encoder layer
trained, windows of 384 tokens, batch 16, lr 5e-5: ~40 minutes on two CPU cores); speed on
CPU comes from dynamic padding over length-sorted batches, bf16 autocast and frozen
embeddings, and ``time_budget`` bounds the run (the plan and the schedule shrink to fit).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.core.spec import atomic_write_text
from agentkit.finetune.reader_data import (
    TRAIN_ARTICLES,
    SpanExample,
    load_squad,
    split_examples,
    squad_examples,
    with_negatives,
)
from agentkit.finetune.reader_registry import DEFAULT_READER, ReaderRegistry, default_reader_root
from agentkit.finetune.runs import Progress, RunResult, prepare_output, publish, staging
from agentkit.finetune.runs import write_manifest as _write_manifest

SHORT_BUDGET: dict[str, Any] = {
    "freeze_layers": 2,
    "learning_rate": 3e-4,
    "negatives": 0.2,
    "batch_size": 32,
    "max_length": 256,
    "stride": 96,
}
"""The settings that read best when training gets only minutes (``time_budget`` of 5 to 8
min; benchmarks/RESULTS.md, "reader"): ``ReaderJob(time_budget=300, **SHORT_BUDGET)``. The
defaults read best given ~40 minutes on two CPU cores."""


@dataclass
class ReaderJob:
    """Settings of a reader run (see ``agentkit finetune reader --help``)."""

    data: str = ""
    base: str = ""  # "" = the bundled all-MiniLM-L6-v2
    output: str = ""  # "" = <cache>/readers/<name>-<time>
    name: str = DEFAULT_READER
    articles: tuple[str, ...] | None = TRAIN_ARTICLES  # None = every article of `data`
    max_length: int = 384
    stride: int = 128
    epochs: float = 3.0
    max_steps: int = 0
    time_budget: float = 0.0  # seconds the training loop may take (0: no limit)
    batch_size: int = 16
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    freeze_layers: int = 0
    negatives: float = 0.3
    precision: str = "auto"  # auto: bf16 autocast on a CPU with bf16 support, else fp32
    held_back: float = 0.05
    eval_questions: int = 300
    seed: int = 0
    threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in ("max_length", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{key} must be an integer >= 1, got {value!r}")
        if self.max_length < 32:
            raise UsageError(f"max_length must be >= 32 tokens, got {self.max_length}")
        if not 0 <= self.stride < self.max_length // 2:
            raise UsageError(f"stride must be in [0, max_length / 2), got {self.stride}")
        if self.epochs <= 0 and self.max_steps <= 0:
            raise UsageError("set epochs > 0 or max_steps > 0")
        if self.learning_rate <= 0:
            raise UsageError(f"learning_rate must be > 0, got {self.learning_rate}")
        if not 0 <= self.held_back < 1:
            raise UsageError(f"held_back must be in [0, 1), got {self.held_back}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise UsageError(f"precision must be auto, bf16 or fp32, got {self.precision!r}")
        if self.freeze_layers < 0 or self.eval_questions < 0 or self.negatives < 0:
            raise UsageError("freeze_layers, eval_questions and negatives must be >= 0")
        if not 0 <= self.time_budget < float("inf"):
            raise UsageError(
                "time_budget must be a number of seconds >= 0 (0: no limit), "
                f"got {self.time_budget!r}"
            )

    def settings(self) -> dict[str, Any]:
        data = asdict(self)
        data["articles"] = list(self.articles) if self.articles is not None else "all"
        return data


def fit_windows(job: ReaderJob, model: Any) -> ReaderJob:
    """``job`` with windows no longer than the encoder's positions."""
    from agentkit.readers.features import fit_window

    max_length, stride = fit_window(job.max_length, job.stride, model)
    return (
        job if max_length == job.max_length else replace(job, max_length=max_length, stride=stride)
    )


def resolve_encoder(base: str) -> str:
    """A local folder for ``base`` (``""``: the bundled all-MiniLM-L6-v2)."""
    if not base or base in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        from agentkit.retrievers.embeddings import bundled_model_path

        return bundled_model_path()
    folder = Path(base).expanduser()
    if not (folder / "config.json").exists():
        raise UsageError(
            f"encoder {base!r} is not a model folder (no config.json); pass a local folder "
            "of a BERT-like encoder, or leave --base empty for the bundled all-MiniLM-L6-v2"
        )
    return str(folder.resolve())


def train_reader(
    job: ReaderJob,
    *,
    examples: Sequence[SpanExample] | None = None,
    held_out: Sequence[SpanExample] | None = None,
    progress: Progress | None = None,
    registry: ReaderRegistry | None = None,
) -> RunResult:
    """Train, calibrate, save and register a span reader.

    Args:
        job: the settings; ``job.data`` is a SQuAD-format file (unless ``examples`` given).
        examples: in-memory training examples instead of ``job.data``.
        held_out: examples to score for the training card (default: up to
            ``job.eval_questions`` questions of ``job.data``'s other articles).
    """
    started = (time.perf_counter(), time.process_time())
    registry = registry if registry is not None else ReaderRegistry()
    train_set, calib, held = job_examples(job, examples, held_out)
    if not any(e.answerable for e in train_set):
        raise UsageError("the training data has no answerable question; check --data/--articles")
    output = Path(job.output).expanduser() if job.output else _default_output(job.name)
    prepare_output(output, resume=False)
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as e:
        raise missing_dependency("transformers", "finetune", "reader fine-tuning") from e

    threads = torch.get_num_threads()
    if job.threads:
        torch.set_num_threads(job.threads)
    try:
        return _train(job, train_set, calib, held, output, registry, progress, started)
    finally:
        torch.set_num_threads(threads)


def _train(
    job: ReaderJob,
    train_set: list[SpanExample],
    calib: list[SpanExample],
    held: list[SpanExample],
    output: Path,
    registry: ReaderRegistry,
    progress: Progress | None,
    started: tuple[float, float],
) -> RunResult:
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from agentkit.finetune.reader_loop import run_epochs

    torch.manual_seed(job.seed)
    base = resolve_encoder(job.base)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    if not getattr(tokenizer, "is_fast", False):
        raise UsageError(f"encoder {base} needs a fast tokenizer (tokenizer.json) for offsets")
    model = AutoModelForQuestionAnswering.from_pretrained(base, local_files_only=True)
    job = fit_windows(job, model)
    loop = run_epochs(model, tokenizer, with_negatives(train_set, job.negatives, job.seed), job,
                      progress)  # fmt: skip
    train_seconds = time.perf_counter() - started[0]
    model.eval()
    staged = staging(output)
    model.save_pretrained(staged)
    tokenizer.save_pretrained(staged)
    config = {
        "max_length": job.max_length,
        "stride": job.stride,
        "max_question_tokens": 64,
        "max_answer_tokens": 30,
    }
    atomic_write_text(staged / "reader.json", json.dumps(config, indent=2) + "\n")
    publish(staged, output)
    from agentkit.finetune.reader_calibrate import calibrate, held_out_scores

    calibration = calibrate(output, calib, job.seed)
    card_scores = held_out_scores(output, held, job.seed)
    manifest = {
        "kind": "reader",
        "base_model": base,
        "data": {
            "file": job.data or "in-memory examples",
            "articles": list(job.articles) if job.articles is not None else "all",
            "train_questions": sum(e.answerable for e in train_set),
            "negatives": loop["negatives"],
            "windows": loop["windows"],
            "held_back_questions": len(calib),
        },
        "steps": loop["steps"],
        "planned_steps": loop["planned_steps"],
        "settings": job.settings(),
        "train_seconds": round(train_seconds, 1),
        "loop_seconds": loop["seconds"],
        "train_cpu_seconds": round(time.process_time() - started[1], 1),
        "load_average": _load(),
        "threshold": calibration["threshold"],
        "calibration": calibration,
        "held_out": card_scores,
        "history": {"train": loop["history"]},
    }
    manifest = _write_manifest(output, manifest)
    registry.register(job.name, output, manifest)
    if progress is not None:
        progress({"event": "end", "step": loop["steps"]})
    return RunResult(output, job.name, manifest)


def job_examples(
    job: ReaderJob, examples: Sequence[SpanExample] | None, held_out: Sequence[SpanExample] | None
) -> tuple[list[SpanExample], list[SpanExample], list[SpanExample]]:
    """(train, held back, held out) examples of ``job``: the training articles' questions split
    by ``job.held_back`` and ``job.seed``, and a sample of the other articles' questions."""
    if examples is None:
        if not job.data:
            raise UsageError(
                "no training data: pass a SQuAD-format file (--data), e.g. "
                "../shared/data/squad-v1.1-dev/dev-v1.1.json.gz"
            )
        articles = load_squad(job.data)
        titles = {str(a.get("title")) for a in articles}
        wanted = job.articles
        if wanted is not None and not titles & set(wanted):
            raise UsageError(
                f"{job.data} has none of the training articles ({', '.join(wanted[:3])}, ...); "
                "pass --articles all to train on every article"
            )
        examples = squad_examples(articles, include=wanted)
        if held_out is None and wanted is not None:
            rest = squad_examples(articles, exclude=set(wanted))
            held_out = random.Random(job.seed).sample(rest, min(len(rest), job.eval_questions))
    train, calib = split_examples(examples, job.held_back, job.seed)
    return train, calib, list(held_out or [])


def _default_output(name: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return default_reader_root() / f"{name}-{stamp}"


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None
