"""What a fine-tuning run does: :class:`SFTJob`, :class:`DPOJob` and :class:`EmbeddingJob`.

Jobs are plain dataclasses, checked when built, written into the run's manifest, and read
from YAML by the CLI (``agentkit finetune sft --config job.yaml``), where unknown keys are
rejected with the allowed ones listed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from agentkit.core.errors import SpecError, UsageError
from agentkit.finetune.encode import TRUNCATION_SIDES

METHODS = ("lora", "qlora", "full")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")
MINERS = ("bm25", "dense", "none")
J = TypeVar("J", bound="_Job")


@dataclass
class LoraOptions:
    """LoRA settings; ``target_modules=None`` picks the architecture's defaults."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | None = None

    def __post_init__(self) -> None:
        _positive("lora.r", self.r, int)
        _positive("lora.alpha", self.alpha, int)
        _fraction("lora.dropout", self.dropout)
        if self.target_modules is not None and (
            not isinstance(self.target_modules, list)
            or not all(isinstance(m, str) and m for m in self.target_modules)
        ):
            raise UsageError(
                f"lora.target_modules must be a list of module names (e.g. ['q_proj', "
                f"'v_proj']) or null for the defaults, got {self.target_modules!r}"
            )


@dataclass
class _Job:
    """Fields shared by every job."""

    data: str
    output: str
    base: str
    name: str | None = None
    format: str | None = None
    eval_data: str | None = None
    test_size: float = 0.0
    seed: int = 0
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 8
    gradient_accumulation: int = 1
    learning_rate: float = 2e-4
    lr_scheduler: str = "linear"
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    logging_steps: int = 10
    save_steps: int = 200
    save_total_limit: int = 2
    device: str | None = None

    def __post_init__(self) -> None:
        for key in ("data", "output", "base"):
            value = getattr(self, key)
            if isinstance(value, os.PathLike):
                setattr(self, key, os.fspath(value))
            elif not isinstance(value, str) or not value:
                raise UsageError(f"{key} must be a non-empty string (a path), got {value!r}")
        if self.eval_data is not None:
            self.eval_data = os.fspath(self.eval_data)
        if not 0 <= self.test_size < 1:
            raise UsageError(f"test_size must be in [0, 1), got {self.test_size!r}")
        if self.eval_data is not None and self.test_size:
            raise UsageError("give eval_data or test_size, not both")
        _positive("epochs", self.epochs, (int, float))
        if not isinstance(self.max_steps, int) or self.max_steps == 0 or self.max_steps < -1:
            raise UsageError(f"max_steps must be -1 (use epochs) or > 0, got {self.max_steps!r}")
        for key in ("batch_size", "gradient_accumulation", "logging_steps", "save_steps"):
            _positive(key, getattr(self, key), int)
        _positive("save_total_limit", self.save_total_limit, int)
        _positive("learning_rate", self.learning_rate, (int, float))
        _fraction("warmup_ratio", self.warmup_ratio)
        if not isinstance(self.weight_decay, int | float) or self.weight_decay < 0:
            raise UsageError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        _choice("lr_scheduler", self.lr_scheduler, SCHEDULERS)

    @property
    def output_path(self) -> Path:
        return Path(self.output).expanduser()

    @property
    def run_name(self) -> str:
        """The registry name: ``name``, else the output folder's name."""
        return self.name or self.output_path.resolve().name

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[J], data: Mapping[str, Any], where: str = "$") -> J:
        """Build from a mapping (e.g. parsed YAML); unknown keys raise :class:`SpecError`."""
        if not isinstance(data, Mapping):
            raise SpecError(where, f"a {cls.__name__} config must be a mapping")
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise SpecError(f"{where}.{key}", "unknown option", names)
        values = dict(data)
        if "lora" in values and not isinstance(values["lora"], Mapping | None):
            raise SpecError(f"{where}.lora", "must be a mapping of LoRA options")
        if "lora" in values and isinstance(values["lora"], Mapping):
            lora_names = {f.name for f in dataclasses.fields(LoraOptions)}
            for key in values["lora"]:
                if key not in lora_names:
                    raise SpecError(f"{where}.lora.{key}", "unknown option", lora_names)
            values["lora"] = LoraOptions(**values["lora"])
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        missing = [k for k in required if k not in values]
        if missing:
            raise SpecError(where, f"missing required option(s): {', '.join(missing)}")
        try:
            return cls(**values)
        except SpecError:
            raise
        except (UsageError, TypeError) as e:  # a bad value: say which file holds it
            raise SpecError(where, str(e)) from e


