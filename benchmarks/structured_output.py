"""Structured output on a tiny random HF model: grammar-constrained validity and overhead,
plus the exact LLM cache on a repeated eval.

- ``valid_rate``: constrained generations (llguidance) against 5 JSON schemas (nested
  objects, enums, arrays, numbers, required/optional fields) that validate; target 1.0.
  Full run: 200 generations (5 x 40), quick: 5 x 8.
- ``valid_rate_unconstrained``: the same prompts and schemas without constraints.
- ``overhead``: constrained / unconstrained seconds per generated token (same model,
  prompts and max_new_tokens), timed one generation at a time: in a batch, rows that end
  early (constrained JSON is short) still cost a step until the longest row ends, which
  is batching's cost, not the grammar's; target <= 1.5.
- ``cache_speedup``: an eval of 200 examples (sequential invokes) with a cold run vs a
  rerun answered by the exact SQLite cache; target >= 20.
- ``mask_us_llguidance`` / ``mask_us_xgrammar``: the peer comparison, one mask step on the
  model's vocabulary (random walks under a schema of short strings) and the share of walks
  that give schema-valid JSON (``walk_valid_*``; xgrammar lets raw control characters and
  special tokens into strings).

Run: ``.venv/bin/python benchmarks/structured_output.py [--quick]``.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import emit, parse_args

PROMPTS = ["The cat", "Water", "Two plus two", "The sun", "Bees", "A week", "Trees", "Birds"]


def _schemas() -> list[dict[str, Any]]:
    from tests.llms.test_structured_output import SCHEMAS

    return SCHEMAS


def _valid(text: str, schema: dict[str, Any]) -> bool:
    import jsonschema

    try:
        data = json.loads(text)
    except ValueError:
        return False
    return not list(jsonschema.Draft202012Validator(schema).iter_errors(data))


def constrained_runs(model: Any, per_schema: int, timed: int) -> dict[str, float]:
    from agentkit.llms import user
    from agentkit.llms.structured import OutputSchema

    prompts = [[user(PROMPTS[i % len(PROMPTS)])] for i in range(per_schema)]
    stats = {"valid": 0, "valid_free": 0, "n": 0, "t_con": 0.0, "tok_con": 0, "t_free": 0.0}
    stats["tok_free"] = 0
    for schema in _schemas():
        bound = model.bind(response_format=OutputSchema(schema).closed())
        results = bound.generate_batch(prompts, max_concurrency=8)  # validity: batched
        stats["valid"] += sum(_valid(r.text, schema) for r in results)
        free = model.generate_batch(prompts, max_concurrency=8)
        stats["valid_free"] += sum(_valid(r.text, schema) for r in free)
        stats["n"] += len(results)
        for messages in prompts[:timed]:  # time per token: one generation at a time
            start = time.perf_counter()
            stats["tok_con"] += bound.generate(messages).usage.completion_tokens
            stats["t_con"] += time.perf_counter() - start
            start = time.perf_counter()
            stats["tok_free"] += model.generate(messages).usage.completion_tokens
            stats["t_free"] += time.perf_counter() - start
    return stats


def cache_speedup(model: Any, examples: int, folder: Path) -> tuple[float, float, float]:
    """(speedup, cold seconds, warm seconds) of a sequential eval rerun over the cache."""
    cached = model.with_cache(folder / "llm.sqlite")
    questions = [f"{PROMPTS[i % len(PROMPTS)]} {i}" for i in range(examples)]
    start = time.perf_counter()
    cold = [cached.invoke(q).content for q in questions]
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    warm = [cached.invoke(q).content for q in questions]
    warm_s = time.perf_counter() - start
    assert cold == warm
    return cold_s / warm_s, cold_s, warm_s


class _Walker:
    """Random walks under a grammar: ``mask(state)`` fills the allowed-token bitmask of one
    step (the timed part), ``advance(state, token)`` feeds the sampled token."""

    def __init__(self, name: str, start: Any, mask: Any, advance: Any) -> None:
        self.name, self.start, self.mask, self.advance = name, start, mask, advance
        self.spent, self.steps, self.valid, self.walks = 0.0, 0, 0, 0


def _walk(walker: _Walker, tokenizer: Any, schema: dict[str, Any], rng: random.Random) -> None:
    import numpy as np

    vocab, eos = len(tokenizer), tokenizer.eos_token_id
    state, tokens = walker.start(), []
    for _ in range(100):
        t0 = time.perf_counter()
        bits = walker.mask(state)
        allowed = np.flatnonzero(np.unpackbits(bits.view(np.uint8), bitorder="little")[:vocab])
        walker.spent += time.perf_counter() - t0
        walker.steps += 1
        token = int(rng.choice(list(allowed)))
        if token == eos:
            break
        walker.advance(state, token)
        tokens.append(token)
    walker.walks += 1
    walker.valid += _valid(tokenizer.decode(tokens), schema)


def mask_peers(tokenizer: Any, walks: int) -> dict[str, Any]:
    """Per-step mask time and validity of random walks, llguidance vs xgrammar, in
    interleaved walks (the same load on both)."""
    import llguidance
    import numpy as np

    from agentkit.llms.hf import grammar
    from agentkit.llms.structured import OutputSchema

    schema = OutputSchema(_schemas()[4]).closed()  # strings: where the libraries differ
    vocab, eos = len(tokenizer), tokenizer.eos_token_id
    lltok = grammar.ll_tokenizer(tokenizer, vocab, [eos])
    g = grammar.json_grammar(schema)
    ll_mask = np.full(((vocab + 31) // 32,), -1, dtype=np.int32)

    def ll_fill(m: Any) -> Any:
        m.unsafe_compute_mask_ptr(ll_mask.ctypes.data, ll_mask.nbytes)
        return ll_mask

    walkers = [
        _Walker(
            "llguidance",
            lambda: llguidance.LLMatcher(lltok, g),
            ll_fill,
            lambda m, t: m.consume_token(t),
        )
    ]
    try:
        import xgrammar as xgr
    except ImportError:
        xgr = None
    if xgr is not None:
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab)
        compiled = xgr.GrammarCompiler(info).compile_json_schema(
            json.dumps(schema), any_whitespace=False
        )
        xg_mask = xgr.allocate_token_bitmask(1, vocab)

        def xg_fill(m: Any) -> Any:
            m.fill_next_token_bitmask(xg_mask)
            return xg_mask[0].numpy()

        walkers.append(
            _Walker(
                "xgrammar",
                lambda: xgr.GrammarMatcher(compiled),
                xg_fill,
                lambda m, t: m.accept_token(t),
            )
        )
    for walker in walkers:  # warm-up walk, not counted
        _walk(walker, tokenizer, schema, random.Random(1))
        walker.spent, walker.steps, walker.valid, walker.walks = 0.0, 0, 0, 0
    rngs = {w.name: random.Random(0) for w in walkers}
    for _ in range(walks):
        for walker in walkers:
            _walk(walker, tokenizer, schema, rngs[walker.name])
    out: dict[str, Any] = {}
    for w in walkers:
        out[f"mask_us_{w.name}"] = round(w.spent / w.steps * 1e6, 1)
        out[f"walk_valid_{w.name}"] = round(w.valid / w.walks, 3)
    return out


def main() -> None:
    args = parse_args(__doc__ or "")
    import torch

    from agentkit.llms import model_requests
    from agentkit.llms.hf import HFChatModel
    from agentkit.testing.tiny_models import build_tiny_model

    torch.set_num_threads(1)
    per_schema = 8 if args.quick else 40
    with tempfile.TemporaryDirectory() as tmp, model_requests(True):
        folder = Path(tmp)
        model = HFChatModel(
            build_tiny_model(folder / "tiny"),
            params={"max_new_tokens": 40, "temperature": 1.0, "seed": 0},
        ).load()
        model.invoke("warm up")
        stats = constrained_runs(model, per_schema, 4 if args.quick else 16)
        speedup, cold_s, warm_s = cache_speedup(model.bind(max_new_tokens=2), 200, folder)
        peers = mask_peers(model.tokenizer, 40 if args.quick else 200)
    per_con = stats["t_con"] / max(stats["tok_con"], 1)
    per_free = stats["t_free"] / max(stats["tok_free"], 1)
    result = {
        "generations": int(stats["n"]),
        "valid_rate": round(stats["valid"] / stats["n"], 4),
        "valid_rate_unconstrained": round(stats["valid_free"] / stats["n"], 4),
        "overhead": round(per_con / per_free, 3),
        "ms_per_token_constrained": round(per_con * 1e3, 3),
        "ms_per_token_unconstrained": round(per_free * 1e3, 3),
        "cache_speedup": round(speedup, 1),
        "cache_cold_s": round(cold_s, 3),
        "cache_warm_s": round(warm_s, 3),
        "library": "llguidance",
        **peers,
    }
    emit(result, "structured_output", args.quick)


if __name__ == "__main__":
    main()
