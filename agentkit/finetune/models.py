"""Loading a causal LM to train: device and precision, 4-bit weights for QLoRA (CUDA only),
and the LoRA configuration with per-architecture target modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentkit.core.errors import UsageError, missing_dependency
from agentkit.finetune.jobs import DPOJob, LoraOptions, SFTJob

_ATTENTION = ["q_proj", "k_proj", "v_proj", "o_proj"]
_MLP = ["gate_proj", "up_proj", "down_proj"]
TARGET_MODULES: dict[str, list[str]] = {
    "llama": _ATTENTION + _MLP,
    "mistral": _ATTENTION + _MLP,
    "mixtral": _ATTENTION,
    "qwen2": _ATTENTION + _MLP,
    "qwen3": _ATTENTION + _MLP,
    "gemma": _ATTENTION + _MLP,
    "gemma2": _ATTENTION + _MLP,
    "phi3": ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"],
    "gpt2": ["c_attn", "c_proj"],
    "gpt_neox": ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"],
}
"""LoRA targets by ``config.model_type``: attention and MLP projections; other
architectures get peft's ``"all-linear"``."""
_CONV1D = ("gpt2",)  # weights stored transposed (Conv1D)


@dataclass
class Loaded:
    """A model ready for a trainer, its tokenizer, and how it was loaded."""

    model: Any
    tokenizer: Any
    ref: str
    device: str
    bf16: bool
    quantized: bool


def target_modules(model_type: str, override: list[str] | None = None) -> list[str] | str:
    """The LoRA target modules for an architecture (``override`` wins)."""
    if override:
        return list(override)
    return list(TARGET_MODULES.get(model_type, [])) or "all-linear"


def lora_config(model: Any, options: LoraOptions) -> Any:
    """A peft ``LoraConfig`` for ``model`` (a causal LM)."""
    try:
        from peft import LoraConfig
    except ImportError as e:
        raise missing_dependency("peft", "finetune", "LoRA fine-tuning") from e
    model_type = getattr(model.config, "model_type", "")
    return LoraConfig(
        r=options.r,
        lora_alpha=options.alpha,
        lora_dropout=options.dropout,
        target_modules=target_modules(model_type, options.target_modules),
        fan_in_fan_out=model_type in _CONV1D,
        bias="none",
        task_type="CAUSAL_LM",
    )


def load_job_model(job: SFTJob | DPOJob) -> Loaded:
    """The base model and tokenizer of an SFT or DPO job, loaded for training."""
    return load_for_training(
        job.base,
        method=job.method,
        device=job.device,
        bf16=job.bf16,
        gradient_checkpointing=job.gradient_checkpointing,
        trust_remote_code=job.trust_remote_code,
    )


def load_for_training(
    base: str,
    *,
    method: str,
    device: str | None = None,
    bf16: bool | None = None,
    gradient_checkpointing: bool = False,
    trust_remote_code: bool = False,
) -> Loaded:
    """Load ``base`` (a local folder or a cached hub id) for training. ``bf16=None``: bfloat16
    on a CUDA GPU that supports it; CPU trains in float32."""
    from agentkit.llms.hf.loading import check_4bit, hub_offline, resolve_device, resolve_source

    try:
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as e:
        raise missing_dependency("transformers", "finetune", "fine-tuning") from e
    if method == "qlora":
        try:
            check_4bit()
        except UsageError as e:
            raise UsageError(
                f"method='qlora' loads 4-bit weights, which needs a CUDA GPU and bitsandbytes "
                f"({e}); use method='lora' on this machine"
            ) from e
    source = resolve_source(base)
    dev = resolve_device(device)
    cuda = dev.startswith("cuda")
    if bf16 is None:
        bf16 = cuda and torch.cuda.is_bf16_supported()
    elif bf16 and not cuda:
        raise UsageError("bf16=True needs a CUDA GPU; leave bf16 unset (auto) to train in float32")
    options: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if hub_offline():
        options["local_files_only"] = True
    tokenizer = AutoTokenizer.from_pretrained(source.ref, **options)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    weights: dict[str, Any] = {dtype_key: torch.bfloat16 if bf16 else torch.float32}
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        weights["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if bf16 else torch.float16,
        )
        weights["device_map"] = {"": dev}
    model = AutoModelForCausalLM.from_pretrained(source.ref, **options, **weights)
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=gradient_checkpointing
        )
    else:
        model.to(dev)  # type: ignore[arg-type]
    model.config.use_cache = False
    # a hub model loads from a snapshot folder of the local cache; the adapter (peft's
    # base_model_name_or_path) and manifest name the hub id, which any machine's cache finds
    ref = source.key.removeprefix("hub:") if source.key.startswith("hub:") else source.ref
    model.name_or_path = model.config.name_or_path = ref
    return Loaded(model, tokenizer, ref, dev, bool(bf16), method == "qlora")