def read_config(path: Path) -> dict[str, Any]:
    """The options in a job YAML file, or a :class:`SpecError` naming the file."""
    import yaml

    if not path.is_file():
        raise UsageError(f"config file {path} does not exist; check the path")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, yaml.YAMLError) as e:  # bad UTF-8, huge ints
        raise SpecError(str(path), f"not valid YAML: {' '.join(str(e).split())}") from e
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SpecError(str(path), "must be a mapping of job options")
    bad = [k for k in loaded if not isinstance(k, str)]
    if bad:
        raise SpecError(str(path), f"option names must be strings, got {bad[0]!r}")
    return loaded


@dataclass
class _CausalJob(_Job):
    """Options of SFT and DPO (causal LMs)."""

    method: str = "lora"
    lora: LoraOptions = field(default_factory=LoraOptions)
    max_length: int = 1024
    truncation_side: str = "right"
    system: str | None = None
    chat_template: str | None = None
    gradient_checkpointing: bool = False
    bf16: bool | None = None
    trust_remote_code: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        _choice("method", self.method, METHODS)
        if not isinstance(self.lora, LoraOptions):
            raise UsageError(f"lora must be LoraOptions(...), got {self.lora!r}")
        _positive("max_length", self.max_length, int)
        _choice("truncation_side", self.truncation_side, TRUNCATION_SIDES)


@dataclass
class SFTJob(_CausalJob):
    """Supervised fine-tuning with trl's ``SFTTrainer``.

    ``method``: ``"lora"`` (an adapter), ``"qlora"`` (an adapter over 4-bit weights, CUDA
    only) or ``"full"`` (all weights; writes a whole model). ``completion_only_loss`` takes
    the loss on the assistant replies only; ``packing`` packs examples into
    ``max_length``-token rows.
    """

    packing: bool = False
    completion_only_loss: bool = True


@dataclass
class DPOJob(_CausalJob):
    """Direct preference optimisation with trl's ``DPOTrainer`` on ``prompt``/``chosen``/
    ``rejected`` pairs, from the base model or from an SFT ``adapter`` (a registered name
    or folder) that training continues. Truncation keeps the start of each sequence."""

    adapter: str | None = None
    beta: float = 0.1
    loss_type: str = "sigmoid"
    learning_rate: float = 5e-5

    def __post_init__(self) -> None:
        super().__post_init__()
        _positive("beta", self.beta, (int, float))
        if self.truncation_side != "right":
            raise UsageError(
                "DPO truncates the end of long sequences (trl keeps their start); leave "
                "truncation_side='right' or shorten the prompts"
            )
        if self.adapter is not None and self.method == "full":
            raise UsageError("method='full' trains all weights; it cannot start from an adapter")


@dataclass
class EmbeddingJob(_Job):
    """Embedding fine-tuning with sentence-transformers and the multiple-negatives ranking
    loss on (query, passage) pairs, with ``negatives`` hard negatives per pair mined from
    ``corpus`` (a JSONL of ``text`` records, optional ``id``) by ``mine_with``.
    ``base=""`` means the bundled all-MiniLM-L6-v2. ``max_seq_length`` truncates texts while
    training (``None``: the base model's limit); the saved model keeps the base's limit."""

    base: str = ""
    corpus: str | None = None
    negatives: int = 1
    mine_with: str = "bm25"
    skip_top: int = 0
    max_seq_length: int | None = None
    scale: float = 20.0
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1

    def __post_init__(self) -> None:
        if not self.base:
            self.base = "sentence-transformers/all-MiniLM-L6-v2"
        super().__post_init__()
        if self.corpus is not None:
            self.corpus = os.fspath(self.corpus)
        if not isinstance(self.negatives, int) or self.negatives < 0:
            raise UsageError(f"negatives must be an integer >= 0, got {self.negatives!r}")
        if not isinstance(self.skip_top, int) or self.skip_top < 0:
            raise UsageError(f"skip_top must be an integer >= 0, got {self.skip_top!r}")
        _choice("mine_with", self.mine_with, MINERS)
        if self.max_seq_length is not None:
            _positive("max_seq_length", self.max_seq_length, int)
        _positive("scale", self.scale, (int, float))
        if self.batch_size < 2:
            raise UsageError("batch_size must be >= 2: in-batch passages are the negatives")


def _positive(key: str, value: Any, types: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, types) or value <= 0:
        raise UsageError(f"{key} must be a positive number, got {value!r}")


def _fraction(key: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise UsageError(f"{key} must be in [0, 1), got {value!r}")


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UsageError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
