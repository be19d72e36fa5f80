"""What every fine-tuning run shares: the output folder (checkpoints, resume), the trainer
callback that records the loss and reports progress, and the manifest; :class:`TrainingRun`
strings them together for the trainers (SFT, DPO, embeddings).

A run's folder holds the trained adapter or model, ``manifest.json`` (written last, so its
presence marks a finished run) and ``checkpoints/`` (for ``resume=True``).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.core.spec import atomic_write_text
from agentkit.finetune.registry import MANIFEST_FILE

CHECKPOINTS = "checkpoints"
Progress = Callable[[dict[str, Any]], None]
"""Receives run events: ``{"event": "start", "total_steps"}``, ``{"event": "step", "step",
"total_steps"}``, ``{"event": "log", "step", "epoch", "loss" | "eval_loss", ...}`` and
``{"event": "end"}``."""
_PACKAGES = (
    "agentkit",
    "torch",
    "transformers",
    "peft",
    "trl",
    "datasets",
    "accelerate",
    "sentence-transformers",
)


@dataclass
class RunResult:
    """A finished run: its folder, registry name and manifest."""

    output: Path
    name: str
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def train_losses(self) -> list[float]:
        return [row["loss"] for row in self.manifest.get("history", {}).get("train", [])]

    @property
    def eval_losses(self) -> list[float]:
        return [row["eval_loss"] for row in self.manifest.get("history", {}).get("eval", [])]


@dataclass
class TrainingRun:
    """One run of a transformers-style trainer, from the checked folder to the registered
    result: ``run = TrainingRun.start(job, resume, progress)``, build the trainer with
    ``callbacks=run.callbacks()``, then ``run.train(trainer)``, ``run.save(write)`` and
    ``run.finish(manifest, registry)``."""

    output: Path
    name: str
    checkpoint: str | None  # the checkpoint it resumes from
    progress: Progress | None = None
    history: Any = None  # the loss-recording callback, once made
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def start(cls, job: Any, resume: bool, progress: Progress | None = None) -> TrainingRun:
        """Check ``job.output_path`` (see :func:`prepare_output`) and start the clock."""
        checkpoint = prepare_output(job.output_path, resume)
        return cls(job.output_path, job.run_name, checkpoint, progress)

    def callbacks(self) -> list[Any]:
        """The trainer callbacks: the one recording the loss and reporting progress."""
        self.history = history_callback(self.progress)
        return [self.history]

    def train(self, trainer: Any) -> None:
        """Train quietly (progress goes to the history), resuming from the checkpoint."""
        quiet(trainer)
        trainer.train(resume_from_checkpoint=self.checkpoint)

    def save(self, write: Callable[[Path], None]) -> None:
        """``write`` the final files into a staging folder, then publish them into the run
        folder (see :func:`publish`); when ``write`` fails, the staging folder goes."""
        staged = staging(self.output)
        try:
            write(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        publish(staged, self.output)

    def finish(self, manifest: Mapping[str, Any], registry: Any) -> RunResult:
        """Write the manifest with the loss history, the checkpoint resumed from and the
        seconds taken; register the run in ``registry``; returns it."""
        history = self.history
        losses = {"train": history.train, "eval": history.eval} if history is not None else {}
        written = write_manifest(
            self.output,
            {
                **manifest,
                "history": losses,
                "resumed_from": self.checkpoint,
                "seconds": round(time.perf_counter() - self.started, 1),
            },
        )
        registry.register(self.name, self.output, written)
        return RunResult(self.output, self.name, written)


def prepare_output(output: Path, resume: bool) -> str | None:
    """Check the run folder; returns the checkpoint to resume from, if any."""
    if (output / MANIFEST_FILE).exists():
        raise UsageError(
            f"{output} holds a finished run (it has {MANIFEST_FILE}); choose a new output folder"
        )
    checkpoint = last_checkpoint(output / CHECKPOINTS)
    if checkpoint and not resume:
        raise UsageError(
            f"{output} has checkpoints of an unfinished run; pass resume=True (--resume) to "
            "continue it, or choose a new output folder"
        )
    leftovers = output.exists() and (
        not output.is_dir() or any(p.name != CHECKPOINTS for p in output.iterdir())
    )
    if leftovers and not resume:
        raise UsageError(f"{output} exists and is not empty; choose a new output folder")
    output.mkdir(parents=True, exist_ok=True)
    return checkpoint


def last_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` folder under ``folder`` (or ``None``)."""
    if not folder.is_dir():
        return None
    steps = [
        (int(p.name.split("-")[1]), p)
        for p in folder.iterdir()
        if p.is_dir() and p.name.startswith("checkpoint-") and p.name.split("-")[1].isdigit()
    ]
    return str(max(steps)[1]) if steps else None


