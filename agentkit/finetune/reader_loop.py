"""The training loop of a span reader: windows labelled with their answer tokens (the first
token for "no answer"), length-grouped batches padded per batch, the embeddings and lower
layers frozen, AdamW with linear warm-up and decay; progress events carry an ETA. With a
time budget the planned steps shrink to those that fit (re-estimated as it runs) and the
learning-rate schedule follows, so a budgeted run still decays to zero."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentkit.finetune.runs import Progress
from agentkit.readers.features import Feature, encode_pairs, span_labels

if TYPE_CHECKING:
    from agentkit.finetune.reader import ReaderJob
    from agentkit.finetune.reader_data import SpanExample

LOG_EVERY = 10
FIT_EVERY = 5  # steps between two estimates of how many steps fit in the time budget


def labelled_windows(
    tokenizer: Any, examples: Sequence[SpanExample], job: ReaderJob
) -> list[tuple[Feature, int, int]]:
    """Every window with its (start, end) token labels. A negative keeps one window."""
    out: list[tuple[Feature, int, int]] = []
    for negative in (False, True):
        chosen = [e for e in examples if e.answerable != negative]
        features = encode_pairs(
            tokenizer,
            [e.question for e in chosen],
            [e.context for e in chosen],
            max_length=job.max_length,
            stride=job.stride,
            max_windows=1 if negative else None,
        )
        for f in features:
            e = chosen[f.pair]
            start, end = span_labels(f, e.answer_start, e.answer_start + len(e.answer_text))
            out.append((f, start, end))
    return out


def length_batches(lengths: Sequence[int], size: int, seed: int) -> list[list[int]]:
    """Batches of similar lengths (shuffled pools of 50 batches, each sorted by length),
    in random order: little padding, still random."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches: list[list[int]] = []
    pool = size * 50
    for at in range(0, len(order), pool):
        chunk = sorted(order[at : at + pool], key=lambda i: lengths[i])
        batches += [chunk[j : j + size] for j in range(0, len(chunk), size)]
    rng.shuffle(batches)
    return batches


def use_bf16(precision: str) -> bool:
    """bf16 autocast for ``precision`` (``auto``: when the CPU computes bf16 natively, which
    costs about a third less CPU time per step than fp32)."""
    import torch

    if precision != "auto":
        return precision == "bf16"
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def freeze_lower(model: Any, layers: int) -> int:
    """Freeze the embeddings and the first ``layers`` encoder layers; returns how many
    encoder layers were frozen."""
    base = getattr(model, "base_model", model)
    embeddings = getattr(base, "embeddings", None)
    if embeddings is None:
        embeddings = model.get_input_embeddings()
    for p in embeddings.parameters():
        p.requires_grad_(False)
    stack = getattr(getattr(base, "encoder", None), "layer", None)
    if stack is None or layers == 0:
        return 0
    n = min(layers, len(stack) - 1)
    for layer in list(stack)[:n]:
        for p in layer.parameters():
            p.requires_grad_(False)
    return n


class Plan:
    """The planned number of steps (shrunk to a time budget as it runs) and the linear
    warm-up and decay learning-rate factor that follows it."""

    def __init__(self, total: int, warmup_ratio: float, budget_s: float = 0.0) -> None:
        self.planned = self.total = total
        self.warmup_ratio = warmup_ratio
        self.budget_s = budget_s

    def factor(self, step: int) -> float:
        warm = int(self.total * self.warmup_ratio)
        if step < warm:
            return (step + 1) / (warm + 1)
        return max(0.0, (self.total - step) / max(1, self.total - warm))

    def fit(self, step: int, elapsed_s: float) -> int:
        """Shrink (never grow past the plan) the total to the steps that fit in the budget at
        the speed so far; returns it."""
        if self.budget_s > 0 and step > 0 and step % FIT_EVERY == 0:
            fits = int(self.budget_s / (elapsed_s / step))
            self.total = max(step + 1, min(self.planned, fits))
        if self.budget_s > 0 and elapsed_s >= self.budget_s:
            self.total = step
        return self.total


def run_epochs(
    model: Any,
    tokenizer: Any,
    examples: Sequence[SpanExample],
    job: ReaderJob,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place; returns steps, window counts and the loss history."""
    import torch

    from agentkit.readers.features import pad_batch

    windows = labelled_windows(tokenizer, examples, job)
    lengths = [len(f.input_ids) for f, _, _ in windows]
    per_epoch = math.ceil(len(windows) / job.batch_size)
    planned = job.max_steps if job.max_steps > 0 else max(1, math.ceil(per_epoch * job.epochs))
    plan = Plan(planned, job.warmup_ratio, job.time_budget)
    frozen = freeze_lower(model, job.freeze_layers)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=job.learning_rate, weight_decay=job.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, plan.factor)
    total = plan.total
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    bf16 = use_bf16(job.precision)
    emit = progress or (lambda event: None)
    emit({"event": "start", "step": 0, "total_steps": total})
    model.train()
    history: list[dict[str, Any]] = []
    step, running, started, epoch = 0, 0.0, time.perf_counter(), 0
    while step < total:
        for batch_ids in length_batches(lengths, job.batch_size, job.seed + epoch):
            if step >= total:
                break
            batch = pad_batch([windows[i][0] for i in batch_ids], pad)
            starts = torch.tensor([windows[i][1] for i in batch_ids])
            ends = torch.tensor([windows[i][2] for i in batch_ids])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = model(**batch, start_positions=starts, end_positions=ends).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            running += float(loss.detach())
            elapsed = time.perf_counter() - started
            total = plan.fit(step, elapsed)
            eta = elapsed / step * (total - step)
            emit({"event": "step", "step": step, "total_steps": total, "eta_s": round(eta, 1)})
            if step % LOG_EVERY == 0 or step == total:
                count = step % LOG_EVERY or LOG_EVERY
                row = {"step": step, "epoch": round(step / per_epoch, 3), "loss": running / count}
                history.append(row)
                running = 0.0
                emit({"event": "log", **row, "eta_s": round(eta, 1)})
        epoch += 1
    negatives = sum(1 for e in examples if not e.answerable)
    return {
        "steps": step,
        "planned_steps": plan.planned,
        "windows": len(windows),
        "negatives": negatives,
        "frozen_layers": frozen,
        "bf16": bf16,
        "history": history,
        "seconds": round(time.perf_counter() - started, 1),
    }
