"""Generation speed of ``HFChatModel``: true batching vs one conversation at a time.

CPU (always), on the tiny test Llama (``agentkit.testing.tiny_models``, random weights):
16 different prompts, every reply exactly ``N`` new tokens (``min_new_tokens``), greedy.
- ``batch_speedup``: tokens/s of one ``generate_batch`` call / tokens/s of 16 ``generate``
  calls (target >= 4 at batch 16);
- the peer in the same run is raw transformers ``model.generate`` on the same model and
  prompts (one at a time, and left-padded as a batch): ``overhead_single`` and
  ``overhead_batch`` are raw tokens/s / agentkit tokens/s (1.0 = no overhead).
Rounds are interleaved; figures are medians.

``--gpu`` (needs CUDA): a randomly initialised model of Qwen2-0.5B's shape in bfloat16:
tokens/s at batch 1, 8 and 32 (128 new tokens each) and time to first token (a 64-token
prompt, ``max_new_tokens=1``); ``gpu_speedup_b32`` = tokens/s at 32 / at 1 (target >= 10).

Run: ``.venv/bin/python benchmarks/generation.py [--quick] [--gpu]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import emit

PROMPTS = [
    "What is the capital of France?", "What is two plus two?", "Where do rivers go?",
    "The cat", "Water", "The sun", "Bees", "A week", "The moon", "Trees", "The train",
    "Birds", "Tell me about snow", "The farmer", "Children", "Hello there, who are you?",
]  # fmt: skip
QWEN2_05B = {
    "hidden_size": 896,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "intermediate_size": 4864,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "rope_theta": 1_000_000.0,
    "tie_word_embeddings": True,
}
TINY_QWEN2 = {**QWEN2_05B, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
              "intermediate_size": 128}  # fmt: skip


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run, no results file")
    parser.add_argument("--gpu", action="store_true", help="the Qwen2-0.5B-shaped run on CUDA")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    # hidden: exercise the --gpu path on a CPU with a tiny model of the same family
    parser.add_argument("--gpu-config", choices=["qwen2-0.5b", "tiny"], default="qwen2-0.5b",
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)
    return parser.parse_args()


def median_time(fn: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Median seconds per function, rounds interleaved (warm-up call first)."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def cpu_run(quick: bool) -> dict[str, Any]:
    import torch

    from agentkit.llms import GenerationParams, user
    from agentkit.llms.hf import HFChatModel
    from agentkit.testing.tiny_models import build_tiny_model

    new_tokens, rounds = (16, 2) if quick else (32, 5)
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_tiny_model(Path(tmp) / "tiny")
        model = HFChatModel(folder, hf_params={"min_new_tokens": new_tokens}).load()
        params = GenerationParams(temperature=0, max_new_tokens=new_tokens)
        chats = [[user(p)] for p in PROMPTS]
        raw, tok = model.hf_model, model.tokenizer
        texts = [tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                         add_generation_prompt=True) for p in PROMPTS]  # fmt: skip
        raw_args = {"max_new_tokens": new_tokens, "min_new_tokens": new_tokens,
                    "do_sample": False, "pad_token_id": tok.pad_token_id}  # fmt: skip

        def raw_generate(batch: list[str]) -> None:
            enc = tok(batch, return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.inference_mode():
                raw.generate(**enc, **raw_args)

        results = model.generate_batch(chats, params)
        assert all(r.usage.completion_tokens == new_tokens for r in results)
        seconds = interleaved(
            {
                "single": lambda: [model.generate(c, params) for c in chats],
                "batch": lambda: model.generate_batch(chats, params),
                "raw_single": lambda: [raw_generate([t]) for t in texts],
                "raw_batch": lambda: raw_generate(texts),
            },
            rounds,
        )
    tokens = len(PROMPTS) * new_tokens
    tps = {name: tokens / s for name, s in seconds.items()}
    return {
        "batch_size": len(PROMPTS),
        "new_tokens": new_tokens,
        "threads": torch.get_num_threads(),
        "single_tokens_per_s": round(tps["single"], 1),
        "batch_tokens_per_s": round(tps["batch"], 1),
        "batch_speedup": round(tps["batch"] / tps["single"], 2),
        "raw_single_tokens_per_s": round(tps["raw_single"], 1),
        "raw_batch_tokens_per_s": round(tps["raw_batch"], 1),
        "overhead_single": round(tps["raw_single"] / tps["single"], 3),
        "overhead_batch": round(tps["raw_batch"] / tps["batch"], 3),
    }


def gpu_run(config_name: str, device: str, quick: bool) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    from agentkit.llms import GenerationParams, user
    from agentkit.llms.hf import HFChatModel
    from agentkit.testing.tiny_models import build_tiny_model

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--gpu needs CUDA; none is available here")
    shape = QWEN2_05B if config_name == "qwen2-0.5b" else TINY_QWEN2
    new_tokens = 32 if quick or config_name == "tiny" else 128
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "qwen2-shape"
        # the tiny tokenizer (ids beyond its vocabulary decode to nothing: speed only)
        tok_dir = build_tiny_model(Path(tmp) / "tok", hidden=16, layers=1, heads=1)
        tok = AutoTokenizer.from_pretrained(tok_dir)
        ids = {"bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
               "pad_token_id": tok.pad_token_id}  # fmt: skip
        with torch.device(device):
            torch.manual_seed(0)
            net = Qwen2ForCausalLM(Qwen2Config(**shape, **ids)).to(torch.bfloat16)
        net.save_pretrained(folder)
        tok.save_pretrained(folder)
        del net
        model = HFChatModel(folder, device=device, dtype="bfloat16",
                            hf_params={"min_new_tokens": new_tokens}).load()  # fmt: skip
        prompt = " ".join(["The river flows to the sea and the sea returns as rain."] * 4)
        chat = [user(prompt)]
        params = GenerationParams(temperature=0, max_new_tokens=new_tokens)
        sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

        def run(batch: int) -> None:
            model.generate_batch([chat] * batch, params)
            sync()

        out: dict[str, Any] = {"gpu_config": config_name, "gpu_new_tokens": new_tokens}
        if device.startswith("cuda"):
            out["gpu_name"] = torch.cuda.get_device_name()
        first = model.bind(max_new_tokens=1, hf_params={"min_new_tokens": 1})
        first.generate(chat)
        out["gpu_prompt_tokens"] = first.generate(chat).usage.prompt_tokens
        out["gpu_ttft_ms"] = round(1000 * median_time(lambda: (first.generate(chat), sync()), 5), 2)
        for batch in (1, 8, 32):
            run(batch)  # warm-up
            seconds = median_time(lambda b=batch: run(b), 2 if quick else 3)  # type: ignore[misc]
            out[f"gpu_tokens_per_s_b{batch}"] = round(batch * new_tokens / seconds, 1)
        out["gpu_speedup_b32"] = round(out["gpu_tokens_per_s_b32"] / out["gpu_tokens_per_s_b1"], 2)
        if device.startswith("cuda"):
            out["gpu_peak_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def main() -> None:
    args = parse()
    import torch

    torch.set_num_threads(args.threads)
    if args.gpu:
        result = gpu_run(args.gpu_config, args.device, args.quick)
        result["targets"] = {"gpu_speedup_b32": ">= 10"}
        name = "generation_gpu"
    else:
        result = cpu_run(args.quick)
        result["targets"] = {"batch_speedup": ">= 4"}
        name = "generation"
    emit(result, name, args.quick or args.gpu_config == "tiny")


if __name__ == "__main__":
    main()