def training_arguments(
    args_class: type, output: Path, job: Any, bf16: bool, rows: int | None = None, **extra: Any
) -> Any:
    """The ``TrainingArguments`` subclass instance for ``job``; ``extra`` adds or overrides
    options. With the number of training ``rows`` known, a run shorter than ``save_steps``
    writes no checkpoint (its final weights are saved anyway)."""
    import dataclasses

    import torch

    use_cpu = (job.device or "").startswith("cpu")
    options: dict[str, Any] = {
        "output_dir": str(output / CHECKPOINTS),
        "num_train_epochs": float(job.epochs),
        "max_steps": job.max_steps,
        "per_device_train_batch_size": job.batch_size,
        "per_device_eval_batch_size": job.batch_size,
        "gradient_accumulation_steps": job.gradient_accumulation,
        "learning_rate": float(job.learning_rate),
        "lr_scheduler_type": job.lr_scheduler,
        "warmup_steps": float(job.warmup_ratio),
        "weight_decay": float(job.weight_decay),
        "logging_steps": job.logging_steps,
        "logging_first_step": True,
        "save_strategy": "steps" if _checkpoints_needed(job, rows) else "no",
        "save_steps": job.save_steps,
        "save_total_limit": job.save_total_limit,
        "seed": job.seed,
        "data_seed": job.seed,
        "bf16": bf16,
        "fp16": False,
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": torch.cuda.is_available() and not use_cpu,
        "use_cpu": use_cpu,
    }
    checkpointing = getattr(job, "gradient_checkpointing", None)
    if checkpointing is not None:  # transformers >= 5.x calls it activation checkpointing
        names = {f.name for f in dataclasses.fields(args_class)}
        key = "activation_checkpointing" if "activation_checkpointing" in names else None
        options[key or "gradient_checkpointing"] = checkpointing
    options.update(extra)
    return args_class(**options)


def _checkpoints_needed(job: Any, rows: int | None) -> bool:
    if job.max_steps > 0:
        return bool(job.max_steps > job.save_steps)
    if rows is None:
        return True
    per_epoch = math.ceil(rows / (job.batch_size * job.gradient_accumulation))
    return math.ceil(per_epoch * job.epochs) > job.save_steps


def history_callback(progress: Progress | None = None) -> Any:
    """A ``TrainerCallback`` collecting ``.train`` and ``.eval`` loss rows and calling
    ``progress`` with run events."""
    try:
        from transformers import TrainerCallback
    except ImportError as e:
        raise missing_dependency("transformers", "finetune", "fine-tuning") from e

    class History(TrainerCallback):
        def __init__(self) -> None:
            self.train: list[dict[str, Any]] = []
            self.eval: list[dict[str, Any]] = []

        def _emit(self, event: dict[str, Any]) -> None:
            if progress is not None:
                progress(event)

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._emit(
                {"event": "start", "total_steps": state.max_steps, "step": state.global_step}
            )

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._emit({"event": "step", "step": state.global_step, "total_steps": state.max_steps})

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            logs = dict(logs or {})
            row = {"step": state.global_step, "epoch": round(float(state.epoch or 0), 4)}
            if "loss" in logs:
                self.train.append({**row, "loss": float(logs["loss"])})
            if "eval_loss" in logs:
                self.eval.append({**row, "eval_loss": float(logs["eval_loss"])})
            numbers = {k: v for k, v in logs.items() if isinstance(v, int | float)}
            self._emit({"event": "log", **row, **numbers})

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._emit({"event": "end", "step": state.global_step})

    return History()


def quiet(trainer: Any) -> None:
    """Stop a trainer printing its log dicts (progress goes to the history callback)."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (and Python)."""
    import importlib.metadata

    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def staging(output: Path) -> Path:
    """A temporary folder beside ``output`` to save final files into before publishing."""
    return Path(tempfile.mkdtemp(dir=output, prefix=".final-", suffix=".tmp"))


def publish(staged: Path, output: Path) -> None:
    """Move every file of ``staged`` into ``output`` (each with one rename), then drop it."""
    try:
        for item in staged.iterdir():
            target = output / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def write_manifest(output: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``manifest.json`` (atomically), adding ``created`` and ``versions``."""
    data = dict(manifest)
    data.setdefault("created", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    data.setdefault("versions", versions())
    atomic_write_text(output / MANIFEST_FILE, json.dumps(data, indent=2, default=str) + "\n")
    return data
