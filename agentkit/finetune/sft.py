"""Supervised fine-tuning with trl's ``SFTTrainer``: LoRA, QLoRA or all weights.

``train_sft(SFTJob(base=..., data="train.jsonl", output="runs/support-v1"))`` validates the
data, tokenises it with the base model's chat template (loss on the replies), trains, saves
the adapter (or model) with a manifest, and registers it: ``HFChatModel.from_adapter(name)``
or the ``adapter:<name>`` model spec then use it in any chain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.finetune.data import Example, TrainingData, load_data
from agentkit.finetune.encode import Encoded, check_chat_template, encode_examples
from agentkit.finetune.jobs import SFTJob
from agentkit.finetune.models import Loaded, load_job_model, lora_config
from agentkit.finetune.registry import AdapterRegistry
from agentkit.finetune.runs import Progress, RunResult, TrainingRun, training_arguments

SFT_FORMATS = ("qa", "alpaca", "prompt_completion", "messages", "text")


def load_sft_data(job: SFTJob) -> tuple[TrainingData, list[Example], list[Example]]:
    """Validate the job's data (and eval data): (data, train, test). Fails before any model
    loads."""
    data = load_data(job.data, job.format, allowed=SFT_FORMATS)
    if job.eval_data is not None:
        evaluation = load_data(job.eval_data, data.format, allowed=(data.format,))
        return data, list(data.examples), list(evaluation.examples)
    train, test = data.split(job.test_size, job.seed)
    return data, train, test


def train_sft(
    job: SFTJob,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    registry: AdapterRegistry | None = None,
) -> RunResult:
    """Run supervised fine-tuning; returns the run (its folder, name and manifest).

    Args:
        resume: continue from the newest checkpoint in ``job.output``.
        progress: called with run events (see :data:`agentkit.finetune.runs.Progress`).
        registry: where to register the result (default: the user's adapter registry).
    """
    data, train, test = load_sft_data(job)
    run = TrainingRun.start(job, resume, progress)
    try:
        from trl import SFTConfig, SFTTrainer
    except ImportError as e:
        raise missing_dependency("trl", "finetune", "supervised fine-tuning") from e
    loaded = load_job_model(job)
    if data.format != "text":
        check_chat_template(loaded.tokenizer, job.chat_template, job.base)
    train_rows, dropped = _encode(loaded, job, data.format, train)
    eval_rows, _ = _encode(loaded, job, data.format, test)
    args = training_arguments(
        SFTConfig,
        run.output,
        job,
        loaded.bf16,
        rows=None if job.packing else len(train_rows),
        max_length=job.max_length,
        packing=job.packing,
        eval_strategy="epoch" if eval_rows else "no",
        dataset_num_proc=None,
    )
    peft_config = lora_config(loaded.model, job.lora) if job.method != "full" else None
    rows = [vars(r) for r in train_rows], [vars(r) for r in eval_rows]
    trainer = chat_trainer(SFTTrainer, run, loaded, args, *rows, peft_config)
    run.train(trainer)
    counts = {"train": len(train_rows), "eval": len(eval_rows), "dropped_by_truncation": dropped}
    registry = registry if registry is not None else AdapterRegistry()
    return finish(run, trainer.model, loaded, job, "sft", data, counts, registry)


def _encode(
    loaded: Loaded, job: SFTJob, format: str, examples: list[Example]
) -> tuple[list[Encoded], int]:
    if not examples:
        return [], 0
    rows, dropped = encode_examples(
        loaded.tokenizer,
        examples,
        format,
        max_length=job.max_length,
        truncation_side=job.truncation_side,
        chat_template=job.chat_template,
        system=job.system,
        completion_only_loss=job.completion_only_loss,
    )
    if not rows:
        raise UsageError(
            f"max_length={job.max_length} with truncation_side={job.truncation_side!r} leaves no "
            "reply tokens in any record; raise max_length or use truncation_side='left'"
        )
    return rows, dropped


def chat_trainer(
    trainer_class: Any,
    run: TrainingRun,
    loaded: Loaded,
    args: Any,
    train: list[dict[str, Any]],
    test: list[dict[str, Any]],
    peft_config: Any,
) -> Any:
    """A trl trainer (``SFTTrainer``, ``DPOTrainer``) of the loaded model on ``train`` rows,
    with the eval loss on ``test`` rows (when there are any) and the run's callbacks."""
    from datasets import Dataset

    return trainer_class(
        model=loaded.model,
        args=args,
        train_dataset=Dataset.from_list(train),
        eval_dataset=Dataset.from_list(test) if test else None,
        processing_class=loaded.tokenizer,
        peft_config=peft_config,
        callbacks=run.callbacks(),
    )


def finish(
    run: TrainingRun,
    model: Any,
    loaded: Loaded,
    job: Any,
    method: str,
    data: TrainingData,
    counts: dict[str, int],
    registry: AdapterRegistry,
    extra: dict[str, Any] | None = None,
) -> RunResult:
    """Save the adapter (or, for ``method='full'``, the model and tokenizer) into the run
    folder, write its manifest (with ``extra``) and register it; returns the run."""
    full = job.method == "full"

    def write(folder: Path) -> None:
        if not full:
            model.save_pretrained(str(folder), selected_adapters=["default"])
            return
        model.save_pretrained(str(folder), safe_serialization=True)
        if job.chat_template is not None:  # the saved model chats as it was trained
            loaded.tokenizer.chat_template = job.chat_template
        loaded.tokenizer.save_pretrained(str(folder))

    run.save(write)
    manifest = {
        "kind": "model" if full else "lora_adapter",
        "method": method,
        "name": job.run_name,
        "base_model": loaded.ref,
        "chat_template": job.chat_template,
        "data": {**data.summary(), **counts},
        "hyperparameters": job.to_dict(),
        "device": loaded.device,
        "bf16": loaded.bf16,
        **(extra or {}),
    }
    return run.finish(manifest, registry)
