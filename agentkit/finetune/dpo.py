"""Direct preference optimisation with trl's ``DPOTrainer`` on ``prompt``/``chosen``/
``rejected`` pairs, from the base model or continuing an SFT adapter.

The run's manifest records the mean chosen-minus-rejected log-probability margin on (up to
64 of) the training pairs before and after training, a direct check that DPO moved the
model toward the preferred replies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.finetune.data import Example, TrainingData, load_data
from agentkit.finetune.encode import check_chat_template, encode_chat, truncate
from agentkit.finetune.jobs import DPOJob
from agentkit.finetune.models import load_job_model, lora_config
from agentkit.finetune.registry import AdapterRegistry, trained_chat_template
from agentkit.finetune.runs import Progress, RunResult, TrainingRun, training_arguments
from agentkit.finetune.sft import chat_trainer, finish
from agentkit.finetune.templates import preference_prompt

MARGIN_SAMPLE = 64


def load_dpo_data(job: DPOJob) -> tuple[TrainingData, list[Example], list[Example]]:
    """Validate the preference pairs (and eval pairs): (data, train, test)."""
    data = load_data(job.data, job.format, allowed=("preference",))
    if job.eval_data is not None:
        evaluation = load_data(job.eval_data, "preference", allowed=("preference",))
        return data, list(data.examples), list(evaluation.examples)
    train, test = data.split(job.test_size, job.seed)
    return data, train, test


def preference_margins(
    model: Any,
    tokenizer: Any,
    records: Sequence[Mapping[str, Any]],
    *,
    chat_template: str | None = None,
    system: str | None = None,
    max_length: int | None = None,
) -> list[float]:
    """Per pair: log p(chosen | prompt) - log p(rejected | prompt) under ``model``, summed
    over the reply tokens (the replies rendered by the chat template)."""
    import torch

    def logprob(chat: list[dict[str, str]]) -> float:
        encoded = truncate(encode_chat(tokenizer, chat, chat_template), max_length)
        ids = torch.tensor([encoded.input_ids], device=model.device)
        labels = torch.tensor(encoded.labels[1:], device=model.device)
        logits = model(input_ids=ids).logits[0, :-1].float()
        picked = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])[:, 0]
        return float(picked[labels != -100].sum())

    was_training = model.training
    model.eval()
    margins = []
    with torch.no_grad():
        for record in records:
            prompt = preference_prompt(record, system)
            chosen = logprob([*prompt, {"role": "assistant", "content": record["chosen"]}])
            rejected = logprob([*prompt, {"role": "assistant", "content": record["rejected"]}])
            margins.append(chosen - rejected)
    model.train(was_training)
    return margins


def train_dpo(
    job: DPOJob,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    registry: AdapterRegistry | None = None,
) -> RunResult:
    """Run DPO; returns the run (its folder, name and manifest with the margins). Starting
    from an ``adapter``, the job's chat template defaults to the one it was trained with."""
    registry = registry if registry is not None else AdapterRegistry()
    data, train, test = load_dpo_data(job)
    start_adapter = str(registry.resolve(job.adapter)) if job.adapter else None
    if start_adapter is not None and job.chat_template is None:
        # continue the adapter with the chat template it was trained with
        template = trained_chat_template(start_adapter)
        job = dataclasses.replace(job, chat_template=template) if template else job
    run = TrainingRun.start(job, resume, progress)
    try:
        from trl import DPOConfig, DPOTrainer
    except ImportError as e:
        raise missing_dependency("trl", "finetune", "DPO fine-tuning") from e
    loaded = load_job_model(job)
    check_chat_template(loaded.tokenizer, job.chat_template, job.base)
    if job.chat_template is not None:
        loaded.tokenizer.chat_template = job.chat_template
    peft_config = None
    if start_adapter is not None:
        from peft import PeftModel

        try:
            loaded.model = PeftModel.from_pretrained(loaded.model, start_adapter, is_trainable=True)
        except (RuntimeError, ValueError, KeyError) as e:
            raise UsageError(
                f"adapter {job.adapter!r} does not fit base model {job.base!r} ({e}); use the "
                "base it was trained on"
            ) from e
    elif job.method != "full":
        peft_config = lora_config(loaded.model, job.lora)
    sample = [dict(e.data) for e in train[:MARGIN_SAMPLE]]
    before = _mean(_margins(loaded.model, loaded.tokenizer, sample, job))
    args = training_arguments(
        DPOConfig,
        run.output,
        job,
        loaded.bf16,
        rows=len(train),
        beta=float(job.beta),
        loss_type=[job.loss_type],
        max_length=job.max_length,
        eval_strategy="epoch" if test else "no",
    )
    rows = [_conversation(e, job) for e in train], [_conversation(e, job) for e in test]
    trainer = chat_trainer(DPOTrainer, run, loaded, args, *rows, peft_config)
    run.train(trainer)
    model: Any = trainer.model
    if hasattr(model, "set_adapter") and start_adapter is not None:
        model.set_adapter("default")
    after = _mean(_margins(model, loaded.tokenizer, sample, job))
    counts = {"train": len(train), "eval": len(test)}
    extra = {
        "start_adapter": start_adapter,
        "margin_before": before,
        "margin_after": after,
        "margin_pairs": len(sample),
    }
    return finish(run, model, loaded, job, "dpo", data, counts, registry, extra)


def _conversation(example: Example, job: DPOJob) -> dict[str, Any]:
    return {
        "prompt": preference_prompt(example.data, job.system),
        "chosen": [{"role": "assistant", "content": example["chosen"]}],
        "rejected": [{"role": "assistant", "content": example["rejected"]}],
    }


def _margins(model: Any, tokenizer: Any, sample: list[dict[str, Any]], job: DPOJob) -> list[float]:
    return preference_margins(
        model,
        tokenizer,
        sample,
        chat_template=job.chat_template,
        system=job.system,
        max_length=job.max_length,
    )


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0
