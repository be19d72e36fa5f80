"""What each metric means, which ones matter for a run, and the compact summary table.

Every place that shows a run's metrics (``agentkit eval run``/``show``, the HTML report, the
app's Evaluations page, the demo) shows :func:`compact` values with the one-line
:func:`legend`; sums, token counts and the rest of the timing go in a details section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MEANINGS: dict[str, str] = {
    "em": "exact match with a gold answer after SQuAD normalisation (0-1)",
    "f1": "word overlap with the best gold answer (0-1)",
    "contains": "a gold answer appears in the answer",
    "context_contains": "a gold answer appears in the retrieved passages",
    "correct": "a judge model finds the answer correct",
    "faithfulness": "share of the answer's claims the passages support (judge)",
    "context_relevance": "share of retrieved passages relevant to the question (judge)",
    "bleu": "n-gram precision vs the gold answers (0-100)",
    "chrf": "character n-gram F-score vs the gold answers (0-100)",
    "wer": "word error rate vs the gold answer (lower is better)",
    "cer": "character error rate vs the gold answer (lower is better)",
    "levenshtein": "edit distance to the gold answer (lower is better)",
    "perplexity": "the model's perplexity on the gold answer (lower is better)",
    "mrr": "1 / rank of the first relevant document",
    "rougeL": "longest common word sequence with the gold answer (F, 0-1)",
    "latency": "seconds per example",
    "ttft": "seconds to the first streamed token",
    "prompt_tokens": "prompt tokens per example",
    "completion_tokens": "generated tokens per example",
    "total_tokens": "tokens per example",
    "model_calls": "model calls per example",
    "cost_usd": "US dollars per example",
    "wall_s": "seconds for the whole run",
    "examples_per_s": "examples finished per second",
}
_PATTERNS = (
    (re.compile(r"hit@(\d+)$"), "a relevant document in the top {}"),
    (re.compile(r"recall@(\d+)$"), "share of relevant documents in the top {}"),
    (re.compile(r"ndcg@(\d+)$"), "ranking quality of the top {} (1 = ideal order)"),
    (re.compile(r"rouge(\d)$"), "{}-gram overlap with the gold answer (F, 0-1)"),
    (re.compile(r"(latency|ttft)_(p\d+|mean)$"), "{}"),
)
DETAIL_SUFFIXES = ("_sum", "_error", "_count")
DETAIL_KEYS = frozenset(
    {"prompt_tokens", "completion_tokens", "total_tokens", "model_calls", "cost_usd"}
    | {"unpriced_models"}
)
MAIN_TIMING = ("latency_p50", "latency_p95", "ttft_p50")


def meaning(key: str) -> str | None:
    """What the summary key ``key`` measures (``None`` for a key this module does not know)."""
    if key in MEANINGS:
        return MEANINGS[key]
    base = key[: -len("_sum")] if key.endswith("_sum") else None
    if base in MEANINGS:
        return f"total {MEANINGS[base].replace(' per example', '')} over the run"
    for pattern, text in _PATTERNS:
        found = pattern.match(key)
        if found:
            if pattern.pattern.startswith("(latency"):
                what = "seconds per example" if found[1] == "latency" else MEANINGS["ttft"]
                return f"{what}, {'mean' if found[2] == 'mean' else found[2] + ' percentile'}"
            return text.format(found[1])
    return None


def _numbers(section: Any) -> dict[str, float]:
    if not isinstance(section, Mapping):
        return {}
    return {
        str(k): float(v)
        for k, v in section.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def compact(summary: Mapping[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """``(main, details)``: the mean of each quality metric and the median/p95 latency in
    ``main``; sums, token counts, costs, error flags and the other timing in ``details``."""
    main: dict[str, float] = {}
    details: dict[str, float] = {}
    for key, value in _numbers(summary.get("metrics")).items():
        detail = key in DETAIL_KEYS or key.endswith(DETAIL_SUFFIXES)
        (details if detail else main)[key] = value
    for key, value in _numbers(summary.get("timing")).items():
        (main if key in MAIN_TIMING else details)[key] = value
    return main, details


def _words(text: Any) -> int:
    return len(str(text or "").split())


def focus(
    summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]] = ()
) -> tuple[list[str], str]:
    """The metrics that matter for this run's chain, and why (one short clause).

    A chain whose answers are much longer than the gold spans (a sentence reader, a chat
    model) scores low EM by design: containment and F1 say more. A run without gold answers
    (a retriever) is read by its ranking metrics."""
    keys = [k for k in compact(summary)[0] if k not in MAIN_TIMING]
    ranking = [k for k in keys if k.startswith(("ndcg@", "hit@", "recall@")) or k == "mrr"]
    answers = [k for k in keys if k in ("em", "f1", "contains", "correct", "rougeL")]
    if ranking and not answers:
        chosen = [k for k in keys if k.startswith("ndcg@")][:1] + ["mrr"] * ("mrr" in keys)
        chosen += [k for k in keys if k.startswith("hit@")][-1:]
        return chosen or ranking[:2], "a retrieval run: read the ranking metrics"
    answered = [r for r in records if r.get("answers") and (r.get("prediction") or {}).get("text")]
    if answered and answers:
        predicted = sum(_words((r.get("prediction") or {}).get("text")) for r in answered)
        gold = sum(min(_words(a) for a in r["answers"]) for r in answered)
        if predicted > 3 * gold + 2 * len(answered):
            chosen = [k for k in ("contains", "f1", "correct") if k in keys]
            return chosen, "answers are sentences, longer than the gold spans, so EM stays low"
    chosen = [k for k in ("em", "f1", "correct") if k in keys]
    return chosen or keys[:2], "short answers compared with gold spans"


def legend(summary: Mapping[str, Any], records: Sequence[Mapping[str, Any]] = ()) -> str:
    """One line: what each shown metric measures, and which matter for this chain."""
    main = compact(summary)[0]
    parts, seen = [], set()
    for key in main:
        text = meaning(key)
        if text is None or key.startswith(("latency_", "ttft_")):
            continue
        parts.append(f"{key} = {text}")
        seen.add(key)
    if any(k.startswith("latency_") for k in main):
        parts.append("latency_p50/p95 = median / 95th-percentile seconds per example")
    chosen, why = focus(summary, records)
    line = "; ".join(parts)
    if chosen:
        line += f". Matter here: {', '.join(chosen)} ({why})."
    return line
