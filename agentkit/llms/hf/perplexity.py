"""Perplexity of texts under a loaded model: exp of the mean next-token negative
log-likelihood, per text, computed in right-padded batches."""

from __future__ import annotations

from collections.abc import Sequence

from agentkit.core.errors import UsageError
from agentkit.llms.hf.adapters import active_adapter
from agentkit.llms.hf.loading import Backbone


def perplexity(
    backbone: Backbone, adapter: str | None, texts: Sequence[str], batch_size: int = 8
) -> list[float]:
    """One perplexity per text (the tokenizer's special tokens, e.g. BOS, included)."""
    import torch
    import torch.nn.functional as F

    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise UsageError("perplexity() takes a list of strings, e.g. model.perplexity(['a text'])")
    if batch_size < 1:
        raise UsageError(f"batch_size must be >= 1, got {batch_size}")
    tok = backbone.tokenizer
    encoded: list[list[int]] = [list(tok(text)["input_ids"]) for text in texts]
    for i, tokens in enumerate(encoded):
        if len(tokens) < 2:
            raise UsageError(
                f"text {i} ({texts[i]!r}) has fewer than 2 tokens; perplexity needs a longer text"
            )
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    out: list[float] = []
    with backbone.lock, active_adapter(backbone, adapter) as model, torch.inference_mode():
        for start in range(0, len(encoded), batch_size):
            batch = encoded[start : start + batch_size]
            width = max(len(r) for r in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            labels = torch.full((len(batch), width), -100, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, row in enumerate(batch):
                ids[i, : len(row)] = torch.tensor(row)
                labels[i, : len(row)] = ids[i, : len(row)]
                mask[i, : len(row)] = 1
            logits = model(
                input_ids=ids.to(backbone.device), attention_mask=mask.to(backbone.device)
            ).logits.float()
            targets = labels[:, 1:].to(logits.device)
            nll = F.cross_entropy(
                logits[:, :-1].transpose(1, 2), targets, ignore_index=-100, reduction="none"
            )
            valid = (targets != -100).float()
            mean = (nll * valid).sum(dim=1) / valid.sum(dim=1)
            out += torch.exp(mean).tolist()
    return out
