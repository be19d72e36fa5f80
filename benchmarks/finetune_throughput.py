"""LoRA SFT throughput: tokens per second and peak memory of ``agentkit.finetune.train_sft``
on a randomly initialised model of Qwen2-0.5B's shape in bf16, without and with packing.

The data is synthetic text (sentences of random corpus words, lengths spread up to
``max_length`` tokens) so padding matters; both runs train one epoch on the same records.
Tokens per second counts the records' real tokens (not padding) over the training loop's
wall time (model loading excluded); peak memory is ``torch.cuda.max_memory_allocated``.

Needs a CUDA GPU. ``--quick`` is a CPU smoke run of the same code path on a tiny model of
the same architecture (its numbers measure nothing). Run:
``.venv/bin/python benchmarks/finetune_throughput.py [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import emit  # noqa: E402

QWEN2_05B = {
    "vocab_size": 151936,
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "max_position_embeddings": 32768,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": True,
}
TINY = {
    **QWEN2_05B,
    "vocab_size": 1024,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}
FULL_RUN = {"records": 2048, "max_length": 1024, "batch_size": 8}
QUICK_RUN = {"records": 48, "max_length": 64, "batch_size": 4}


def build_base(folder: Path, shape: dict[str, Any], bf16: bool) -> Path:
    """A randomly initialised Qwen2 of ``shape`` with the tiny test tokenizer (its ids are a
    subset of the model's vocabulary)."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from agentkit.testing.tiny_models import build_tiny_model

    tokenizer_dir = build_tiny_model(folder / "tokenizer", vocab_size=512, layers=1, hidden=16)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    ids = {k: getattr(tokenizer, k) for k in ("bos_token_id", "eos_token_id", "pad_token_id")}
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**shape, **ids))
    if bf16:
        model = model.to(torch.bfloat16)  # type: ignore[arg-type]
    base = folder / "base"
    model.save_pretrained(base, safe_serialization=True)
    tokenizer.save_pretrained(base)
    return base


def write_data(path: Path, records: int, max_length: int, seed: int = 0) -> int:
    """Text records of random corpus words, 8..max_length-2 words long; returns the words."""
    from agentkit.testing.tiny_models import DEFAULT_CORPUS

    words = sorted({w.strip(".,").lower() for text in DEFAULT_CORPUS for w in text.split()})
    rng = random.Random(seed)
    total = 0
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(records):
            n = rng.randint(8, max_length - 2)
            total += n
            fh.write(json.dumps({"text": " ".join(rng.choice(words) for _ in range(n))}) + "\n")
    return total


def train_once(
    base: Path, data: Path, out: Path, packing: bool, run: dict[str, Any], device: str
) -> dict[str, Any]:
    import torch

    from agentkit.finetune.jobs import LoraOptions, SFTJob
    from agentkit.finetune.registry import AdapterRegistry
    from agentkit.finetune.sft import train_sft

    marks: dict[str, float] = {}

    def clock(event: dict[str, Any]) -> None:
        if event["event"] in ("start", "end"):
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            marks[event["event"]] = time.perf_counter()
            marks["steps"] = event["step"]

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    job = SFTJob(
        data=str(data),
        output=str(out),
        base=str(base),
        epochs=1,
        batch_size=run["batch_size"],
        max_length=run["max_length"],
        packing=packing,
        learning_rate=1e-4,
        logging_steps=10,
        save_steps=100_000,
        device=device,
        lora=LoraOptions(r=16, alpha=32, dropout=0.0),
    )
    train_sft(job, progress=clock, registry=AdapterRegistry(out.parent / "registry"))
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
    return {
        "seconds": marks["end"] - marks["start"],
        "steps": int(marks["steps"]),
        "peak_gib": peak,
    }


def count_tokens(base: Path, data: Path, max_length: int) -> int:
    """Real (unpadded) tokens the runs train on: each record tokenised as train_sft does."""
    from transformers import AutoTokenizer

    from agentkit.finetune.data import load_data
    from agentkit.finetune.encode import encode_examples

    tokenizer = AutoTokenizer.from_pretrained(base)
    rows, _ = encode_examples(tokenizer, load_data(data).examples, "text", max_length=max_length)
    return sum(len(r.input_ids) for r in rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CPU smoke run on a tiny model")
    args = parser.parse_args(argv)
    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.quick:
        raise SystemExit("this benchmark needs a CUDA GPU; --quick runs the CPU smoke test")
    device = "cuda" if cuda and not args.quick else "cpu"
    if device == "cpu":
        torch.set_num_threads(2)
    run = QUICK_RUN if args.quick else FULL_RUN
    shape = TINY if args.quick else QWEN2_05B
    with tempfile.TemporaryDirectory(prefix="finetune_throughput_") as tmp:
        folder = Path(tmp)
        base = build_base(folder, shape, bf16=device == "cuda")
        data = folder / "data.jsonl"
        write_data(data, run["records"], run["max_length"])
        tokens = count_tokens(base, data, run["max_length"])
        results = {
            name: train_once(base, data, folder / name, packing, run, device)
            for name, packing in (("padded", False), ("packed", True))
        }
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "model": "Qwen2-0.5B shape, random init, bf16" if not args.quick else "tiny Qwen2 (smoke)",
        "lora": {"r": 16, "alpha": 32, "targets": "q,k,v,o,gate,up,down"},
        **run,
        "real_tokens": tokens,
    }
    for name, r in results.items():
        out[f"tokens_per_s_{name}"] = round(tokens / r["seconds"], 1)
        out[f"steps_{name}"] = r["steps"]
        if r["peak_gib"] is not None:
            out[f"peak_memory_gib_{name}"] = round(r["peak_gib"], 2)
    out["packing_speedup"] = round(out["tokens_per_s_packed"] / out["tokens_per_s_padded"], 2)
    if args.quick:
        out["quick_setting"] = "CPU smoke run of the code path on a tiny Qwen2; no throughput claim"
    emit(out, "finetune_throughput", args.quick)


if __name__ == "__main__":
    main()
