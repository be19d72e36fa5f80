"""Question/passage pairs as model inputs: windows of at most ``max_length`` tokens over
the passage (``stride`` tokens of overlap), the question cut to ``max_question_tokens``,
with each token's character offsets into the passage. Training and reading share it, so a
span learned is a span read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class Feature:
    """One window: ``pair`` is the index of its (question, passage) pair; ``offsets[i]`` is
    the passage character span of token ``i`` (``None`` for question and special tokens)."""

    pair: int
    input_ids: list[int]
    token_type_ids: list[int] | None
    offsets: list[tuple[int, int] | None]


def fit_window(max_length: int, stride: int, model: Any) -> tuple[int, int]:
    """(max_length, stride) no longer than ``model``'s positions (a smaller encoder than
    MiniLM may hold fewer); the stride shrinks with the window."""
    positions = int(getattr(model.config, "max_position_embeddings", 0) or max_length)
    if max_length <= positions:
        return max_length, stride
    return positions, min(stride, positions // 2 - 1)


def cut_question(tokenizer: Any, question: str, max_tokens: int) -> str:
    """``question`` cut to its first ``max_tokens`` tokens."""
    encoded = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoded["offset_mapping"]
    if len(offsets) <= max_tokens:
        return question
    return question[: offsets[max_tokens - 1][1]]


def encode_pairs(
    tokenizer: Any,
    questions: Sequence[str],
    passages: Sequence[str],
    *,
    max_length: int = 256,
    stride: int = 96,
    max_question_tokens: int = 64,
    max_windows: int | None = None,
) -> list[Feature]:
    """The windows of every (question, passage) pair (a pair with an empty passage gets
    none). ``max_windows`` keeps only the first windows of each pair."""
    qs: list[str] = []
    ps: list[str] = []
    owners: list[int] = []
    for i, (q, p) in enumerate(zip(questions, passages, strict=True)):
        if not p.strip():
            continue
        qs.append(cut_question(tokenizer, q, max_question_tokens) or "?")
        ps.append(p)
        owners.append(i)
    if not qs:
        return []
    enc = tokenizer(
        qs,
        ps,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    mapping = enc["overflow_to_sample_mapping"]
    features: list[Feature] = []
    seen: dict[int, int] = {}
    for w, sample in enumerate(mapping):
        count = seen.get(sample, 0)
        seen[sample] = count + 1
        if max_windows is not None and count >= max_windows:
            continue
        sequence = enc.sequence_ids(w)
        offsets = [
            (int(o[0]), int(o[1])) if s == 1 else None
            for o, s in zip(enc["offset_mapping"][w], sequence, strict=True)
        ]
        types = enc["token_type_ids"][w] if "token_type_ids" in enc else None
        features.append(Feature(owners[sample], list(enc["input_ids"][w]), types, offsets))
    return features


def span_labels(feature: Feature, start_char: int, end_char: int) -> tuple[int, int]:
    """Token (start, end) of the answer characters ``[start_char, end_char)`` in this
    window, or ``(0, 0)`` (the first token: "no answer") when it is not wholly inside."""
    if start_char < 0:
        return 0, 0
    inside = [i for i, o in enumerate(feature.offsets) if o is not None]
    if not inside:
        return 0, 0
    first, last = inside[0], inside[-1]
    offsets = feature.offsets
    if offsets[first][0] > start_char or offsets[last][1] < end_char:  # type: ignore[index]
        return 0, 0
    start = first
    while start <= last and offsets[start][1] <= start_char:  # type: ignore[index]
        start += 1
    end = last
    while end >= first and offsets[end][0] >= end_char:  # type: ignore[index]
        end -= 1
    if start > end:
        return 0, 0
    return start, end


def pad_batch(features: Sequence[Feature], pad_id: int) -> dict[str, Any]:
    """Tensors of a batch padded to its longest window (dynamic padding)."""
    import torch

    width = max(len(f.input_ids) for f in features)
    ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), width), dtype=torch.long)
    types = torch.zeros((len(features), width), dtype=torch.long)
    for row, f in enumerate(features):
        n = len(f.input_ids)
        ids[row, :n] = torch.tensor(f.input_ids)
        mask[row, :n] = 1
        if f.token_type_ids is not None:
            types[row, :n] = torch.tensor(f.token_type_ids)
    batch: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
    if features[0].token_type_ids is not None:
        batch["token_type_ids"] = types
    return batch
